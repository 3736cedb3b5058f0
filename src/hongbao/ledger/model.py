"""Ledger records: accounts, transfer requests, stored transfers, postings and pending states.

Every record is an immutable value. Amounts are integers in the account currency's minor unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from hongbao.platform.errors import InvalidInput, PlatformCode

CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
GENESIS_HASH = "0" * 64


def require_integer(value: object, field: str) -> int:
    """Refuse floats, bools and strings where an integer amount is expected."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            f"{field} must be an integer number of minor units (fen), got {type(value).__name__}",
            code=PlatformCode.INPUT_NOT_INTEGER,
            field=field,
        )
    return value


class AccountKind(StrEnum):
    USER_BALANCE = "user_balance"
    USER_MONEY_MARKET = "user_money_market"
    PACKET_ESCROW = "packet_escrow"
    DEBIT_CARD = "funding_debit_card"
    CREDIT_CARD = "funding_credit_card"
    FOREIGN_CARD = "funding_foreign_card"
    REFUND_CLEARING = "refund_clearing"
    FEE_REVENUE = "fee_revenue"
    FX_POSITION = "fx_position"
    RISK_HOLD = "risk_hold"
    DISTRIBUTION_BUDGET = "distribution_budget"  # a distributor's budget (多级分销, R-F5)


@dataclass(frozen=True, slots=True)
class AccountFlags:
    """Balance constraints checked on every transfer (and by the database where it can)."""

    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False


NEVER_NEGATIVE = AccountFlags(debits_must_not_exceed_credits=True)
# External funding sources are debited when money comes in from them; a refund can return at
# most what was taken, so their credits may never exceed their debits.
EXTERNAL_SOURCE = AccountFlags(credits_must_not_exceed_debits=True)

DEFAULT_FLAGS: dict[AccountKind, AccountFlags] = {
    AccountKind.USER_BALANCE: NEVER_NEGATIVE,
    AccountKind.USER_MONEY_MARKET: NEVER_NEGATIVE,
    AccountKind.PACKET_ESCROW: NEVER_NEGATIVE,
    AccountKind.DEBIT_CARD: EXTERNAL_SOURCE,
    AccountKind.CREDIT_CARD: EXTERNAL_SOURCE,
    AccountKind.FOREIGN_CARD: EXTERNAL_SOURCE,
    AccountKind.REFUND_CLEARING: NEVER_NEGATIVE,
    AccountKind.FEE_REVENUE: NEVER_NEGATIVE,
    # The FX position absorbs exchange differences in both directions.
    AccountKind.FX_POSITION: AccountFlags(),
    AccountKind.RISK_HOLD: NEVER_NEGATIVE,
    AccountKind.DISTRIBUTION_BUDGET: NEVER_NEGATIVE,
}


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A request to open an account. Opening is idempotent on ``id``."""

    id: str
    kind: AccountKind
    currency: str
    flags: AccountFlags | None = None
    reference: str | None = None

    def resolved_flags(self) -> AccountFlags:
        return self.flags if self.flags is not None else DEFAULT_FLAGS[self.kind]


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    kind: AccountKind
    currency: str
    flags: AccountFlags
    reference: str | None
    created_at_us: int
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0
    journal_sequence: int = 0
    journal_head: str = GENESIS_HASH

    @property
    def credit_balance(self) -> int:
        """Posted credits minus posted debits: what a user balance account holds."""
        return self.credits_posted - self.debits_posted

    @property
    def available_credit_balance(self) -> int:
        """Credit balance less money reserved by pending debits: what may still be spent."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    def same_definition(self, request: NewAccount) -> bool:
        return (
            self.kind == request.kind
            and self.currency == request.currency
            and self.flags == request.resolved_flags()
            and self.reference == request.reference
        )

    def with_delta(self, delta: BalanceDelta, head: str) -> Account:
        # Built directly rather than with dataclasses.replace: this runs twice per transfer.
        return Account(
            id=self.id,
            kind=self.kind,
            currency=self.currency,
            flags=self.flags,
            reference=self.reference,
            created_at_us=self.created_at_us,
            debits_pending=self.debits_pending + delta.debits_pending,
            debits_posted=self.debits_posted + delta.debits_posted,
            credits_pending=self.credits_pending + delta.credits_pending,
            credits_posted=self.credits_posted + delta.credits_posted,
            journal_sequence=self.journal_sequence + 1,
            journal_head=head,
        )


class TransferKind(StrEnum):
    POSTED = "posted"  # moves money at once
    PENDING = "pending"  # reserves money until posted, voided or expired
    POST_PENDING = "post_pending"  # completes a pending transfer, fully or partly
    VOID_PENDING = "void_pending"  # releases a pending transfer


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """What a client asks the ledger to do. ``id`` makes the request idempotent.

    For ``POST_PENDING`` and ``VOID_PENDING`` the accounts and currency may be left empty (they
    are taken from the pending transfer); ``amount=None`` posts the full pending amount.
    ``linked=True`` chains this transfer to the next one in the batch: the chain succeeds or
    fails as a whole.
    """

    id: str
    code: int
    amount: int | None
    debit_account_id: str | None = None
    credit_account_id: str | None = None
    currency: str | None = None
    kind: TransferKind = TransferKind.POSTED
    pending_id: str | None = None
    timeout_seconds: int = 0
    linked: bool = False
    reference: str | None = None

    def __post_init__(self) -> None:
        if self.amount is not None:
            require_integer(self.amount, "amount")
        require_integer(self.code, "code")
        require_integer(self.timeout_seconds, "timeout_seconds")


@dataclass(frozen=True, slots=True)
class Transfer:
    """A transfer the ledger accepted. Never changed after it is written."""

    id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    currency: str
    code: int
    kind: TransferKind
    pending_id: str | None
    timeout_seconds: int
    expires_at_us: int | None
    reference: str | None
    timestamp_us: int
    digest: str


class PendingState(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class PendingRecord:
    """The open/closed state of one pending transfer (the transfer itself stays immutable)."""

    transfer_id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    expires_at_us: int | None
    state: PendingState = PendingState.PENDING
    resolved_by: str | None = None
    resolved_at_us: int | None = None


class PostingEvent(StrEnum):
    POSTED = "posted"
    PENDING = "pending"
    POST_PENDING = "post_pending"
    VOID_PENDING = "void_pending"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class BalanceDelta:
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0


@dataclass(frozen=True, slots=True)
class Posting:
    """One entry of an account's hash-chained journal: how one event changed its balances."""

    account_id: str
    sequence: int
    transfer_id: str
    event: PostingEvent
    delta: BalanceDelta
    timestamp_us: int
    transfer_digest: str
    previous_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Rejection:
    """A transfer id that failed on balance grounds. It stays failed (TigerBeetle semantics).

    Only failures that depend on the ledger's state at the time (insufficient funds) are kept:
    a retry of the same id must not quietly succeed later when the balance has changed.
    Malformed requests write nothing at all; they fail the same way every time.
    """

    id: str
    request_digest: str
    result: str
    timestamp_us: int
