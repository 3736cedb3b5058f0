"""Carrying out a refund plan in the ledger, and settling it when it is due (R-F2, R-F3, R-F6).

A balance refund moves at once. Every other route leaves escrow for refund clearing now (so the
packet's money is accounted for from the first moment) and arrives later, by the scheduler:
a debit card two hours on, a credit card after three business days less its fee (to fee
revenue), a money-market refund when the account's freeze ends. Each step is a ledger transfer
named for the refund, so a retried step never moves money twice, and the refund record says
where the money is at every moment.
"""

from __future__ import annotations

from dataclasses import replace

from hongbao.ledger import operations as ledger_operations
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.results import TransferResultCode
from hongbao.platform.clock import is_due
from hongbao.platform.invariants import invariant
from hongbao.platform.scheduler import schedule
from hongbao.platform.unit_of_work import UnitOfWork
from hongbao.refunds.records import Refund, RefundState
from hongbao.refunds.routes import RefundPlan, RefundRoute

SETTLE_KIND = "refund.settle"


class TransferCode:
    """Why money moved, on every ledger transfer a refund makes."""

    REFUND_DIRECT = 111
    REFUND_TO_CLEARING = 112
    REFUND_SETTLE = 113
    REFUND_FEE = 114


def clearing_account(currency: str) -> str:
    return f"clearing:{currency}"


def fee_account(currency: str) -> str:
    return f"fees:{currency}"


def start_refund(
    uow: UnitOfWork,
    *,
    refund_id: str,
    packet_id: str,
    owner_id: str,
    from_account_id: str,
    destination_account_id: str,
    plan: RefundPlan,
    now_us: int,
) -> Refund:
    """Move the refund's money out of ``from_account_id`` (a packet's escrow) in the caller's
    unit of work; a balance refund arrives now, every other route is scheduled to settle."""
    currency = plan.amount.currency.code
    _open_accounts(uow, currency, now_us)
    direct = plan.route is RefundRoute.BALANCE
    first_stop = destination_account_id if direct else clearing_account(currency)
    code = TransferCode.REFUND_DIRECT if direct else TransferCode.REFUND_TO_CLEARING
    _move(uow, [TransferRequest(f"refund:{refund_id}:out", code, plan.amount.minor,
                                from_account_id, first_stop, currency, reference=packet_id)],
          now_us)  # fmt: skip
    frozen = plan.route is RefundRoute.MONEY_MARKET
    refund = Refund(
        id=refund_id, packet_id=packet_id, owner_id=owner_id, route=plan.route,
        currency=currency, amount_minor=plan.amount.minor, fee_minor=plan.fee.minor,
        net_minor=plan.net.minor, destination_account_id=destination_account_id,
        state=RefundState.SETTLED if direct else (
            RefundState.FROZEN if frozen else RefundState.IN_CLEARING),
        created_at_us=now_us, arrives_at_us=plan.arrives_at_us,
        frozen_until_us=plan.frozen_until_us, settled_at_us=now_us if direct else None,
        calendar=plan.calendar, substituted=plan.substituted, reason=_reason(plan),
    )  # fmt: skip
    uow.recalls.refunds.insert(refund)
    if not direct:
        due = plan.frozen_until_us if frozen and plan.frozen_until_us else plan.arrives_at_us
        schedule(uow.scheduler, work_id=f"settle:{refund_id}", kind=SETTLE_KIND,
                 payload={"refund_id": refund_id}, due_at_us=due, now_us=now_us)  # fmt: skip
    return refund


def settle_handler(uow: UnitOfWork, payload: dict[str, object], now_us: int) -> None:
    """Scheduler handler: the refund's time has come; clearing pays the destination (and the
    fee to fee revenue). Settling twice is harmless: a settled refund is left as it is."""
    refund_id = str(payload["refund_id"])
    refund = uow.recalls.refunds.lock(refund_id)
    invariant(refund is not None, "a scheduled refund exists", refund_id=refund_id)
    assert refund is not None  # noqa: S101 - narrows the type; invariant() enforces
    if refund.state in (RefundState.SETTLED, RefundState.RELEASED):
        return
    due = refund.frozen_until_us if refund.state is RefundState.FROZEN else refund.arrives_at_us
    invariant(due is not None and is_due(due, now_us), "a refund settles when due", id=refund_id)
    clearing = clearing_account(refund.currency)
    requests = [TransferRequest(f"refund:{refund.id}:in", TransferCode.REFUND_SETTLE,
                                refund.net_minor, clearing, refund.destination_account_id,
                                refund.currency, reference=refund.packet_id)]  # fmt: skip
    if refund.fee_minor > 0:
        requests.append(TransferRequest(f"refund:{refund.id}:fee", TransferCode.REFUND_FEE,
                                         refund.fee_minor, clearing, fee_account(refund.currency),
                                         refund.currency, reference=refund.packet_id))  # fmt: skip
    _move(uow, requests, now_us)
    arrived = RefundState.RELEASED if refund.state is RefundState.FROZEN else RefundState.SETTLED
    uow.recalls.refunds.replace(replace(refund, state=arrived, settled_at_us=now_us))


def _open_accounts(uow: UnitOfWork, currency: str, now_us: int) -> None:
    accounts = [
        NewAccount(clearing_account(currency), AccountKind.REFUND_CLEARING, currency),
        NewAccount(fee_account(currency), AccountKind.FEE_REVENUE, currency),
    ]
    results = ledger_operations.create_accounts(uow.ledger, accounts, now_us)
    invariant(all(result.succeeded for result in results), "refund accounts exist")


def _move(uow: UnitOfWork, requests: list[TransferRequest], now_us: int) -> None:
    results = ledger_operations.create_transfers(uow.ledger, requests, now_us)
    for request, result in zip(requests, results, strict=True):
        invariant(
            result.code is TransferResultCode.OK,
            "a refund's money moves as planned",
            transfer_id=request.id,
            result=result.code.value,
        )


def _reason(plan: RefundPlan) -> str:
    if plan.substituted and plan.refused is not None:
        return f"to the balance instead: {plan.refused.message}"
    return f"back to the original {plan.route.value.replace('_', ' ')} (original method first)"
