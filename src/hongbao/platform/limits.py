"""Every limit in one place (put a limit on everything).

Each number says how big a thing may get before hongbao refuses it with a clear error instead
of degrading. Chosen so that int64 columns can never overflow: the largest balance is
``MAX_TRANSFER_AMOUNT`` times a very large number of transfers and still fits.
"""

from __future__ import annotations

# 10 billion yuan in fen: far above any red packet or enterprise budget, far below 2**63.
MAX_TRANSFER_AMOUNT = 1_000_000_000_000
# Running account totals must stay below this; int64 holds 9.2e18.
MAX_ACCOUNT_TOTAL = 4_000_000_000_000_000_000
MAX_BATCH_SIZE = 1_000
MAX_ID_LENGTH = 128
MAX_REFERENCE_LENGTH = 256
MAX_CODE = 65_535
# A pending transfer stays open at most 31 days (the longest hold any later rule needs).
MAX_PENDING_TIMEOUT_SECONDS = 31 * 24 * 3600
MAX_SPLIT_PARTS = 10_000
MAX_TRANSACTION_ATTEMPTS = 8
MAX_EXPIRY_SWEEP = 1_000
