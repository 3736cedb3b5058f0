"""Refunding what nobody claimed of a packet: the plan from the packet's own facts, and carrying
it out (R-F1..R-F6). Expiry and recall both come here, inside their unit of work. The packet
context owns it: it reads the packet and its card hold, and asks refunds to plan and move.

:func:`plan_packet_refund` reads the facts the planner needs (the original funding source, the
sender's status, when the card was charged, the two exchange rates of a foreign card) and
returns the plan with the ledger account it pays. A recall shows that plan before it runs and
is denied when there is no route (unless smart routing offers the balance and the sender
accepts). An expiry cannot be denied, so :func:`expiry_plan` decides what happens to money no
route can take now:

- a refusal that ends (a bank maintenance window) holds the refund in clearing until it ends;
- a refusal that never ends for the card (the charge is on an issued statement) sends the money
  to the balance instead (our rule for expiry: nobody is there to accept a substitute, and the
  money must not wait for a card that will never take it);
- a frozen account or a missing exchange rate holds it and plans again every
  ``held_recheck_minutes``, until the account is normal or a rate is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hongbao.distribution.unwinding import destination_of
from hongbao.funding.ports import StoredFunding
from hongbao.funding.service import find_stored_source, funding_from_stored
from hongbao.funding.sources import FundingKind, FundingSource
from hongbao.fx import FxError, RateProvider, usable_rate
from hongbao.identity.reads import find_user
from hongbao.identity.users import User
from hongbao.money import Money
from hongbao.packets.model import Packet
from hongbao.packets.ports import UnitOfWork
from hongbao.platform.clock import MICROSECONDS_PER_SECOND
from hongbao.platform.invariants import invariant, present
from hongbao.policy.document import Policy
from hongbao.refunds.records import Refund, RefundState, RefundTrigger
from hongbao.refunds.routes import (
    STATEMENT_ISSUED,
    FxRates,
    NoRoute,
    RefundPlan,
    RefundRoute,
    plan_refund,
)
from hongbao.refunds.settlement import (
    balance_account,
    hold_for_review,
    hold_refund,
    keep_holding,
    release_from_review,
    resume_held,
    start_refund,
)

MICROSECONDS_PER_MINUTE = 60 * MICROSECONDS_PER_SECOND


@dataclass(frozen=True, slots=True)
class PacketRefundPlan:
    """A plan (or why there is none) and the account its money goes to: the original
    source's, or the balance when smart routing or the expiry rule chose it."""

    plan: RefundPlan | NoRoute
    destination_account_id: str
    source: FundingSource


def plan_packet_refund(
    uow: UnitOfWork,
    packet: Packet,
    *,
    now_us: int,
    policy: Policy,
    rates: RateProvider,
    smart_routing: bool,
    source: StoredFunding | None = None,
    sender: User | None = None,
) -> PacketRefundPlan:
    """The refund of ``packet``'s unclaimed remainder, planned from the facts as they are now.
    ``source`` and ``sender``: the packet's funding source and sender when the caller read them
    already (with its other reads); the others are read here."""
    invariant(packet.remainder_minor > 0, "only a remainder is refunded", packet_id=packet.id)
    stored = present(
        source or find_stored_source(uow.funding, packet.funding_source_id),
        "a packet's source exists",
        packet_id=packet.id,
    )
    sender = present(
        sender or find_user(uow.identity, packet.sender_id),
        "a packet's sender exists",
        packet_id=packet.id,
    )
    invariant(
        stored.id == packet.funding_source_id and sender.id == packet.sender_id,
        "the facts read already are the packet's own",
        packet_id=packet.id,
    )
    funding = funding_from_stored(stored)
    charged_at_us, fx = _card_facts(uow, packet, funding, now_us, policy, rates)
    plan = plan_refund(
        funding,
        sender.status,
        Money.of(packet.remainder_minor, packet.currency),
        charged_at_us=charged_at_us,
        now_us=now_us,
        smart_routing=smart_routing,
        fx=fx,
    )
    return PacketRefundPlan(plan, _destination(uow, packet, funding, plan), funding)


def expiry_plan(
    uow: UnitOfWork, packet: Packet, *, now_us: int, policy: Policy, rates: RateProvider
) -> PacketRefundPlan:
    """The plan for an expired packet: the original route, or the balance when the card will
    never take it (see the module docstring)."""
    planned = plan_packet_refund(
        uow, packet, now_us=now_us, policy=policy, rates=rates, smart_routing=False
    )
    refusal = planned.plan
    if isinstance(refusal, NoRoute) and refusal.reason_code == STATEMENT_ISSUED:
        instead = plan_packet_refund(
            uow, packet, now_us=now_us, policy=policy, rates=rates, smart_routing=True
        )
        return instead
    return planned


def refund_remainder(
    uow: UnitOfWork,
    packet: Packet,
    planned: PacketRefundPlan,
    *,
    trigger: RefundTrigger,
    policy: Policy,
    now_us: int,
    risk_hold_until_us: int | None = None,
) -> Refund:
    """Carry the plan out from the packet's escrow, or hold the money when there is no route
    (an expiry only: a recall without a route is denied before it gets here). With
    ``risk_hold_until_us`` risk control holds it for review until then (delayed arrival)."""
    refund_id = f"{trigger.value}:{packet.id}"
    plan = planned.plan
    if risk_hold_until_us is not None and isinstance(plan, RefundPlan):
        return hold_for_review(
            uow,
            refund_id=refund_id,
            packet_id=packet.id,
            owner_id=packet.sender_id,
            from_account_id=packet.escrow_account_id,
            destination_account_id=planned.destination_account_id,
            amount=Money.of(packet.remainder_minor, packet.currency),
            route=plan.route,
            release_at_us=risk_hold_until_us,
            now_us=now_us,
            trigger=trigger,
        )
    if isinstance(plan, RefundPlan):
        return start_refund(
            uow,
            refund_id=refund_id,
            packet_id=packet.id,
            owner_id=packet.sender_id,
            from_account_id=packet.escrow_account_id,
            destination_account_id=planned.destination_account_id,
            plan=plan,
            now_us=now_us,
            trigger=trigger,
        )
    invariant(
        trigger is RefundTrigger.EXPIRY, "a recall refunds only along a route", packet_id=packet.id
    )
    return hold_refund(
        uow,
        refund_id=refund_id,
        packet_id=packet.id,
        owner_id=packet.sender_id,
        from_account_id=packet.escrow_account_id,
        destination_account_id=planned.destination_account_id,
        amount=Money.of(packet.remainder_minor, packet.currency),
        refusal=plan,
        recheck_at_us=_recheck_at(plan, policy, now_us),
        now_us=now_us,
        trigger=trigger,
    )


def recheck_held(
    uow: UnitOfWork, refund_id: str, *, now_us: int, policy: Policy, rates: RateProvider
) -> Refund | None:
    """Scheduler work: plan a held refund again; carry it out if a route takes it now."""
    refund = present(uow.refunds.lock(refund_id), "a held refund exists", refund_id=refund_id)
    if refund.state is not RefundState.HELD:
        return refund  # a repeated job: it has already moved on
    packet = present(
        uow.packets.packets.get(refund.packet_id), "a refund's packet exists", refund_id=refund_id
    )
    # The packet is closed, so its remainder is still the held amount.
    planned = expiry_plan(uow, packet, now_us=now_us, policy=policy, rates=rates)
    if isinstance(planned.plan, RefundPlan):
        return resume_held(uow, refund, planned.plan, planned.destination_account_id, now_us)
    return keep_holding(
        uow, refund, planned.plan, _recheck_at(planned.plan, policy, now_us), now_us
    )


def release_risk_hold(
    uow: UnitOfWork, refund_id: str, *, now_us: int, policy: Policy, rates: RateProvider
) -> Refund:
    """A risk-held refund moves on now: out of the risk hold, planned and carried out (or held
    in clearing when no route takes it now). A refund no longer risk-held is left as it is."""
    refund = present(uow.refunds.lock(refund_id), "a risk-held refund exists", refund_id=refund_id)
    if refund.state is not RefundState.RISK_HELD:
        return refund
    release_from_review(uow, refund, now_us)
    return present(
        recheck_held(uow, refund_id, now_us=now_us, policy=policy, rates=rates),
        "a released refund exists",
        refund_id=refund_id,
    )


def _recheck_at(refusal: NoRoute, policy: Policy, now_us: int) -> int:
    if refusal.retry_at_us is not None and refusal.retry_at_us > now_us:
        return refusal.retry_at_us
    return now_us + policy.refunds.held_recheck_minutes * MICROSECONDS_PER_MINUTE


def _destination(
    uow: UnitOfWork, packet: Packet, source: FundingSource, plan: RefundPlan | NoRoute
) -> str:
    if isinstance(plan, RefundPlan) and plan.route is RefundRoute.BALANCE:
        return balance_account(packet.sender_id)
    if isinstance(plan, RefundPlan) and plan.budget_id is not None:
        return destination_of(uow, plan.budget_id)  # the nearest open budget up the chain
    return source.ledger_account_id


def _card_facts(  # noqa: PLR0917 - the packet, its source and what pricing it needs
    uow: UnitOfWork,
    packet: Packet,
    source: FundingSource,
    now_us: int,
    policy: Policy,
    rates: RateProvider,
) -> tuple[int, FxRates | None]:
    """When the packet was charged (a card: when its hold was captured), and a foreign card's
    two rates: the one it was charged at and the usable one now."""
    if not packet.is_card_funded:
        # Asked by a clock a little behind the one that stamped the send: the charge is never
        # later than the moment in question (as for a card's capture below).
        return min(packet.created_at_us, now_us), None
    authorization = present(
        uow.packets.authorizations.get(packet.id),
        "a card packet has its authorization",
        packet_id=packet.id,
    )
    # Captured by a job that ran late, or asked about (a what-if) before the capture ran: the
    # charge is never later than the moment in question.
    charged_at_us = min(authorization.closed_at_us or packet.created_at_us, now_us)
    if source.kind is not FundingKind.FOREIGN_CARD or authorization.fx_rate is None:
        return charged_at_us, None
    card = authorization.charge_currency
    at_send = Decimal(authorization.fx_rate)
    max_age_us = policy.packets.fx_rate_max_age_minutes * MICROSECONDS_PER_MINUTE
    try:
        now_rate = usable_rate(rates, packet.currency, card, now_us=now_us, max_age_us=max_age_us)
    except FxError as error:
        return charged_at_us, FxRates(card, at_send, None, error.message)
    return charged_at_us, FxRates(card, at_send, now_rate)


def source_label(source: FundingSource) -> str:
    """Which card, as the sender knows it ("CMB **** 4444", "USD **** 1111"); the route names
    the kind, and a balance, money-market account or budget needs no label ("")."""
    masked = getattr(source, "masked_number", None)
    if masked is None:
        return ""
    bank = getattr(source, "bank_name", None) or getattr(source, "issuer", None) or source.currency
    return f"{bank} **** {str(masked)[-4:]}"
