"""Clearing a budget-funded refund back level by level (逐层逆向清算, R-F5).

When money of a packet sent from a budget is refunded, it goes back to the budget that funded
the packet. If that budget has closed meanwhile, the money passes through it to its parent,
and on up to the nearest open ancestor; if even the root has closed, it ends in the
enterprise's balance. Every hop is one ledger transfer (``refund:{refund_id}:hop:{n}``, from 1),
so the refund's trace shows each one with the reason in words; all hops are linked and written
in the caller's unit of work, so they happen together with the refund or not at all.

Because a budget with open children cannot close, the closed budgets on the way are always a
run from the funding budget upwards: the first open budget met is where the money stays.

:func:`legs` and :func:`destination` are pure; :func:`unwind` and :func:`destination_of` read
the budgets. ``unwind`` locks each budget row it passes (the funding budget first, then up),
before the ledger locks its accounts: a budget cannot close between being found open and being
paid, so money never lands in a budget that has already returned its remainder.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from hongbao.distribution.errors import DistributionCode
from hongbao.distribution.model import (
    MAX_LEVELS,
    Budget,
    DistributionError,
    RefundHop,
    TransferCode,
    enterprise_balance_id,
)
from hongbao.distribution.ports import UnitOfWork
from hongbao.ledger import operations as ledger_operations
from hongbao.ledger.model import TransferRequest, require_integer
from hongbao.ledger.results import TransferResultCode
from hongbao.platform.ids import is_valid_id
from hongbao.platform.invariants import invariant

__all__ = ["Leg", "destination", "destination_of", "hop_transfer_id", "legs", "unwind"]

# Escrow to the funding budget, one hop up per closed level, and the closed root's last hop.
MAX_HOPS = MAX_LEVELS + 1


@dataclass(frozen=True, slots=True)
class Leg:
    """One planned hop: where the money moves, the transfer code, and why in words."""

    from_account_id: str
    to_account_id: str
    code: int
    note: str


def hop_transfer_id(refund_id: str, number: int) -> str:
    return f"refund:{refund_id}:hop:{number}"


def _check_chain(chain: Sequence[Budget]) -> None:
    invariant(0 < len(chain) <= MAX_LEVELS, "a chain is 1 to MAX_LEVELS budgets", n=len(chain))
    for budget, parent in itertools.pairwise(chain):
        invariant(
            budget.parent_id == parent.id and not budget.is_open,
            "a chain climbs from closed budgets to their parents",
            budget_id=budget.id,
        )
    last = chain[-1]
    invariant(last.is_open or last.is_root, "a chain ends open or at the root", budget_id=last.id)


def destination(chain: Sequence[Budget]) -> str:
    """The account the money ends in: the chain's open budget, or the enterprise's balance."""
    _check_chain(chain)
    last = chain[-1]
    return last.account_id if last.is_open else enterprise_balance_id(last.enterprise_id)


def legs(chain: Sequence[Budget], from_account_id: str) -> tuple[Leg, ...]:
    """The hops from ``from_account_id`` (a packet's escrow) through ``chain``: the budget that
    funded the packet, then its closed ancestors in order, up to the first open one or the
    closed root."""
    _check_chain(chain)
    first = chain[0]
    planned = [
        Leg(from_account_id, first.account_id, TransferCode.UNWIND_TO_BUDGET, _arrival_note(first))
    ]
    for budget, parent in itertools.pairwise(chain):
        planned.append(
            Leg(
                budget.account_id,
                parent.account_id,
                TransferCode.UNWIND_UP,
                f"{_name(budget)} is closed: up one level to {parent.id}",
            )
        )
    last = chain[-1]
    if not last.is_open:
        planned.append(
            Leg(
                last.account_id,
                enterprise_balance_id(last.enterprise_id),
                TransferCode.UNWIND_TO_ENTERPRISE,
                f"{_name(last)} is closed: back to the balance of enterprise {last.enterprise_id}",
            )
        )
    return tuple(planned)


def _name(budget: Budget) -> str:
    return (
        f"root budget {budget.id}"
        if budget.is_root
        else (f"budget {budget.id} (level {budget.level})")
    )


def _arrival_note(budget: Budget) -> str:
    if budget.is_open:
        return f"back to {_name(budget)}, which funded the packet"
    return f"back to {_name(budget)}, which funded the packet and has closed since"


# --- inside a unit of work --------------------------------------------------------------------


def _chain(uow: UnitOfWork, budget_id: str, *, lock: bool) -> list[Budget]:
    """The funding budget and its closed ancestors, up to the first open one or the root."""
    table = uow.distribution.budgets
    chain: list[Budget] = []
    next_id: str | None = budget_id
    while next_id is not None:
        invariant(len(chain) < MAX_LEVELS, "budget trees are MAX_LEVELS deep", budget_id=budget_id)
        budget = table.lock(next_id) if lock else table.get(next_id)
        if budget is None:
            invariant(not chain, "every budget's parent exists", budget_id=next_id)
            raise DistributionError(
                f"no budget {next_id!r}", code=DistributionCode.UNKNOWN_BUDGET, budget_id=next_id
            )
        chain.append(budget)
        next_id = None if budget.is_open else budget.parent_id
    return chain


def destination_of(uow: UnitOfWork, budget_id: str) -> str:
    """Where a refund of money from ``budget_id`` would end now (reads, moves nothing)."""
    return destination(_chain(uow, budget_id, lock=False))


def unwind(
    uow: UnitOfWork,
    *,
    refund_id: str,
    budget_id: str,
    amount_minor: int,
    currency: str,
    from_account_id: str,
    reference: str,
    now_us: int,
) -> tuple[RefundHop, ...]:
    """Move ``amount_minor`` from ``from_account_id`` back through the budget tree, in the
    caller's unit of work, and return the hops in the order they happened.

    Refused before anything moves: an unknown budget (``distribution.unknown_budget``), an
    amount that is not a positive integer (``distribution.amount_not_positive``), another
    currency than the budget's (``distribution.currency_mismatch``), a refund id too long for
    its hop ids (``distribution.id_invalid``), and a refund that was already unwound
    (``distribution.refund_already_unwound``). ``from_account_id`` must hold the amount: that
    it does not is a broken invariant of the caller's.
    """
    _check_request(refund_id, amount_minor)
    if uow.ledger.get_transfers([hop_transfer_id(refund_id, 1)]):
        raise DistributionError(
            f"refund {refund_id!r} was already cleared back through the budgets",
            code=DistributionCode.REFUND_ALREADY_UNWOUND,
            refund_id=refund_id,
        )
    chain = _chain(uow, budget_id, lock=True)
    if currency != chain[0].currency:
        raise DistributionError(
            f"budget {budget_id!r} is in {chain[0].currency}, the refund in {currency!r:.10}",
            code=DistributionCode.CURRENCY_MISMATCH,
            budget_id=budget_id,
        )
    planned = legs(chain, from_account_id)
    hops = tuple(
        RefundHop(
            hop_transfer_id(refund_id, number),
            leg.from_account_id,
            leg.to_account_id,
            amount_minor,
            currency,
            leg.note,
        )
        for number, leg in enumerate(planned, start=1)
    )
    _transfer(uow, hops, planned, reference, now_us)
    return hops


def _check_request(refund_id: str, amount_minor: int) -> None:
    if not is_valid_id(refund_id) or not is_valid_id(hop_transfer_id(refund_id, MAX_HOPS)):
        raise DistributionError(
            "a refund id is a short id of letters, digits or ':._-/'",
            code=DistributionCode.ID_INVALID,
        )
    if require_integer(amount_minor, "amount_minor") <= 0:
        raise DistributionError(
            f"a refund moves a positive amount, got {amount_minor}",
            code=DistributionCode.AMOUNT_NOT_POSITIVE,
        )


def _transfer(
    uow: UnitOfWork,
    hops: tuple[RefundHop, ...],
    planned: tuple[Leg, ...],
    reference: str,
    now_us: int,
) -> None:
    last = len(hops) - 1
    requests = [
        # Linked: the ledger applies the whole path or none of it.
        TransferRequest(
            hop.transfer_id,
            leg.code,
            hop.amount_minor,
            hop.from_account_id,
            hop.to_account_id,
            hop.currency,
            linked=index < last,
            reference=reference,
        )
        for index, (hop, leg) in enumerate(zip(hops, planned, strict=True))
    ]
    results = ledger_operations.create_transfers(uow.ledger, requests, now_us)
    for request, result in zip(requests, results, strict=True):
        invariant(
            result.code is TransferResultCode.OK,
            "a refund's money moves back through the budgets as planned",
            transfer_id=request.id,
            result=result.code.value,
        )
