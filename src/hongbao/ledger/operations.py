"""Ledger operations that run inside a caller's unit of work.

Later contexts (packets, recalls, refunds) call these inside their own transaction, so that
their state change and the money movement commit together or not at all (R-M4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hongbao.ledger.engine import Workspace
from hongbao.ledger.errors import LedgerCode
from hongbao.ledger.model import (
    Account,
    NewAccount,
    PendingState,
    TransferRequest,
)
from hongbao.ledger.ports import LedgerRepository
from hongbao.ledger.results import (
    AccountResult,
    AccountResultCode,
    TransferResult,
)
from hongbao.money import CURRENCIES
from hongbao.platform.errors import LimitExceeded
from hongbao.platform.ids import is_valid_id
from hongbao.platform.invariants import invariant
from hongbao.platform.limits import MAX_BATCH_SIZE, MAX_REFERENCE_LENGTH


def check_batch_size(size: int) -> None:
    if size > MAX_BATCH_SIZE:
        raise LimitExceeded(
            f"a batch holds at most {MAX_BATCH_SIZE} items, got {size}",
            code=LedgerCode.BATCH_TOO_LARGE,
            limit=MAX_BATCH_SIZE,
            size=size,
        )


def create_accounts(
    repository: LedgerRepository, requests: Sequence[NewAccount], now_us: int
) -> list[AccountResult]:
    check_batch_size(len(requests))
    existing = repository.get_accounts([request.id for request in requests])
    return _create_accounts(repository, requests, existing, now_us)


def open_new_accounts(
    repository: LedgerRepository, requests: Sequence[NewAccount], now_us: int
) -> list[AccountResult]:
    """Open accounts whose ids cannot be taken yet, without looking them up first.

    For accounts named after a row created in the same unit of work (a new packet's escrow):
    the id is as new as that row. Were it taken after all, the insert fails on the key and the
    unit of work is retried whole, and the retry sees what took it.
    """
    check_batch_size(len(requests))
    return _create_accounts(repository, requests, {}, now_us)


def _create_accounts(
    repository: LedgerRepository,
    requests: Sequence[NewAccount],
    existing: Mapping[str, Account],
    now_us: int,
) -> list[AccountResult]:
    results: list[AccountResult] = []
    new_accounts: dict[str, Account] = {}
    for request in requests:
        code = _account_request_problem(request)
        if code is None:
            known = existing.get(request.id) or new_accounts.get(request.id)
            if known is not None:
                same = known.same_definition(request)
                code = (
                    AccountResultCode.EXISTS
                    if same
                    else (AccountResultCode.EXISTS_WITH_DIFFERENT_FIELDS)
                )
            else:
                code = AccountResultCode.OK
                new_accounts[request.id] = Account(
                    id=request.id,
                    kind=request.kind,
                    currency=request.currency,
                    flags=request.resolved_flags(),
                    reference=request.reference,
                    created_at_us=now_us,
                )
        results.append(AccountResult(request.id, code))
    repository.insert_accounts(list(new_accounts.values()))
    return results


def _account_request_problem(request: NewAccount) -> AccountResultCode | None:
    if not is_valid_id(request.id):
        return AccountResultCode.ID_INVALID
    if not isinstance(request.currency, str) or request.currency not in CURRENCIES:
        return AccountResultCode.CURRENCY_INVALID
    flags = request.resolved_flags()
    if flags.debits_must_not_exceed_credits and flags.credits_must_not_exceed_debits:
        return AccountResultCode.FLAGS_ARE_MUTUALLY_EXCLUSIVE
    if request.reference is not None and len(request.reference) > MAX_REFERENCE_LENGTH:
        return AccountResultCode.REFERENCE_TOO_LONG
    return None


def create_transfers(
    repository: LedgerRepository, requests: Sequence[TransferRequest], now_us: int
) -> list[TransferResult]:
    """Apply a batch: load, lock the accounts in id order, decide in memory, write."""
    check_batch_size(len(requests))
    if not requests:
        return []
    pending_ids = {r.pending_id for r in requests if r.pending_id and is_valid_id(r.pending_id)}
    # Transfers are immutable, so the pending transfers' accounts can be read before locking.
    referenced = repository.get_transfers(pending_ids)
    account_ids = {
        account_id
        for request in requests
        for account_id in (request.debit_account_id, request.credit_account_id)
        if account_id is not None and is_valid_id(account_id)
    }
    for transfer in referenced.values():
        account_ids.update((transfer.debit_account_id, transfer.credit_account_id))
    batch_ids = {request.id for request in requests if is_valid_id(request.id)}
    rows = repository.lock_and_load(
        account_ids,
        transfer_ids=batch_ids | pending_ids,
        rejection_ids=batch_ids,
        pending_ids=pending_ids,
    )
    workspace = Workspace(
        now_us=now_us,
        accounts=rows.accounts,
        transfers=rows.transfers,
        rejections=rows.rejections,
        pending=rows.pending,
    )
    results = workspace.apply_batch(requests)
    _save(repository, workspace)
    return results


def expire_pending(repository: LedgerRepository, pending_ids: Sequence[str], now_us: int) -> int:
    """Release the given pending transfers if their timeout has passed. Returns how many."""
    check_batch_size(len(pending_ids))
    records = repository.get_pending(pending_ids)
    account_ids = {
        account_id
        for record in records.values()
        for account_id in (record.debit_account_id, record.credit_account_id)
    }
    # Re-read the states under the locks: another worker may have closed one meanwhile.
    rows = repository.lock_and_load(
        account_ids, transfer_ids=pending_ids, rejection_ids=(), pending_ids=pending_ids
    )
    workspace = Workspace(
        now_us=now_us,
        accounts=rows.accounts,
        transfers=rows.transfers,
        rejections={},
        pending=rows.pending,
    )
    expired = sum(1 for pending_id in pending_ids if workspace.expire(pending_id))
    _save(repository, workspace)
    return expired


def _save(repository: LedgerRepository, workspace: Workspace) -> None:
    changes = workspace.changes
    expired = sum(
        1 for record in changes.pending_updated.values() if record.state is PendingState.EXPIRED
    )
    invariant(
        len(changes.postings) == 2 * (len(changes.transfers) + expired),
        "every transfer and every expiry writes exactly two postings",
        transfers=len(changes.transfers),
        expired=expired,
        postings=len(changes.postings),
    )
    if not changes.empty:
        repository.save(changes)
