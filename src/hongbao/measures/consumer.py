"""The ``measures`` outbox consumer: each recall decision (``RecallDecided``) bumps a few
counter rows, off the money path and in the relay's transaction, so each decision is counted
once however often its request was repeated."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from hongbao.identity.reads import find_device, find_user
from hongbao.measures.counts import UNKNOWN_BAND, Count, Labels, Measure, key_of
from hongbao.measures.guidance import RECALL_BUBBLES, cohort_of
from hongbao.measures.misoperation import misoperations
from hongbao.measures.ports import UnitOfWork
from hongbao.platform.invariants import present
from hongbao.platform.outbox import OutboxEvent
from hongbao.recall.events import RecallDecided
from hongbao.recall.explanations import CAUSES, Cause
from hongbao.recall.model import DecisionResult
from hongbao.recall.reasons import ReasonCode
from hongbao.recall.records import DecisionPurpose, DecisionRecord, RecallState

MAX_EARLIER_DECISIONS: Final = 200
OUTCOMES: Final = {
    DecisionResult.ALLOW: Measure.RECALL_DONE,
    DecisionResult.DENY: Measure.RECALL_DENIED,
    DecisionResult.CHALLENGE: Measure.RECALL_CHALLENGED,
}


@dataclass(frozen=True)
class RecallMeasures:
    """Registered in ``worker.build_relay`` under ``recall.risk_analysis.MEASURES``."""

    def __call__(self, uow: UnitOfWork, event: OutboxEvent) -> None:
        if event.event_type != RecallDecided.event_type:
            return
        payload = event.payload_object()
        decision = present(
            uow.recalls.decisions.get(payload["decision_id"]),
            "a decided recall's decision is recorded",
            decision_id=payload["decision_id"],
        )
        result = DecisionResult(payload["result"])
        person, device = _labels(uow, decision)
        earlier = uow.measures.decisions_before(
            decision.packet_id,
            decision.requester_id,
            decision.decision_id,
            decision.created_at_us,
            limit=MAX_EARLIER_DECISIONS,
        )
        bump = _Bumper(uow)
        outcome = OUTCOMES[result]
        bump(outcome, device)
        done_at_us = 0
        if result is DecisionResult.ALLOW:
            recall = uow.recalls.recalls.get(payload["recall_key"])
            done = recall is not None and recall.state is RecallState.DONE
            if done and recall is not None:
                done_at_us = present(
                    recall.executed_at_us, "a done recall ran", key=recall.idempotency_key
                )
                bump(Measure.RECALL_LATENCY, device, done_at_us - recall.created_at_us)
                refused = sum(
                    1
                    for purpose, answer in earlier
                    if purpose == DecisionPurpose.RECALL.value
                    and answer == DecisionResult.DENY.value
                )
                bump(Measure.ATTEMPTS_BEFORE_SUCCESS, person, refused)
        if result is DecisionResult.DENY:
            cause = _cause(payload["reasons"])
            bump(Measure.REFUSAL_CAUSE, Labels(person.age_band, detail=cause.value))
        sent_at_us = int(json.loads(decision.facts)["packet"]["created_at_us"])
        kinds = misoperations(
            denied=result is DecisionResult.DENY,
            button_showed_denial=any(
                purpose == DecisionPurpose.QUERY.value and answer == DecisionResult.DENY.value
                for purpose, answer in earlier
            ),
            done=done_at_us > 0,
            sent_at_us=sent_at_us,
            done_at_us=done_at_us,
        )
        for kind in kinds:
            bump(Measure.MISOPERATION, Labels(person.age_band, detail=kind.value))
        seen = uow.measures.hints_seen(decision.requester_id, RECALL_BUBBLES)
        cohort = Labels(person.age_band, detail=cohort_of(seen, decision.created_at_us).value)
        bump(Measure.COHORT_ATTEMPT, cohort)
        if kinds:
            bump(Measure.COHORT_MISOPERATION, cohort)


def _labels(uow: UnitOfWork, decision: DecisionRecord) -> tuple[Labels, Labels]:
    """The person's labels (their age band) and the device's (model and platform)."""
    user = find_user(uow.identity, decision.requester_id)
    band = user.age_band.value if user is not None and user.age_band else UNKNOWN_BAND
    device = find_device(uow.identity, decision.device_id, decision.sim_id)
    if device is None:
        return Labels(band), Labels(band, "unregistered", "unregistered")
    return Labels(band), Labels(band, device.platform.value, device.model)


def _cause(reasons: list[str]) -> Cause:
    """The R-U1 cause of a refusal: that of its first reason with one, as the button says."""
    for reason in reasons:
        try:
            cause = CAUSES.get(ReasonCode(reason))
        except ValueError:
            continue
        if cause is not None:
            return cause
    return Cause.SYSTEM_SETTLING


class _Bumper:
    """Adds one to a counter row (and ``total`` to its total), creating it the first time."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._counts = uow.measures.counts

    def __call__(self, measure: Measure, labels: Labels, total: int = 0) -> None:
        key = key_of(measure, labels)
        row = self._counts.lock(*key)
        if row is None:
            self._counts.insert(Count.first(measure, labels, total))
        else:
            self._counts.replace(row.plus(total))
