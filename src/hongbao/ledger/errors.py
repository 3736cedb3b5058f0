"""The error codes of the ledger's requests that cannot be understood at all.

Expected refusals of transfers are result codes (``hongbao.ledger.results``), not errors.
"""

from __future__ import annotations

from hongbao.platform.errors import ErrorCode, Outcome


class LedgerCode(ErrorCode):
    """Codes of the errors the ledger raises; clients switch on their wire values."""

    UNKNOWN_ACCOUNT = (
        "ledger.unknown_account",
        Outcome.NOT_FOUND,
        "找不到这个账户。",
        "No such ledger account.",
    )
    BATCH_TOO_LARGE = (
        "ledger.batch_too_large",
        Outcome.REFUSED,
        "一次提交的账务操作太多。",
        "The batch is too large.",
    )
