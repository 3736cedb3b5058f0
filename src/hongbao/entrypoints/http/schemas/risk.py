"""Bodies of the review queue's endpoints (R-K5)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field

from hongbao.entrypoints.http.schemas import NO_CONTROL, Body, Id, iso_time
from hongbao.recall.review import MAX_NOTE_LENGTH
from hongbao.risk.cases import CaseKind, CaseState, DeviceLock, LockState, RiskCase


class SignalView(Body):
    name: str
    value: int
    threshold: int
    window: str
    exempted_by: str | None
    # A flag's signal: what its detector measured (R-K3).
    evidence: dict[str, Any] | None = None


class CaseView(Body):
    id: str
    kind: CaseKind
    state: CaseState
    user_id: str
    level: int
    evidence: list[SignalView]
    decision_id: str | None
    refund_id: str | None
    device_id: str | None
    sim_id: str | None
    opened_at: str
    release_at: str | None
    decided_by: str | None
    decided_at: str | None
    note: str | None

    @classmethod
    def of(cls, case: RiskCase) -> CaseView:
        evidence: list[dict[str, Any]] = json.loads(case.evidence)
        return cls(
            id=case.id,
            kind=case.kind,
            state=case.state,
            user_id=case.user_id,
            level=case.level,
            evidence=[SignalView(**signal) for signal in evidence],
            decision_id=case.decision_id,
            refund_id=case.refund_id,
            device_id=case.device_id,
            sim_id=case.sim_id,
            opened_at=iso_time(case.opened_at_us),
            release_at=None if case.release_at_us is None else iso_time(case.release_at_us),
            decided_by=case.decided_by,
            decided_at=None if case.decided_at_us is None else iso_time(case.decided_at_us),
            note=case.note,
        )


class DecisionBody(Body):
    note: Annotated[str, Field(min_length=1, max_length=MAX_NOTE_LENGTH, pattern=NO_CONTROL)]
    # Confirm only: also freeze the account for money-moving operations (level 4).
    escalate: bool = False


class CaseCounts(Body):
    open: int
    reviewed: int
    confirmed: int
    released_by_reviewer: int
    released_at_release_time: int
    unlocked: int


class StatsView(Body):
    """Detection quality over the last ``days`` (R-K6); rates in basis points, null when
    nothing was there to divide by."""

    days: int
    decisions: int
    decisions_at_level: list[int]
    decisions_at_level_2_or_more: int
    trigger_rate_bp: int | None
    cases: CaseCounts
    precision_bp: int | None


class UnlockBody(Body):
    challenge_id: Id  # a passed face check opened on this device for 'unlock:<device id>'


class DeviceLockView(Body):
    device_id: str
    sim_id: str
    user_id: str
    state: LockState  # unlocked, once the user's face check unlocked it
    locked_at: str
    unlocked_at: str | None
    unlocked_by: str | None

    @classmethod
    def of(cls, lock: DeviceLock) -> DeviceLockView:
        return cls(
            device_id=lock.device_id,
            sim_id=lock.sim_id,
            user_id=lock.user_id,
            state=lock.state,
            locked_at=iso_time(lock.locked_at_us),
            unlocked_at=None if lock.unlocked_at_us is None else iso_time(lock.unlocked_at_us),
            unlocked_by=lock.unlocked_by,
        )
