"""The behaviour analysis of R-K3, fed by the outbox: the ``risk-analysis`` consumer of each
recall's ``RecallDecided`` events.

For every decision it tallies the decision's risk level by day (the review metrics' trigger
rate). For a decision that ran its recall it reads what the event does not carry (the recall,
its packet and claims, its refund and funding card), links the requester to the device, SIM
and card it used in the link graph, counts rapid cycles with the packet's claimers, and runs
the per-user detectors; the flags they raise are written for the money path to read with
the requester's profile.

The analysis may lag the recalls (R-K3 allows it): a flag weighs on the user's later
recalls. Each event is applied once: its id is recorded in the same transaction as its
effects, and a redelivery finds it and changes nothing. Units of work running the analysis
take turns (``take_analysis_turn``), so the graph's components and a user's baselines are
never updated from two sides at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from hongbao.funding.service import find_stored_source, funding_from_stored
from hongbao.funding.sources import (
    CreditCardSource,
    DebitCardSource,
    ForeignCardSource,
    FundingKind,
)
from hongbao.platform.clock import MICROSECONDS_PER_SECOND
from hongbao.platform.invariants import present
from hongbao.platform.limits import MAX_SPLIT_PARTS
from hongbao.platform.outbox import OutboxEvent
from hongbao.policy.document import RiskPolicy
from hongbao.policy.store import PolicyStore
from hongbao.recall.events import RecallDecided
from hongbao.recall.ports import UnitOfWork
from hongbao.recall.records import Recall
from hongbao.refunds.routes import RefundRoute
from hongbao.risk.analysis import BehaviourState, RecallSeen, flag_for, observe
from hongbao.risk.flags import Detector, RiskFlag
from hongbao.risk.graph import Pair, component_of, link, members, user_node
from hongbao.risk.profile import MICROSECONDS_PER_DAY
from hongbao.risk.stats import AppliedEvent, DailyDecisions

RISK_ANALYSIS: Final = "risk-analysis"
# The consumers of a recall's RecallDecided events, each registered in worker.build_relay.
MEASURES: Final = "measures"  # hongbao.measures counts each decision per age band and device
DECIDED_CONSUMERS: Final = (RISK_ANALYSIS, MEASURES)
MICROSECONDS_PER_MINUTE: Final = 60 * MICROSECONDS_PER_SECOND
MAX_CLAIMERS_PAIRED: Final = 100  # a rapid cycle pairs the sender with this many claimers


@dataclass(frozen=True)
class RiskAnalysis:
    """The ``risk-analysis`` consumer (see the module's description)."""

    policies: PolicyStore

    def __call__(self, uow: UnitOfWork, event: OutboxEvent) -> None:
        if event.event_type != RecallDecided.event_type:
            return
        uow.risk.take_analysis_turn()
        if uow.risk.applied.get(event.id) is not None:
            return  # applied before: a redelivery
        payload = event.payload_object()
        decision = present(
            uow.recalls.decisions.get(str(payload["decision_id"])),
            "a decided recall's decision is stored",
            event_id=event.id,
        )
        facts = json.loads(decision.facts)
        _tally(uow, decision.created_at_us, int(facts["risk"]["level"]))
        recall = uow.recalls.recalls.get(str(payload["recall_key"]))
        ran = recall is not None and recall.executed_at_us is not None
        if recall is not None and ran and recall.last_decision_id == decision.decision_id:
            analyse(uow, recall, self.policies.active().risk)
        uow.risk.applied.insert(AppliedEvent(event.id, event.created_at_us))


def analyse(uow: UnitOfWork, recall: Recall, policy: RiskPolicy) -> None:
    """Everything one executed recall tells the analysis, written in ``uow``."""
    at_us = present(recall.executed_at_us, "an analysed recall ran", key=recall.idempotency_key)
    packet = present(
        uow.packets.packets.get(recall.packet_id), "a recall's packet exists", key=recall.packet_id
    )
    user = recall.requester_id
    nodes = [user_node(user), f"device:{recall.device_id}", f"sim:{recall.sim_id}"]
    card = _card_of(uow, packet.funding_source_id, packet.funding_kind)
    if card is not None:
        nodes.append(card)
    link(uow.risk, nodes, at_us)
    delay_us = at_us - packet.created_at_us
    claimers = sorted(
        {
            share.claimed_by
            for share in uow.packets.shares_of(packet.id, limit=MAX_SPLIT_PARTS)
            if share.claimed_by is not None and share.claimed_by != user
        }
    )[:MAX_CLAIMERS_PAIRED]
    rapid = delay_us <= policy.cycle_minutes * MICROSECONDS_PER_MINUTE
    if rapid:
        _pair_cycles(uow, user, claimers, at_us, policy)
    mine = component_of(uow.risk, user_node(user))
    linked = (
        sum(1 for c in claimers if component_of(uow.risk, user_node(c)) == mine) if rapid else 0
    )
    refund = uow.refunds.get(recall.refund_id) if recall.refund_id else None
    seen = RecallSeen(
        user,
        at_us,
        recall.recalled_minor or 0,
        delay_us,
        card_to_balance=packet.funding_kind is FundingKind.CREDIT_CARD
        and refund is not None
        and refund.route is RefundRoute.BALANCE,
        linked_cycles=linked,
    )
    stored = uow.risk.behaviour.get(user)
    observed = observe(stored or BehaviourState(user), seen, policy)
    if stored is None:
        uow.risk.behaviour.insert(observed.state)
    else:
        uow.risk.behaviour.replace(observed.state)
    flags = list(observed.flags)
    if mine is not None:
        flags += _ring_flags(uow, mine, at_us, policy)
    raise_flags(uow, flags)


def raise_flags(uow: UnitOfWork, flags: Sequence[RiskFlag]) -> None:
    """Write ``flags``, each replacing its user's flag of the same detector."""
    latest = {(flag.user_id, flag.detector.value): flag for flag in flags}
    stored = uow.risk.flags.get_many(list(latest))
    uow.risk.flags.insert_many([f for key, f in latest.items() if key not in stored])
    uow.risk.flags.replace_many([f for key, f in latest.items() if key in stored])


def _ring_flags(
    uow: UnitOfWork, component_id: str, at_us: int, policy: RiskPolicy
) -> list[RiskFlag]:
    component = uow.risk.components.get(component_id)
    if component is None or component.users < policy.ring_min_members:
        return []
    evidence: dict[str, object] = {
        "linked_accounts": component.users,
        "links": component.nodes - component.users,
        "component": component_id,
        "min_members": policy.ring_min_members,
    }
    return [
        flag_for(member, Detector.RING, policy.ring_level, evidence, now_us=at_us, policy=policy)
        for member in members(uow.risk, component_id)
    ]


def _pair_cycles(
    uow: UnitOfWork, user: str, claimers: Sequence[str], at_us: int, policy: RiskPolicy
) -> None:
    """One rapid cycle more between ``user`` and each claimer; a pair that cycled
    ``ring_pair_cycles`` times is linked in the graph."""
    keys = [tuple(sorted((user, claimer))) for claimer in claimers]
    stored = uow.risk.pairs.get_many(keys)
    for low, high in keys:
        before = stored.get((low, high))
        pair = Pair(low, high, (before.cycles if before else 0) + 1, at_us)
        if before is None:
            uow.risk.pairs.insert(pair)
        else:
            uow.risk.pairs.replace(pair)
        if pair.cycles >= policy.ring_pair_cycles:
            link(uow.risk, [user_node(low), user_node(high)], at_us)


def _card_of(uow: UnitOfWork, source_id: str, kind: FundingKind) -> str | None:
    """The graph node of the card that funded a packet: issuer and masked number (all that
    hongbao keeps of a card), so two accounts paying with one card meet there."""
    if kind not in {FundingKind.CREDIT_CARD, FundingKind.DEBIT_CARD, FundingKind.FOREIGN_CARD}:
        return None
    stored = find_stored_source(uow.funding, source_id)
    if stored is None:
        return None
    source = funding_from_stored(stored)
    if isinstance(source, CreditCardSource):
        return f"card:{source.issuer}/{source.masked_number}"
    if isinstance(source, DebitCardSource):
        return f"card:{source.bank_name}/{source.masked_number}"
    if isinstance(source, ForeignCardSource):
        return f"card:{source.currency}/{source.masked_number}"
    return None


def _tally(uow: UnitOfWork, decided_at_us: int, level: int) -> None:
    day = decided_at_us // MICROSECONDS_PER_DAY
    stored = uow.risk.daily.get(day)
    counted = (stored or DailyDecisions(day)).plus(level)
    if stored is None:
        uow.risk.daily.insert(counted)
    else:
        uow.risk.daily.replace(counted)
