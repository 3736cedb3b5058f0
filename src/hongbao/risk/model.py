"""Risk levels and the actions they carry (R-K1): what an assessor answers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RiskAction(StrEnum):
    CHALLENGE = "challenge"
    HOLD = "hold"
    LOCK = "lock"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    level: int  # 0 (pass) .. 4 (block), R-K1
    actions: tuple[RiskAction, ...] = ()
    assessor: str = "default"
    reasons: tuple[str, ...] = ()
