"""The ledger's decision logic, free of I/O.

A :class:`Workspace` holds the rows one unit of work loaded (accounts already locked) and
applies a batch of transfer requests to them in memory, producing result codes and the rows to
write. Storage adapters only load and save; every rule about money lives here, so the same rules
run on SQLite, PostgreSQL and the in-memory fake.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from hongbao.ledger import hashing
from hongbao.ledger.model import (
    Account,
    BalanceDelta,
    PendingRecord,
    PendingState,
    Posting,
    PostingEvent,
    Rejection,
    Transfer,
    TransferKind,
    TransferRequest,
)
from hongbao.ledger.results import TransferResult, TransferResultCode
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, is_due
from hongbao.platform.ids import is_valid_id
from hongbao.platform.invariants import invariant, present
from hongbao.platform.limits import (
    MAX_ACCOUNT_TOTAL,
    MAX_CODE,
    MAX_PENDING_TIMEOUT_SECONDS,
    MAX_REFERENCE_LENGTH,
    MAX_TRANSFER_AMOUNT,
)

Code = TransferResultCode
_CLOSED_PENDING_CODES = {
    PendingState.POSTED: Code.PENDING_TRANSFER_ALREADY_POSTED,
    PendingState.VOIDED: Code.PENDING_TRANSFER_ALREADY_VOIDED,
    PendingState.EXPIRED: Code.PENDING_TRANSFER_EXPIRED,
}


class Rejected(Exception):
    """Raised inside the engine to stop evaluating one request; never escapes the engine."""

    def __init__(self, code: TransferResultCode) -> None:
        super().__init__(code.value)
        self.code = code


@dataclass
class Changes:
    """Rows a unit of work must write. Balances are absolute values, already checked."""

    accounts: dict[str, Account] = field(default_factory=dict)
    transfers: list[Transfer] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
    pending_created: dict[str, PendingRecord] = field(default_factory=dict)
    pending_updated: dict[str, PendingRecord] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.transfers or self.postings or self.rejections)


@dataclass
class _Checkpoint:
    accounts: dict[str, Account]
    transfers: dict[str, Transfer]
    pending: dict[str, PendingRecord]
    changed_accounts: dict[str, Account]
    pending_created: dict[str, PendingRecord]
    pending_updated: dict[str, PendingRecord]
    transfer_count: int
    posting_count: int


class Workspace:
    """Applies requests to loaded rows. Accounts must be locked by the caller beforehand."""

    def __init__(
        self,
        *,
        now_us: int,
        accounts: dict[str, Account],
        transfers: dict[str, Transfer],
        rejections: dict[str, Rejection],
        pending: dict[str, PendingRecord],
    ) -> None:
        self._now_us = now_us
        self._accounts = dict(accounts)
        self._transfers = dict(transfers)
        self._rejections = dict(rejections)
        self._pending = dict(pending)
        self.changes = Changes()

    # ----------------------------------------------------------------------------- batches

    def apply_batch(self, requests: Sequence[TransferRequest]) -> list[TransferResult]:
        results: list[TransferResult] = []
        chain: list[TransferRequest] = []
        for request in requests:
            chain.append(request)
            if not request.linked:
                results.extend(self._apply_chain(chain))
                chain = []
        if chain:
            # TigerBeetle semantics: a batch ending in an open chain applies none of that chain.
            results.extend(TransferResult(item.id, Code.LINKED_EVENT_FAILED) for item in chain[:-1])
            results.append(TransferResult(chain[-1].id, Code.LINKED_EVENT_CHAIN_OPEN))
        invariant(len(results) == len(requests), "one result per request")
        return results

    def _apply_chain(self, chain: list[TransferRequest]) -> list[TransferResult]:
        if len(chain) == 1:
            code = self._apply_one(chain[0])
            self._remember_sticky_failure(chain[0], code)
            return [TransferResult(chain[0].id, code)]
        checkpoint = self._checkpoint()
        codes: list[TransferResultCode] = []
        for request in chain:
            code = self._apply_one(request)
            codes.append(code)
            if not code.succeeded:
                self._restore(checkpoint)
                failed_at = len(codes) - 1
                self._remember_sticky_failure(request, code)
                return [
                    TransferResult(
                        item.id, code if index == failed_at else Code.LINKED_EVENT_FAILED
                    )
                    for index, item in enumerate(chain)
                ]
        return [TransferResult(item.id, code) for item, code in zip(chain, codes, strict=True)]

    def _remember_sticky_failure(self, request: TransferRequest, code: TransferResultCode) -> None:
        if not code.sticky:
            return
        rejection = Rejection(
            id=request.id,
            request_digest=hashing.request_digest(request),
            result=code.value,
            timestamp_us=self._now_us,
        )
        self._rejections[request.id] = rejection
        self.changes.rejections.append(rejection)

    def _checkpoint(self) -> _Checkpoint:
        return _Checkpoint(
            accounts=dict(self._accounts),
            transfers=dict(self._transfers),
            pending=dict(self._pending),
            changed_accounts=dict(self.changes.accounts),
            pending_created=dict(self.changes.pending_created),
            pending_updated=dict(self.changes.pending_updated),
            transfer_count=len(self.changes.transfers),
            posting_count=len(self.changes.postings),
        )

    def _restore(self, checkpoint: _Checkpoint) -> None:
        self._accounts = checkpoint.accounts
        self._transfers = checkpoint.transfers
        self._pending = checkpoint.pending
        self.changes.accounts = checkpoint.changed_accounts
        self.changes.pending_created = checkpoint.pending_created
        self.changes.pending_updated = checkpoint.pending_updated
        del self.changes.transfers[checkpoint.transfer_count :]
        del self.changes.postings[checkpoint.posting_count :]

    # ---------------------------------------------------------------------------- requests

    def _apply_one(self, request: TransferRequest) -> TransferResultCode:
        try:
            if not is_valid_id(request.id):
                return Code.ID_INVALID
            existing = self._transfers.get(request.id)
            if existing is not None:
                same = _same_fields(request, existing, self._asked_amount(request))
                return Code.EXISTS if same else Code.EXISTS_WITH_DIFFERENT_FIELDS
            if request.id in self._rejections:
                return Code.ID_ALREADY_FAILED
            _validate_shape(request)
            if request.kind in (TransferKind.POSTED, TransferKind.PENDING):
                self._create(request)
            else:
                self._resolve_pending(request)
        except Rejected as rejected:
            return rejected.code
        return Code.OK

    def _asked_amount(self, request: TransferRequest) -> int | None:
        """The amount a request means: an omitted amount on a post or void is the whole hold."""
        if request.amount is not None or request.kind in (
            TransferKind.POSTED,
            TransferKind.PENDING,
        ):
            return request.amount
        original = self._transfers.get(request.pending_id or "")
        return original.amount if original is not None else None

    def _create(self, request: TransferRequest) -> None:
        debit = self._account(request.debit_account_id, Code.DEBIT_ACCOUNT_NOT_FOUND)
        credit = self._account(request.credit_account_id, Code.CREDIT_ACCOUNT_NOT_FOUND)
        if debit.currency != credit.currency or request.currency != debit.currency:
            raise Rejected(Code.CURRENCY_MISMATCH)
        amount = present(request.amount, "validated earlier: the amount is present")
        pending = request.kind is TransferKind.PENDING
        _check_room(debit, credit, amount)
        expires_at_us = (
            self._now_us + request.timeout_seconds * MICROSECONDS_PER_SECOND
            if pending and request.timeout_seconds > 0
            else None
        )
        transfer = self._record_transfer(
            request,
            debit_account_id=debit.id,
            credit_account_id=credit.id,
            amount=amount,
            currency=debit.currency,
            expires_at_us=expires_at_us,
        )
        if pending:
            self._pending[transfer.id] = PendingRecord(
                transfer_id=transfer.id,
                debit_account_id=debit.id,
                credit_account_id=credit.id,
                amount=amount,
                expires_at_us=expires_at_us,
            )
            self.changes.pending_created[transfer.id] = self._pending[transfer.id]
            self._post(transfer, PostingEvent.PENDING, debit, BalanceDelta(debits_pending=amount))
            self._post(transfer, PostingEvent.PENDING, credit, BalanceDelta(credits_pending=amount))
        else:
            self._post(transfer, PostingEvent.POSTED, debit, BalanceDelta(debits_posted=amount))
            self._post(transfer, PostingEvent.POSTED, credit, BalanceDelta(credits_posted=amount))

    def _resolve_pending(self, request: TransferRequest) -> None:
        pending_id = present(request.pending_id, "validated earlier: the pending id is present")
        original = self._transfers.get(pending_id)
        if original is None:
            raise Rejected(Code.PENDING_TRANSFER_NOT_FOUND)
        record = self._pending.get(pending_id)
        if original.kind is not TransferKind.PENDING or record is None:
            raise Rejected(Code.PENDING_TRANSFER_NOT_PENDING)
        if request.debit_account_id not in (None, original.debit_account_id) or (
            request.credit_account_id not in (None, original.credit_account_id)
        ):
            raise Rejected(Code.PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS)
        if request.currency not in (None, original.currency):
            raise Rejected(Code.CURRENCY_MISMATCH)
        if record.state is not PendingState.PENDING:
            raise Rejected(_CLOSED_PENDING_CODES[record.state])
        if is_due(record.expires_at_us, self._now_us):
            raise Rejected(Code.PENDING_TRANSFER_EXPIRED)
        posting = request.kind is TransferKind.POST_PENDING
        amount = request.amount if request.amount is not None else record.amount
        if posting and amount > record.amount:
            raise Rejected(Code.EXCEEDS_PENDING_TRANSFER_AMOUNT)
        if not posting and amount != record.amount:
            raise Rejected(Code.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT)
        transfer = self._record_transfer(
            request,
            debit_account_id=original.debit_account_id,
            credit_account_id=original.credit_account_id,
            amount=amount,
            currency=original.currency,
            expires_at_us=None,
        )
        new_state = PendingState.POSTED if posting else PendingState.VOIDED
        self._close_pending(record, new_state, resolved_by=transfer.id)
        posted = amount if posting else 0
        event = PostingEvent.POST_PENDING if posting else PostingEvent.VOID_PENDING
        self._release(transfer, event, record, posted)

    def expire(self, pending_id: str) -> bool:
        """Release a pending transfer whose timeout has passed. False if it is not due."""
        record = self._pending.get(pending_id)
        if record is None or record.state is not PendingState.PENDING:
            return False
        if not is_due(record.expires_at_us, self._now_us):
            return False
        original = self._transfers[pending_id]
        self._close_pending(record, PendingState.EXPIRED, resolved_by=None)
        self._release(original, PostingEvent.EXPIRED, record, posted=0)
        return True

    # ----------------------------------------------------------------------------- helpers

    def _account(self, account_id: str | None, missing: TransferResultCode) -> Account:
        account = self._accounts.get(account_id) if account_id is not None else None
        if account is None:
            raise Rejected(missing)
        return account

    def _record_transfer(
        self,
        request: TransferRequest,
        *,
        debit_account_id: str,
        credit_account_id: str,
        amount: int,
        currency: str,
        expires_at_us: int | None,
    ) -> Transfer:
        def signed(digest: str) -> Transfer:
            return Transfer(
                id=request.id,
                debit_account_id=debit_account_id,
                credit_account_id=credit_account_id,
                amount=amount,
                currency=currency,
                code=request.code,
                kind=request.kind,
                pending_id=request.pending_id,
                timeout_seconds=request.timeout_seconds,
                expires_at_us=expires_at_us,
                reference=request.reference,
                timestamp_us=self._now_us,
                digest=digest,
            )

        # Built twice instead of dataclasses.replace, which costs more on this hot path.
        transfer = signed(hashing.transfer_digest(signed("")))
        self._transfers[transfer.id] = transfer
        self.changes.transfers.append(transfer)
        return transfer

    def _close_pending(
        self, record: PendingRecord, state: PendingState, resolved_by: str | None
    ) -> None:
        closed = replace(record, state=state, resolved_by=resolved_by, resolved_at_us=self._now_us)
        self._pending[record.transfer_id] = closed
        if record.transfer_id in self.changes.pending_created:
            self.changes.pending_created[record.transfer_id] = closed
        else:
            self.changes.pending_updated[record.transfer_id] = closed

    def _release(
        self, transfer: Transfer, event: PostingEvent, record: PendingRecord, posted: int
    ) -> None:
        """Move a pending amount out of pending; ``posted`` of it becomes posted."""
        debit = self._accounts[record.debit_account_id]
        credit = self._accounts[record.credit_account_id]
        self._post(
            transfer,
            event,
            debit,
            BalanceDelta(debits_pending=-record.amount, debits_posted=posted),
        )
        self._post(
            transfer,
            event,
            credit,
            BalanceDelta(credits_pending=-record.amount, credits_posted=posted),
        )

    def _post(
        self, transfer: Transfer, event: PostingEvent, account: Account, delta: BalanceDelta
    ) -> None:
        account = self._accounts[account.id]  # the freshest value, in case of earlier changes

        def signed(hash_: str) -> Posting:
            return Posting(
                account_id=account.id,
                sequence=account.journal_sequence + 1,
                transfer_id=transfer.id,
                event=event,
                delta=delta,
                timestamp_us=self._now_us,
                transfer_digest=transfer.digest,
                previous_hash=account.journal_head,
                hash=hash_,
            )

        posting = signed(hashing.posting_hash(signed("")))
        updated = account.with_delta(delta, posting.hash)
        _check_account(updated)
        self._accounts[account.id] = updated
        self.changes.accounts[account.id] = updated
        self.changes.postings.append(posting)


# --------------------------------------------------------------------------------- rules


def _validate_shape(request: TransferRequest) -> None:
    """Checks that need no stored data. Raises :class:`Rejected` with the first problem."""
    if not 1 <= request.code <= MAX_CODE:
        raise Rejected(Code.CODE_INVALID)
    if request.reference is not None and len(request.reference) > MAX_REFERENCE_LENGTH:
        raise Rejected(Code.REFERENCE_TOO_LONG)
    if request.amount is not None and request.amount <= 0:
        raise Rejected(Code.AMOUNT_MUST_BE_POSITIVE)
    if request.amount is not None and request.amount > MAX_TRANSFER_AMOUNT:
        raise Rejected(Code.AMOUNT_EXCEEDS_LIMIT)
    if not 0 <= request.timeout_seconds <= MAX_PENDING_TIMEOUT_SECONDS:
        raise Rejected(Code.TIMEOUT_INVALID)
    if request.kind in (TransferKind.POSTED, TransferKind.PENDING):
        _validate_new_transfer_shape(request)
    else:
        _validate_resolution_shape(request)


def _validate_new_transfer_shape(request: TransferRequest) -> None:
    if request.pending_id is not None:
        raise Rejected(Code.PENDING_ID_MUST_BE_BLANK)
    if request.kind is TransferKind.POSTED and request.timeout_seconds != 0:
        raise Rejected(Code.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER)
    if request.amount is None:
        raise Rejected(Code.AMOUNT_MUST_BE_POSITIVE)
    if request.debit_account_id is None:
        raise Rejected(Code.DEBIT_ACCOUNT_REQUIRED)
    if request.credit_account_id is None:
        raise Rejected(Code.CREDIT_ACCOUNT_REQUIRED)
    if request.debit_account_id == request.credit_account_id:
        raise Rejected(Code.ACCOUNTS_MUST_BE_DIFFERENT)
    if request.currency is None:
        raise Rejected(Code.CURRENCY_MISMATCH)


def _validate_resolution_shape(request: TransferRequest) -> None:
    if request.pending_id is None or not is_valid_id(request.pending_id):
        raise Rejected(Code.PENDING_ID_REQUIRED)
    if request.pending_id == request.id:
        raise Rejected(Code.PENDING_ID_MUST_BE_DIFFERENT)
    if request.timeout_seconds != 0:
        raise Rejected(Code.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER)


def _check_room(debit: Account, credit: Account, amount: int) -> None:
    """Balance flags and overflow, checked before reserving or moving ``amount``."""
    debit_total = debit.debits_pending + debit.debits_posted + amount
    credit_total = credit.credits_pending + credit.credits_posted + amount
    if debit.flags.debits_must_not_exceed_credits and debit_total > debit.credits_posted:
        raise Rejected(Code.EXCEEDS_CREDITS)
    if credit.flags.credits_must_not_exceed_debits and credit_total > credit.debits_posted:
        raise Rejected(Code.EXCEEDS_DEBITS)
    if debit_total > MAX_ACCOUNT_TOTAL or credit_total > MAX_ACCOUNT_TOTAL:
        raise Rejected(Code.OVERFLOW)


def _check_account(account: Account) -> None:
    """Post-condition after every posting: no negative total, no broken flag."""
    invariant(
        min(
            account.debits_pending,
            account.debits_posted,
            account.credits_pending,
            account.credits_posted,
        )
        >= 0,
        "account totals never go negative",
        account_id=account.id,
    )
    invariant(
        not account.flags.debits_must_not_exceed_credits
        or account.debits_pending + account.debits_posted <= account.credits_posted,
        "debits must not exceed credits",
        account_id=account.id,
    )
    invariant(
        not account.flags.credits_must_not_exceed_debits
        or account.credits_pending + account.credits_posted <= account.debits_posted,
        "credits must not exceed debits",
        account_id=account.id,
    )


def _same_fields(request: TransferRequest, stored: Transfer, asked_amount: int | None) -> bool:
    """A retry matches when every field the client gave (or implied) equals what was stored."""
    if request.kind in (TransferKind.POSTED, TransferKind.PENDING) and None in (
        request.debit_account_id,
        request.credit_account_id,
        request.currency,
        request.amount,
    ):
        return False
    given: Iterable[tuple[object, object]] = (
        (request.debit_account_id, stored.debit_account_id),
        (request.credit_account_id, stored.credit_account_id),
        (request.currency, stored.currency),
    )
    return (
        all(asked is None or asked == kept for asked, kept in given)
        and asked_amount == stored.amount
        and request.kind is stored.kind
        and request.code == stored.code
        and request.pending_id == stored.pending_id
        and request.timeout_seconds == stored.timeout_seconds
        and request.reference == stored.reference
    )
