"""Risk levels, the actions they carry, the signals behind them and the history they are
measured on (R-K1): what an assessor reads and answers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hongbao.risk.flags import FlagSeen


class RiskAction(StrEnum):
    CHALLENGE = "challenge"  # level 1: step-up (face verification)
    HOLD = "hold"  # level 2: the refund waits in the risk-hold account (delayed arrival)
    LOCK = "lock"  # level 3: the device can no longer send, claim or recall
    BLOCK = "block"  # level 4: the account may move no money


@dataclass(frozen=True, slots=True)
class Signal:
    """One measurement a rule compared with its threshold: what, how much, against what, over
    which window, and whether it fired (an exemption may have lifted it)."""

    name: str
    value: int
    threshold: int
    window: str
    fired: bool
    exempted_by: str | None = None
    evidence: str | None = None  # a flag's signal: what its detector measured (JSON)


@dataclass(frozen=True, slots=True)
class RiskHistory:
    """What the requester's risk profile says at this request, this request included: the
    raw values the rules compare, kept with the decision so that it can be replayed."""

    attempts_in_window: int = 0
    recalled_in_window_minor: int = 0  # this recall's amount included
    moved_km: int | None = None  # from the last known place within the travel window
    device_locked: bool = False
    vip: bool = False
    flags: tuple[FlagSeen, ...] = ()  # the behaviour analysis's active flags (R-K3)


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    level: int  # 0 (pass) .. 4 (block), R-K1
    actions: tuple[RiskAction, ...] = ()
    assessor: str = "default"
    reasons: tuple[str, ...] = ()
    signals: tuple[Signal, ...] = ()
    policy_version: str | None = None
