"""Flags of the behaviour analysis in the synchronous assessment (R-K3, R-K4): each active
flag is a signal named after its detector with its evidence, the highest sets the level, an
expired flag is gone, and the education green channel lifts the behaviour flag only."""

from __future__ import annotations

import json

import pytest

from hongbao.platform.errors import InvariantViolation
from hongbao.policy.document import default_policy
from hongbao.risk.flags import Detector, FlagSeen, RiskFlag, active_flags
from hongbao.risk.model import RiskAction, RiskHistory
from hongbao.risk.rules import assess

POLICY = default_policy().risk
NOW_US = 1_796_000_000_000_000


def flag(detector: Detector, level: int, *, expires_at_us: int = NOW_US + 1) -> RiskFlag:
    return RiskFlag("u-1", detector, level, json.dumps({"why": detector.value}), 0, expires_at_us)


def test_the_highest_flag_sets_the_level_and_each_shows_with_its_evidence() -> None:
    flags = active_flags([flag(Detector.BEHAVIOUR, 1), flag(Detector.RING, 2)], NOW_US)
    assessment = assess(RiskHistory(flags=flags), (), POLICY)
    assert assessment.level == 2
    assert assessment.actions == (RiskAction.CHALLENGE, RiskAction.HOLD)
    ring = next(s for s in assessment.signals if s.name == "ring")
    assert (ring.value, ring.fired, ring.evidence) == (2, True, '{"why": "ring"}')
    assert any(reason.startswith("ring flag at level 2") for reason in assessment.reasons)


def test_a_flag_stops_weighing_the_moment_it_expires() -> None:
    assert active_flags([flag(Detector.RING, 2, expires_at_us=NOW_US)], NOW_US) == ()
    assert len(active_flags([flag(Detector.RING, 2, expires_at_us=NOW_US + 1)], NOW_US)) == 1


def test_a_level_three_flag_locks_the_device() -> None:
    seen = (FlagSeen("cash_out", 3, "{}"),)
    assert assess(RiskHistory(flags=seen), (), POLICY).actions == (RiskAction.LOCK,)


def test_the_education_green_channel_lifts_the_behaviour_flag_and_says_so() -> None:
    seen = (FlagSeen("behaviour", 1, '{"amount_minor": 900000}'),)
    assessment = assess(RiskHistory(flags=seen), ("education_green_channel",), POLICY)
    assert assessment.level == 0
    (behaviour,) = (s for s in assessment.signals if s.name == "behaviour")
    assert (behaviour.fired, behaviour.exempted_by) == (False, "education_green_channel")


@pytest.mark.parametrize("detector", ["ring", "cash_out", "structuring", "rapid_cycle"])
def test_the_education_green_channel_lifts_no_fund_flow_or_ring_flag(detector: str) -> None:
    seen = (FlagSeen(detector, 2, "{}"),)
    assert assess(RiskHistory(flags=seen), ("education_green_channel",), POLICY).level == 2


def test_a_flag_outside_levels_one_to_three_is_refused() -> None:
    with pytest.raises(InvariantViolation, match="level"):
        flag(Detector.RING, 4)
