"""The risk rules of R-K2 as one pure function: the history of a request and the exemptions
it holds in, a level, its actions and the signals that decided them out.

- attempts: >= ``attempts_for_face`` recall requests in the window ask for face verification
  (level 1); VIP users are exempt;
- cumulative: >= ``hold_cumulative_amount`` recalled in the window (this recall included)
  holds the refund for ``hold_hours`` (level 2, delayed arrival); certified enterprises and
  the education green channel are exempt;
- travel: a request >= ``travel_km`` from the one before it within the travel window locks
  the device (level 3); the travel whitelist is exempt; a device already locked stays at 3;
- flags: each flag the behaviour analysis raised (R-K3) and that is still in force is a
  signal named after its detector, carrying its level and evidence; the highest one sets the
  level (1 step-up, 2 hold, 3 lock). The behaviour baseline's flag is lifted by the education
  green channel, like the cumulative rule (tuition is large and rare by nature, R-K4).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from hongbao.policy.document import RiskPolicy
from hongbao.risk.flags import Detector, FlagSeen
from hongbao.risk.model import RiskAction, RiskAssessment, RiskHistory, Signal

ASSESSOR: Final = "risk-rules"
VIP: Final = "vip"
CERTIFIED_ENTERPRISE: Final = "certified_enterprise"
EDUCATION_GREEN_CHANNEL: Final = "education_green_channel"
TRAVEL_WHITELIST: Final = "travel_whitelist"

LEVEL_OF: Final = {
    RiskAction.CHALLENGE: 1,
    RiskAction.HOLD: 2,
    RiskAction.LOCK: 3,
    RiskAction.BLOCK: 4,
}
ACTION_AT: Final = {level: action for action, level in LEVEL_OF.items()}
FLAG_WINDOW: Final = "until the flag expires"
# The exemptions that lift a detector's flag; a detector not listed is lifted by none.
FLAG_EXEMPTIONS: Final = {Detector.BEHAVIOUR.value: (EDUCATION_GREEN_CHANNEL,)}


def assess(
    history: RiskHistory,
    exemptions: Collection[str],
    policy: RiskPolicy,
    policy_version: str | None = None,
) -> RiskAssessment:
    signals = (
        _signal(
            "recall_attempts",
            history.attempts_in_window,
            policy.attempts_for_face,
            f"{policy.attempt_window_minutes} min",
            _exempt(exemptions, VIP, vip=history.vip),
        ),
        _signal(
            "recalled_amount",
            history.recalled_in_window_minor,
            policy.hold_cumulative_amount_minor,
            f"{policy.cumulative_window_days} days",
            _exempt(exemptions, CERTIFIED_ENTERPRISE, EDUCATION_GREEN_CHANNEL),
        ),
        _signal(
            "travel_km",
            -1 if history.moved_km is None else history.moved_km,
            policy.travel_km,
            f"{policy.travel_window_minutes} min",
            _exempt(exemptions, TRAVEL_WHITELIST),
        ),
        _signal("device_locked", int(history.device_locked), 1, "until unlocked", None),
    )
    flagged = tuple(_flag_signal(flag, exemptions) for flag in history.flags)
    actions = tuple(
        action
        for signal, action in zip(
            signals,
            (RiskAction.CHALLENGE, RiskAction.HOLD, RiskAction.LOCK, RiskAction.LOCK),
            strict=True,
        )
        if signal.fired
    ) + tuple(ACTION_AT[signal.value] for signal in flagged if signal.fired)
    unique = tuple(sorted(dict.fromkeys(actions), key=LEVEL_OF.__getitem__))
    level = max((LEVEL_OF[action] for action in unique), default=0)
    reasons = tuple(
        f"{s.name} {s.value} >= {s.threshold} in {s.window}" for s in signals if s.fired
    ) + tuple(f"{s.name} flag at level {s.value}: {s.evidence}" for s in flagged if s.fired)
    return RiskAssessment(
        level=level,
        actions=unique,
        assessor=ASSESSOR,
        reasons=reasons or ("no rule fired",),
        signals=signals + flagged,
        policy_version=policy_version,
    )


def _signal(name: str, value: int, threshold: int, window: str, exempted_by: str | None) -> Signal:
    reached = value >= threshold
    return Signal(
        name,
        value,
        threshold,
        window,
        fired=reached and exempted_by is None,
        exempted_by=exempted_by if reached else None,
    )


def _flag_signal(flag: FlagSeen, exemptions: Collection[str]) -> Signal:
    """A flag as a signal named after its detector: its level against level 1."""
    lifted = _exempt(exemptions, *FLAG_EXEMPTIONS.get(flag.detector, ()))
    return Signal(
        flag.detector,
        flag.level,
        1,
        FLAG_WINDOW,
        fired=lifted is None,
        exempted_by=lifted,
        evidence=flag.evidence,
    )


def _exempt(held: Collection[str], *kinds: str, vip: bool = False) -> str | None:
    """The exemption (of ``kinds``) that lifts a rule, if the requester holds one."""
    if vip:
        return VIP
    return next((kind for kind in kinds if kind in held), None)
