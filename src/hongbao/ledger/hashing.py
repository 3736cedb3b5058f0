"""Digests for the tamper-evident journal.

Each account has its own hash chain of postings. A posting's hash covers its own content, the
digest of the transfer that caused it, and the previous hash in that account's chain. Chains
are per account because the account row is already locked to update its balance: extending
its chain costs no extra lock, so the journal never becomes a global lock on the write path.
"""

from __future__ import annotations

import hashlib

from hongbao.ledger.model import Posting, Transfer, TransferRequest

# A unit separator cannot appear in ids (platform.ids.ID_PATTERN), so fields cannot run together.
SEPARATOR = "\x1f"


def _digest(*fields: object) -> str:
    text = SEPARATOR.join("" if field is None else str(field) for field in fields)
    return hashlib.sha256(text.encode()).hexdigest()


def transfer_digest(transfer: Transfer) -> str:
    return _digest(
        "transfer/v1",
        transfer.id,
        transfer.debit_account_id,
        transfer.credit_account_id,
        transfer.amount,
        transfer.currency,
        transfer.code,
        transfer.kind.value,
        transfer.pending_id,
        transfer.timeout_seconds,
        transfer.expires_at_us,
        transfer.reference,
        transfer.timestamp_us,
    )


def request_digest(request: TransferRequest) -> str:
    """Identifies what a client asked for, to tell a retry from a different use of an id."""
    return _digest(
        "request/v1",
        request.id,
        request.debit_account_id,
        request.credit_account_id,
        request.amount,
        request.currency,
        request.code,
        request.kind.value,
        request.pending_id,
        request.timeout_seconds,
        request.linked,
        request.reference,
    )


def posting_hash(posting: Posting) -> str:
    delta = posting.delta
    return _digest(
        "posting/v1",
        posting.previous_hash,
        posting.account_id,
        posting.sequence,
        posting.transfer_id,
        posting.event.value,
        delta.debits_pending,
        delta.debits_posted,
        delta.credits_pending,
        delta.credits_posted,
        posting.timestamp_us,
        posting.transfer_digest,
    )
