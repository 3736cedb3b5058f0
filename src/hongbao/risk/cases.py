"""Locked devices and the review queue's cases (R-K1, R-K5): what risk control keeps."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LockState(StrEnum):
    LOCKED = "locked"
    UNLOCKED = "unlocked"


@dataclass(frozen=True, slots=True)
class DeviceLock:
    """A device (with its SIM) that may not send, claim or recall until it is unlocked."""

    device_id: str
    sim_id: str
    user_id: str
    state: LockState
    reason: str
    decision_id: str | None
    locked_at_us: int
    unlocked_at_us: int | None = None
    unlocked_by: str | None = None

    @property
    def is_locked(self) -> bool:
        return self.state is LockState.LOCKED


class CaseKind(StrEnum):
    HOLD = "hold"  # a refund held in the risk-hold account (delayed arrival)
    LOCK = "lock"  # a locked device


class CaseState(StrEnum):
    OPEN = "open"  # waiting for a reviewer (a hold is also released at its release time)
    RELEASED = "released"  # the held money moved on (by a reviewer or at its release time)
    CONFIRMED = "confirmed"  # a reviewer found it suspicious: the money stays held
    UNLOCKED = "unlocked"  # the device may act again
    BLOCKED = "blocked"  # confirmed and escalated: the account is frozen (level 4)


# Who decided a hold that nobody reviewed before its release time.
RELEASE_TIME = "release time"


@dataclass(frozen=True, slots=True)
class RiskCase:
    """One item of the review queue, with its evidence and, once decided, who decided what
    and why (the audit)."""

    id: str
    kind: CaseKind
    user_id: str
    state: CaseState
    level: int
    evidence: str  # the signals that fired, as the decision recorded them
    decision_id: str | None
    opened_at_us: int
    refund_id: str | None = None
    device_id: str | None = None
    sim_id: str | None = None
    release_at_us: int | None = None  # a hold moves on by itself at this time
    decided_by: str | None = None
    decided_at_us: int | None = None
    note: str | None = None
