"""Risk flags: what the behaviour analysis (R-K3) concluded about a user, kept until it
expires so that the money path reads it with the user's profile, in O(1).

The analysis runs off the money path, on the outbox relay, and may lag behind the recalls it
watches; a flag therefore weighs on the user's later recalls, never on the one that raised it.
One row per (user, detector): a detector raising again replaces its flag.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hongbao.platform.invariants import invariant

MAX_FLAG_LEVEL: Final = 3  # a flag can lock a device; blocking an account takes a reviewer
MAX_EVIDENCE_CHARS: Final = 2_000


class Detector(StrEnum):
    """The detectors of R-K3, each raising a flag of its own."""

    BEHAVIOUR = "behaviour"  # a recall far off the user's own amount or timing baseline
    RING = "ring"  # linked accounts (devices, SIMs, cards, cycles) forming a group (团伙)
    CASH_OUT = "cash_out"  # credit-card-funded packets recalled to the balance
    STRUCTURING = "structuring"  # many recalls just under a threshold amount
    RAPID_CYCLE = "rapid_cycle"  # send -> claim by a linked account -> recall, quickly


DETECTORS: Final = tuple(Detector)


@dataclass(frozen=True, slots=True)
class RiskFlag:
    user_id: str
    detector: Detector
    level: int  # 1 .. MAX_FLAG_LEVEL
    evidence: str  # JSON object: what the detector measured
    raised_at_us: int
    expires_at_us: int

    def __post_init__(self) -> None:
        invariant(1 <= self.level <= MAX_FLAG_LEVEL, "a flag's level is 1 to 3", level=self.level)
        invariant(
            len(self.evidence) <= MAX_EVIDENCE_CHARS,
            "a flag's evidence is bounded",
            detector=self.detector.value,
        )

    def is_active_at(self, now_us: int) -> bool:
        return self.raised_at_us <= now_us < self.expires_at_us


@dataclass(frozen=True, slots=True)
class FlagSeen:
    """An active flag as a recall's risk history keeps it, so the decision replays."""

    detector: str
    level: int
    evidence: str


def active_flags(flags: Iterable[RiskFlag], now_us: int) -> tuple[FlagSeen, ...]:
    """The flags in force at ``now_us``, highest level first (then by detector)."""
    seen = [
        FlagSeen(flag.detector.value, flag.level, flag.evidence)
        for flag in flags
        if flag.is_active_at(now_us)
    ]
    return tuple(sorted(seen, key=lambda flag: (-flag.level, flag.detector)))
