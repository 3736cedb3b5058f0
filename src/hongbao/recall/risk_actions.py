"""What a recall's risk assessment makes happen, in the recall's own transaction (R-K1):
the requester's profile counts the attempt (and the amount, once recalled), a travel jump
locks the device, and a held refund opens a case in the review queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from hongbao.recall.facts import RecallFacts
from hongbao.recall.gather import RequesterReads
from hongbao.recall.model import Decision
from hongbao.recall.ports import UnitOfWork
from hongbao.recall.records import Recall
from hongbao.risk.cases import CaseKind, CaseState, DeviceLock, LockState, RiskCase
from hongbao.risk.geo import Place
from hongbao.risk.model import RiskAction, RiskAssessment
from hongbao.risk.profile import RiskProfile
from hongbao.risk.rules import LEVEL_OF

MICROSECONDS_PER_HOUR: Final = 3_600_000_000


@dataclass(frozen=True, slots=True)
class RiskOutcome:
    """A recall request as risk control sees it once decided (and, if allowed, executed)."""

    facts: RecallFacts
    decision: Decision
    recall: Recall
    requester: RequesterReads
    device: tuple[str, str]
    place: Place | None


def held_until(risk: RiskAssessment, now_us: int, hold_hours: int) -> int | None:
    """When a refund this assessment holds moves on by itself; None when it holds nothing."""
    if RiskAction.HOLD not in risk.actions:
        return None
    return now_us + hold_hours * MICROSECONDS_PER_HOUR


def act_on_risk(
    uow: UnitOfWork, outcome: RiskOutcome, *, hold_hours: int, new_attempt: bool
) -> None:
    _count(uow, outcome, new_attempt=new_attempt)
    risk = outcome.facts.risk
    if RiskAction.LOCK in risk.actions and not outcome.facts.risk_history.device_locked:
        _lock_device(uow, outcome)
    if RiskAction.HOLD in risk.actions and outcome.recall.refund_id is not None:
        _open_hold_case(uow, outcome, hold_hours)


def evidence_of(risk: RiskAssessment) -> str:
    """The signals that fired (or were lifted by an exemption), as the case keeps them."""
    return json.dumps(
        [
            {
                "name": s.name,
                "value": s.value,
                "threshold": s.threshold,
                "window": s.window,
                "exempted_by": s.exempted_by,
                **({"evidence": json.loads(s.evidence)} if s.evidence is not None else {}),
            }
            for s in risk.signals
            if s.fired or s.exempted_by is not None
        ],
        ensure_ascii=False,
    )


def _count(uow: UnitOfWork, outcome: RiskOutcome, *, new_attempt: bool) -> None:
    """The profile after this request: one attempt more (the first request under a key), and
    the amount recalled when it ran."""
    facts, recall = outcome.facts, outcome.recall
    stored = outcome.requester.risk_profile
    profile = stored or RiskProfile(recall.requester_id)
    if new_attempt:
        profile = profile.with_attempt(facts.now_us, outcome.place)
    if recall.executed_at_us is not None and recall.recalled_minor:
        profile = profile.with_recalled(recall.recalled_minor, facts.now_us)
    if profile == stored or (stored is None and profile == RiskProfile(recall.requester_id)):
        return
    if stored is None:
        uow.risk.profiles.insert(profile)
    else:
        uow.risk.profiles.replace(profile)


def _lock_device(uow: UnitOfWork, outcome: RiskOutcome) -> None:
    facts, recall = outcome.facts, outcome.recall
    device_id, sim_id = outcome.device
    reason = "; ".join(facts.risk.reasons)
    lock = DeviceLock(
        device_id,
        sim_id,
        recall.requester_id,
        LockState.LOCKED,
        reason,
        outcome.decision.decision_id,
        facts.now_us,
    )
    if outcome.requester.device_lock is None:
        uow.risk.locks.insert(lock)
    else:
        uow.risk.locks.replace(lock)
    uow.risk.cases.insert(
        RiskCase(
            id=f"lock:{outcome.decision.decision_id}",
            kind=CaseKind.LOCK,
            user_id=recall.requester_id,
            state=CaseState.OPEN,
            level=LEVEL_OF[RiskAction.LOCK],
            evidence=evidence_of(facts.risk),
            decision_id=outcome.decision.decision_id,
            opened_at_us=facts.now_us,
            device_id=device_id,
            sim_id=sim_id,
        )
    )


def _open_hold_case(uow: UnitOfWork, outcome: RiskOutcome, hold_hours: int) -> None:
    facts, recall = outcome.facts, outcome.recall
    uow.risk.cases.insert(
        RiskCase(
            id=f"hold:{recall.refund_id}",
            kind=CaseKind.HOLD,
            user_id=recall.requester_id,
            state=CaseState.OPEN,
            level=LEVEL_OF[RiskAction.HOLD],
            evidence=evidence_of(facts.risk),
            decision_id=outcome.decision.decision_id,
            opened_at_us=facts.now_us,
            refund_id=recall.refund_id,
            release_at_us=held_until(facts.risk, facts.now_us, hold_hours),
        )
    )
