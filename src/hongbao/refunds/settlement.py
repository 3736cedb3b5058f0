"""Carrying out a refund in the ledger, and settling it when it is due (R-F2..R-F6).

A balance refund moves at once. Every other route leaves escrow for refund clearing now (so the
packet's money is accounted for from the first moment) and arrives later, by the scheduler:
a debit card two hours on, a credit card after three business days less its fee (to fee
revenue), a foreign card in its own currency, a money-market refund when the account's freeze
ends. A refund no route can take now is *held* in clearing and planned again later.

A card payout goes through the card network first (:mod:`hongbao.refunds.network`): a decline
is recorded and retried with backoff (``failed_retrying``); after the policy's last attempt, or
a permanent decline, the refund is ``failed`` and waits in clearing until an operator credits
the sender's balance with it. Money is never lost: at every moment it is in escrow, in
clearing, or where it was going, and the refund record says which.

Each step is a ledger transfer named for the refund, so a retried step never moves money twice;
every transfer is also recorded on the refund as a hop, in order, for the tracking view.
"""

from __future__ import annotations

from dataclasses import replace

from hongbao.distribution.model import RefundHop
from hongbao.distribution.unwinding import unwind
from hongbao.ledger import operations as ledger_operations
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.results import TransferResultCode
from hongbao.money import Money
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, is_due
from hongbao.platform.errors import InvalidInput
from hongbao.platform.invariants import invariant, present
from hongbao.platform.outbox import append, new_event
from hongbao.platform.scheduler import schedule
from hongbao.policy.document import RefundPolicy
from hongbao.refunds.errors import RefundCode
from hongbao.refunds.events import RefundProgressed
from hongbao.refunds.network import CardNetwork, PayoutResult
from hongbao.refunds.ports import UnitOfWork
from hongbao.refunds.records import Refund, RefundState, RefundTrigger
from hongbao.refunds.routes import NoRoute, RefundPlan, RefundRoute

SETTLE_KIND = "refund.settle"
RECHECK_KIND = "refund.recheck"
RISK_RELEASE_KIND = "refund.risk_release"
MICROSECONDS_PER_MINUTE = 60 * MICROSECONDS_PER_SECOND
CARD_ROUTES = frozenset({RefundRoute.DEBIT_CARD, RefundRoute.CREDIT_CARD, RefundRoute.FOREIGN_CARD})
MAX_ERROR_LENGTH = 500


class TransferCode:
    """Why money moved, on every ledger transfer a refund makes."""

    REFUND_DIRECT = 111
    REFUND_TO_CLEARING = 112
    REFUND_SETTLE = 113
    REFUND_FEE = 114
    REFUND_FX_IN = 115  # yuan into the FX position
    REFUND_FX_OUT = 116  # the card's currency out of the FX position, at the send-time rate
    REFUND_FX_DIFFERENCE = 117  # the rate difference, to or from the FX position
    REFUND_OPERATOR_CREDIT = 118  # a failed payout credited to the balance by an operator
    REFUND_TO_RISK_HOLD = 119  # risk control holds the refund for review (delayed arrival)
    REFUND_RISK_RELEASE = 120  # released from the risk hold into refund clearing


class RefundRefused(InvalidInput):
    code = RefundCode.REFUSED


def clearing_account(currency: str) -> str:
    return f"clearing:{currency}"


def fee_account(currency: str) -> str:
    return f"fees:{currency}"


def fx_account(currency: str) -> str:
    return f"fx:{currency}"


def balance_account(user_id: str) -> str:
    return f"user:{user_id}:balance"


def risk_hold_account(currency: str) -> str:
    return f"risk:hold:{currency}"


# ------------------------------------------------------------------------------ starting


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
    trigger: RefundTrigger = RefundTrigger.RECALL,
) -> Refund:
    """Move the refund's money out of ``from_account_id`` (a packet's escrow) in the caller's
    unit of work; a balance refund arrives now, every other route is scheduled to settle."""
    refund = _planned_record(
        refund_id, packet_id, owner_id, destination_account_id, plan, now_us, trigger
    )
    refund = _carry_out(uow, refund, plan, from_account_id, now_us)
    _record(uow, refund, now_us)
    return refund


def hold_refund(
    uow: UnitOfWork,
    *,
    refund_id: str,
    packet_id: str,
    owner_id: str,
    from_account_id: str,
    destination_account_id: str,
    amount: Money,
    refusal: NoRoute,
    recheck_at_us: int,
    now_us: int,
    trigger: RefundTrigger,
) -> Refund:
    """No route can take the money now: it waits in refund clearing, planned again at
    ``recheck_at_us`` (the end of a maintenance window, or the policy's recheck interval)."""
    currency = amount.currency.code
    _open_accounts(uow, currency, now_us)
    hop = _hop(
        f"refund:{refund_id}:hold",
        from_account_id,
        clearing_account(currency),
        amount.minor,
        currency,
        f"held in refund clearing: {refusal.message}",
    )
    _move(uow, [_request(hop, TransferCode.REFUND_TO_CLEARING, packet_id)], now_us)
    refund = Refund(
        id=refund_id,
        packet_id=packet_id,
        owner_id=owner_id,
        route=refusal.route,
        currency=currency,
        amount_minor=amount.minor,
        fee_minor=0,
        net_minor=amount.minor,
        destination_account_id=destination_account_id,
        state=RefundState.HELD,
        created_at_us=now_us,
        arrives_at_us=recheck_at_us,
        frozen_until_us=None,
        settled_at_us=None,
        calendar=None,
        substituted=False,
        reason=f"waiting: {refusal.message}",
        trigger=trigger,
        next_attempt_at_us=recheck_at_us,
        last_error=refusal.reason_code,
        hops=(hop,),
    )
    _record(uow, refund, now_us)
    _schedule_recheck(uow, refund, now_us)
    return refund


def hold_for_review(
    uow: UnitOfWork,
    *,
    refund_id: str,
    packet_id: str,
    owner_id: str,
    from_account_id: str,
    destination_account_id: str,
    amount: Money,
    route: RefundRoute,
    release_at_us: int,
    now_us: int,
    trigger: RefundTrigger,
) -> Refund:
    """Risk control holds the refund (R-K1 level 2, the delayed arrival): its money leaves the
    packet's escrow for the risk-hold account and waits there for a reviewer or for
    ``release_at_us``; released, it is planned again like any held refund."""
    currency = amount.currency.code
    _open_accounts(uow, currency, now_us)
    hop = _hop(
        f"refund:{refund_id}:risk-hold",
        from_account_id,
        risk_hold_account(currency),
        amount.minor,
        currency,
        "held for a risk review (delayed arrival)",
    )
    _move(uow, [_request(hop, TransferCode.REFUND_TO_RISK_HOLD, packet_id)], now_us)
    refund = Refund(
        id=refund_id,
        packet_id=packet_id,
        owner_id=owner_id,
        route=route,
        currency=currency,
        amount_minor=amount.minor,
        fee_minor=0,
        net_minor=amount.minor,
        destination_account_id=destination_account_id,
        state=RefundState.RISK_HELD,
        created_at_us=now_us,
        arrives_at_us=release_at_us,
        frozen_until_us=None,
        settled_at_us=None,
        calendar=None,
        substituted=False,
        reason="held for a risk review: released by a reviewer or at its release time",
        trigger=trigger,
        next_attempt_at_us=release_at_us,
        last_error="risk.hold",
        hops=(hop,),
    )
    _record(uow, refund, now_us)
    schedule(
        uow.scheduler,
        work_id=f"risk-release:{refund_id}",
        kind=RISK_RELEASE_KIND,
        payload={"refund_id": refund_id},
        due_at_us=release_at_us,
        now_us=now_us,
    )
    return refund


def release_from_review(uow: UnitOfWork, refund: Refund, now_us: int) -> Refund:
    """A risk-held refund moves on: its money goes to refund clearing and it becomes a held
    refund, planned again now (the caller plans it, or the recheck job scheduled here)."""
    invariant(
        refund.state is RefundState.RISK_HELD,
        "only a risk-held refund is released",
        refund_id=refund.id,
    )
    hop = _hop(
        f"refund:{refund.id}:risk-release",
        risk_hold_account(refund.currency),
        clearing_account(refund.currency),
        refund.amount_minor,
        refund.currency,
        "released from the risk review into refund clearing",
    )
    _move(uow, [_request(hop, TransferCode.REFUND_RISK_RELEASE, refund.packet_id)], now_us)
    released = replace(
        refund,
        state=RefundState.HELD,
        arrives_at_us=now_us,
        next_attempt_at_us=now_us,
        reason="released from the risk review; planned again",
        last_error=None,
        hops=(*refund.hops, hop),
    )
    _record(uow, released, now_us, before=refund)
    _schedule_recheck(uow, released, now_us)
    return released


def resume_held(
    uow: UnitOfWork, refund: Refund, plan: RefundPlan, destination_account_id: str, now_us: int
) -> Refund:
    """A held refund found its route: carry the plan out from refund clearing."""
    invariant(refund.state is RefundState.HELD, "only a held refund resumes", refund_id=refund.id)
    invariant(
        plan.amount.minor == refund.amount_minor,
        "a resumed plan refunds the same amount",
        refund_id=refund.id,
    )
    fresh = _planned_record(
        refund.id,
        refund.packet_id,
        refund.owner_id,
        destination_account_id,
        plan,
        now_us,
        refund.trigger,
    )
    fresh = replace(fresh, created_at_us=refund.created_at_us, hops=refund.hops)
    resumed = _carry_out(uow, fresh, plan, clearing_account(refund.currency), now_us)
    _record(uow, resumed, now_us, before=refund)
    return resumed


def keep_holding(
    uow: UnitOfWork, refund: Refund, refusal: NoRoute, recheck_at_us: int, now_us: int
) -> Refund:
    """Still no route: say why, and plan again at ``recheck_at_us``."""
    waiting = replace(
        refund,
        reason=f"waiting: {refusal.message}",
        route=refusal.route,
        arrives_at_us=recheck_at_us,
        next_attempt_at_us=recheck_at_us,
        last_error=refusal.reason_code,
    )
    _record(uow, waiting, now_us, before=refund)
    _schedule_recheck(uow, waiting, now_us)
    return waiting


def _planned_record(  # noqa: PLR0917 - one argument per column a plan does not hold
    refund_id: str,
    packet_id: str,
    owner_id: str,
    destination_account_id: str,
    plan: RefundPlan,
    now_us: int,
    trigger: RefundTrigger,
) -> Refund:
    fx = plan.fx
    return Refund(
        id=refund_id,
        packet_id=packet_id,
        owner_id=owner_id,
        route=plan.route,
        currency=plan.amount.currency.code,
        amount_minor=plan.amount.minor,
        fee_minor=plan.fee.minor,
        net_minor=plan.net.minor,
        destination_account_id=destination_account_id,
        state=RefundState.IN_CLEARING,
        created_at_us=now_us,
        arrives_at_us=plan.arrives_at_us,
        frozen_until_us=plan.frozen_until_us,
        settled_at_us=None,
        calendar=plan.calendar,
        substituted=plan.substituted,
        reason=_reason(plan),
        trigger=trigger,
        card_currency=fx.card_currency if fx else None,
        card_amount_minor=fx.card_amount.minor if fx else None,
        rate_at_refund=str(fx.rate_at_refund) if fx else None,
        rate_at_refund_as_of_us=fx.rate_at_refund_as_of_us if fx else None,
        rate_source=fx.rate_source if fx else None,
        rate_at_send=str(fx.rate_at_send) if fx else None,
        amount_at_send_rate_minor=fx.amount_at_send_rate.minor if fx else None,
        fx_difference_minor=fx.difference.minor if fx else None,
    )


def _carry_out(
    uow: UnitOfWork, refund: Refund, plan: RefundPlan, from_account_id: str, now_us: int
) -> Refund:
    """The first moves of a plan; the record comes back in its state after them."""
    if plan.route is RefundRoute.DISTRIBUTION:
        return _unwind(uow, refund, plan, from_account_id, now_us)
    direct = plan.route is RefundRoute.BALANCE
    if not direct:  # clearing, fees and the FX position exist once a refund needs them
        _open_accounts(uow, refund.currency, now_us)
        if plan.fx is not None:
            _open_accounts(uow, plan.fx.card_currency, now_us)
    hops = _first_hops(refund, plan, from_account_id, direct=direct)
    _move(uow, [_request(hop, code, refund.packet_id) for hop, code in hops], now_us)
    refund = replace(refund, hops=refund.hops + tuple(hop for hop, _ in hops))
    if direct:
        return replace(refund, state=RefundState.SETTLED, settled_at_us=now_us)
    if plan.route is RefundRoute.MONEY_MARKET:
        refund = replace(refund, state=RefundState.FROZEN)
    due = present(
        refund.frozen_until_us if refund.state is RefundState.FROZEN else refund.arrives_at_us,
        "a refund in clearing has a due time",
        refund_id=refund.id,
    )
    schedule(
        uow.scheduler,
        work_id=f"settle:{refund.id}:0",
        kind=SETTLE_KIND,
        payload={"refund_id": refund.id},
        due_at_us=due,
        now_us=now_us,
    )
    return refund


def _unwind(
    uow: UnitOfWork, refund: Refund, plan: RefundPlan, from_account_id: str, now_us: int
) -> Refund:
    """R-F5: back level by level to the budget the packet came from, at once."""
    budget_id = present(plan.budget_id, "a distribution plan names its budget", refund_id=refund.id)
    hops = unwind(
        uow,
        refund_id=refund.id,
        budget_id=budget_id,
        amount_minor=refund.amount_minor,
        currency=refund.currency,
        from_account_id=from_account_id,
        reference=refund.packet_id,
        now_us=now_us,
    )
    return replace(
        refund,
        state=RefundState.SETTLED,
        settled_at_us=now_us,
        destination_account_id=hops[-1].to_account_id,
        hops=refund.hops + hops,
    )


def _first_hops(
    refund: Refund, plan: RefundPlan, from_account_id: str, *, direct: bool
) -> list[tuple[RefundHop, int]]:
    currency, amount, name = refund.currency, refund.amount_minor, f"refund:{refund.id}"
    if direct:
        hop = _hop(
            f"{name}:out",
            from_account_id,
            refund.destination_account_id,
            amount,
            currency,
            "to the balance, at once",
        )
        return [(hop, TransferCode.REFUND_DIRECT)]
    fx = plan.fx
    if fx is None:
        if from_account_id == clearing_account(currency):
            return []  # a held refund: already in clearing
        hop = _hop(
            f"{name}:out",
            from_account_id,
            clearing_account(currency),
            amount,
            currency,
            "into refund clearing until it is due",
        )
        return [(hop, TransferCode.REFUND_TO_CLEARING)]
    card = fx.card_currency
    hops = [
        (
            _hop(
                f"{name}:fx-in",
                from_account_id,
                fx_account(currency),
                amount,
                currency,
                "yuan to the FX position",
            ),
            TransferCode.REFUND_FX_IN,
        ),
        (
            _hop(
                f"{name}:fx-out",
                fx_account(card),
                clearing_account(card),
                fx.amount_at_send_rate.minor,
                card,
                f"{card} at the send-time rate {fx.rate_at_send}",
            ),
            TransferCode.REFUND_FX_OUT,
        ),
    ]
    difference = fx.difference.minor
    if difference != 0:
        source, target = clearing_account(card), fx_account(card)
        if difference < 0:
            source, target = target, source
        note = f"rate difference (now {fx.rate_at_refund}) to the FX position"
        hops.append(
            (
                _hop(f"{name}:fx-diff", source, target, abs(difference), card, note),
                TransferCode.REFUND_FX_DIFFERENCE,
            )
        )
    return hops


# ------------------------------------------------------------------------------ settling


def settle(
    uow: UnitOfWork, refund_id: str, now_us: int, network: CardNetwork, policy: RefundPolicy
) -> Refund:
    """The refund's time has come: a card payout is asked of the network, then clearing pays
    the destination (and the fee to fee revenue). Settling twice is harmless."""
    refund = _lock(uow, refund_id)
    if refund.has_arrived or refund.state in (
        RefundState.FAILED,
        RefundState.HELD,
        RefundState.RISK_HELD,
    ):
        return refund  # a late or repeated job: nothing left for it to do
    invariant(is_due(_due_at(refund), now_us), "a refund settles when due", refund_id=refund_id)
    if refund.route in CARD_ROUTES:
        outcome = network.pay_out(refund)
        if outcome.result is not PayoutResult.ACCEPTED:
            permanent = outcome.result is PayoutResult.DECLINED_PERMANENTLY
            return _declined(uow, refund, outcome.message, permanent, policy, now_us)
    return _arrive(uow, refund, now_us)


def _due_at(refund: Refund) -> int:
    if refund.state is RefundState.FROZEN and refund.frozen_until_us is not None:
        return refund.frozen_until_us
    if refund.state is RefundState.FAILED_RETRYING and refund.next_attempt_at_us is not None:
        return refund.next_attempt_at_us
    return refund.arrives_at_us


def _arrive(uow: UnitOfWork, refund: Refund, now_us: int) -> Refund:
    name, currency = f"refund:{refund.id}", refund.card_currency or refund.currency
    paid = refund.card_amount_minor if refund.card_amount_minor is not None else refund.net_minor
    hops = [
        (
            _hop(
                f"{name}:in",
                clearing_account(currency),
                refund.destination_account_id,
                paid,
                currency,
                "arrived",
            ),
            TransferCode.REFUND_SETTLE,
        )
    ]
    if refund.fee_minor > 0:
        hops.append(
            (
                _hop(
                    f"{name}:fee",
                    clearing_account(refund.currency),
                    fee_account(refund.currency),
                    refund.fee_minor,
                    refund.currency,
                    "refund fee to fee revenue",
                ),
                TransferCode.REFUND_FEE,
            )
        )
    _move(uow, [_request(hop, code, refund.packet_id) for hop, code in hops], now_us)
    state = RefundState.RELEASED if refund.state is RefundState.FROZEN else RefundState.SETTLED
    arrived = replace(
        refund,
        state=state,
        settled_at_us=now_us,
        next_attempt_at_us=None,
        hops=refund.hops + tuple(hop for hop, _ in hops),
    )
    _record(uow, arrived, now_us, before=refund)
    return arrived


def _declined(  # noqa: PLR0917 - the decline, and what decides its retry
    uow: UnitOfWork,
    refund: Refund,
    message: str,
    permanent: bool,
    policy: RefundPolicy,
    now_us: int,
) -> Refund:
    failures = refund.attempts + 1
    error = (message or "declined")[:MAX_ERROR_LENGTH]
    if permanent or failures >= policy.payout_max_attempts:
        failed = replace(
            refund,
            state=RefundState.FAILED,
            attempts=failures,
            next_attempt_at_us=None,
            last_error=error,
            reason="the card network refused the payout; waiting for an operator "
            "to credit the balance",
        )
        _record(uow, failed, now_us, before=refund)
        return failed
    delay_us = policy.payout_retry_delay_minutes(failures) * MICROSECONDS_PER_MINUTE
    next_at = now_us + delay_us
    why = f"the card network declined the payout ({error}); trying again"
    retrying = replace(
        refund,
        state=RefundState.FAILED_RETRYING,
        attempts=failures,
        next_attempt_at_us=next_at,
        last_error=error,
        reason=why,
    )
    _record(uow, retrying, now_us, before=refund)
    schedule(
        uow.scheduler,
        work_id=f"settle:{refund.id}:{failures}",
        kind=SETTLE_KIND,
        payload={"refund_id": refund.id},
        due_at_us=next_at,
        now_us=now_us,
    )
    return retrying


def credit_to_balance(uow: UnitOfWork, refund_id: str, operator_id: str, now_us: int) -> Refund:
    """An operator turns a failed payout into a credit to the sender's balance (R-F6): the
    whole refunded amount, in yuan, no fee. Refused unless the refund has failed."""
    refund = _lock(uow, refund_id)
    if refund.state is not RefundState.FAILED:
        raise RefundRefused(
            f"only a failed refund is credited to the balance; this one is {refund.state.value}",
            code=RefundCode.NOT_FAILED,
            refund_id=refund_id,
            state=refund.state.value,
        )
    name, target = f"refund:{refund.id}", balance_account(refund.owner_id)
    hops: list[tuple[RefundHop, int]] = []
    if refund.card_currency is not None and refund.card_amount_minor is not None:
        card = refund.card_currency
        hops.append(
            (
                _hop(
                    f"{name}:credit-fx",
                    clearing_account(card),
                    fx_account(card),
                    refund.card_amount_minor,
                    card,
                    "back from the card's currency",
                ),
                TransferCode.REFUND_OPERATOR_CREDIT,
            )
        )
        source = fx_account(refund.currency)
    else:
        source = clearing_account(refund.currency)
    hops.append(
        (
            _hop(
                f"{name}:credit",
                source,
                target,
                refund.amount_minor,
                refund.currency,
                f"credited to the balance by operator {operator_id}",
            ),
            TransferCode.REFUND_OPERATOR_CREDIT,
        )
    )
    _move(uow, [_request(hop, code, refund.packet_id) for hop, code in hops], now_us)
    credited = replace(
        refund,
        state=RefundState.CREDITED,
        settled_at_us=now_us,
        destination_account_id=target,
        fee_minor=0,
        net_minor=refund.amount_minor,
        reason=f"the card payout failed ({refund.last_error}); operator "
        f"{operator_id} credited the balance",
        hops=refund.hops + tuple(hop for hop, _ in hops),
    )
    _record(uow, credited, now_us, before=refund)
    return credited


# ------------------------------------------------------------------------------- helpers


def _record(uow: UnitOfWork, refund: Refund, now_us: int, *, before: Refund | None = None) -> None:
    """Store the refund (new without ``before``) and, when its state changed, say so on its
    packet's stream in the same unit of work: the live stream and the packet's chain follow
    the money until it arrives."""
    if before is None:
        uow.refunds.insert(refund)
    else:
        uow.refunds.replace(refund)
    if before is None or before.state is not refund.state:
        append(uow.outbox, [new_event(RefundProgressed.of(refund))], consumers=(), now_us=now_us)


def _lock(uow: UnitOfWork, refund_id: str) -> Refund:
    refund = uow.refunds.lock(refund_id)
    if refund is None:
        raise RefundRefused(f"no refund {refund_id!r}", code=RefundCode.UNKNOWN_REFUND)
    return refund


def _schedule_recheck(uow: UnitOfWork, refund: Refund, now_us: int) -> None:
    due = present(
        refund.next_attempt_at_us, "a held refund has its next check", refund_id=refund.id
    )
    schedule(
        uow.scheduler,
        work_id=f"recheck:{refund.id}:{due}",
        kind=RECHECK_KIND,
        payload={"refund_id": refund.id},
        due_at_us=due,
        now_us=now_us,
    )


def _open_accounts(uow: UnitOfWork, currency: str, now_us: int) -> None:
    accounts = [
        NewAccount(clearing_account(currency), AccountKind.REFUND_CLEARING, currency),
        NewAccount(fee_account(currency), AccountKind.FEE_REVENUE, currency),
        NewAccount(fx_account(currency), AccountKind.FX_POSITION, currency),
        NewAccount(risk_hold_account(currency), AccountKind.RISK_HOLD, currency),
    ]
    results = ledger_operations.create_accounts(uow.ledger, accounts, now_us)
    invariant(all(result.succeeded for result in results), "refund accounts exist")


def _hop(  # noqa: PLR0917 - a hop's fields, in the record's order
    transfer_id: str, source: str, target: str, amount_minor: int, currency: str, note: str
) -> RefundHop:
    return RefundHop(transfer_id, source, target, amount_minor, currency, note)


def _request(hop: RefundHop, code: int, packet_id: str) -> TransferRequest:
    return TransferRequest(
        hop.transfer_id,
        code,
        hop.amount_minor,
        hop.from_account_id,
        hop.to_account_id,
        hop.currency,
        reference=packet_id,
    )


def _move(uow: UnitOfWork, requests: list[TransferRequest], now_us: int) -> None:
    if not requests:
        return
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
