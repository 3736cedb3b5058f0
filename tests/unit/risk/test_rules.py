"""The risk rules at their boundaries (R-K2): 4 vs 5 attempts in the hour, 9,999.99 vs
10,000.00 recalled in 30 days, 299 vs 301 km within 10 minutes, and each rule's exemption."""

from __future__ import annotations

import pytest

from hongbao.policy.document import default_policy
from hongbao.risk.geo import GeoError, Place, distance_km, parse_place
from hongbao.risk.model import RiskAction, RiskHistory
from hongbao.risk.profile import MICROSECONDS_PER_MINUTE, RiskProfile, history_of
from hongbao.risk.rules import assess

POLICY = default_policy().risk
NOW_US = 1_796_000_000_000_000


def actions(history: RiskHistory, *exemptions: str) -> tuple[RiskAction, ...]:
    return assess(history, exemptions, POLICY).actions


@pytest.mark.parametrize(("attempts", "expected"), [(4, ()), (5, (RiskAction.CHALLENGE,))])
def test_the_fifth_attempt_in_the_window_asks_for_a_face(
    attempts: int, expected: tuple[RiskAction, ...]
) -> None:
    assert actions(RiskHistory(attempts_in_window=attempts)) == expected


def test_a_vip_is_exempt_from_the_attempt_rule_and_the_decision_says_so() -> None:
    assessment = assess(RiskHistory(attempts_in_window=9, vip=True), (), POLICY)
    assert assessment.actions == ()
    (attempts,) = (s for s in assessment.signals if s.name == "recall_attempts")
    assert (attempts.fired, attempts.exempted_by) == (False, "vip")
    assert actions(RiskHistory(attempts_in_window=9), "vip") == ()


@pytest.mark.parametrize(
    ("recalled_minor", "expected"), [(9_999_99, ()), (10_000_00, (RiskAction.HOLD,))]
)
def test_ten_thousand_yuan_in_thirty_days_holds_the_refund(
    recalled_minor: int, expected: tuple[RiskAction, ...]
) -> None:
    assert actions(RiskHistory(recalled_in_window_minor=recalled_minor)) == expected


@pytest.mark.parametrize("exemption", ["certified_enterprise", "education_green_channel"])
def test_certified_enterprises_and_tuition_are_never_held(exemption: str) -> None:
    assert actions(RiskHistory(recalled_in_window_minor=50_000_00), exemption) == ()


@pytest.mark.parametrize(("km", "expected"), [(299, ()), (301, (RiskAction.LOCK,))])
def test_a_jump_of_300_km_locks_the_device(km: int, expected: tuple[RiskAction, ...]) -> None:
    assert actions(RiskHistory(moved_km=km)) == expected
    assert actions(RiskHistory(moved_km=km), "travel_whitelist") == ()


def test_the_level_is_the_most_severe_action_and_every_signal_is_kept() -> None:
    assessment = assess(
        RiskHistory(attempts_in_window=5, recalled_in_window_minor=10_000_00, moved_km=900),
        (),
        POLICY,
        "default@1",
    )
    assert assessment.level == 3
    assert set(assessment.actions) == {RiskAction.CHALLENGE, RiskAction.HOLD, RiskAction.LOCK}
    assert [s.name for s in assessment.signals] == [
        "recall_attempts",
        "recalled_amount",
        "travel_km",
        "device_locked",
    ]
    assert assessment.policy_version == "default@1"


def test_a_locked_device_stays_at_level_three() -> None:
    assert assess(RiskHistory(device_locked=True), (), POLICY).level == 3


def test_the_profile_counts_attempts_in_a_rolling_window_and_amounts_by_day() -> None:
    profile = RiskProfile("alice")
    for minutes in (0, 10, 20, 70):
        profile = profile.with_attempt(NOW_US + minutes * MICROSECONDS_PER_MINUTE, None)
    profile = profile.with_recalled(6_000_00, NOW_US)
    later = NOW_US + 75 * MICROSECONDS_PER_MINUTE
    history = history_of(profile, later, None, 4_000_00, POLICY, device_locked=False, vip=False)
    # 20 and 70 minutes are within the hour before 75; this request is the third.
    assert history.attempts_in_window == 3
    assert history.recalled_in_window_minor == 10_000_00
    month_later = NOW_US + 31 * 24 * 60 * MICROSECONDS_PER_MINUTE
    aged = history_of(profile, month_later, None, 0, POLICY, device_locked=False, vip=False)
    assert aged.recalled_in_window_minor == 0


def test_the_last_place_counts_only_within_the_travel_window() -> None:
    shanghai, beijing = parse_place("31.2304,121.4737"), parse_place("39.9042,116.4074")
    profile = RiskProfile("alice").with_attempt(NOW_US, shanghai)
    soon = NOW_US + 9 * MICROSECONDS_PER_MINUTE
    late = NOW_US + 11 * MICROSECONDS_PER_MINUTE
    moved = history_of(profile, soon, beijing, 0, POLICY, device_locked=False, vip=False)
    assert moved.moved_km is not None
    assert 1_000 < moved.moved_km < 1_150
    assert (
        history_of(profile, late, beijing, 0, POLICY, device_locked=False, vip=False).moved_km
        is None
    )
    assert (
        history_of(profile, soon, None, 0, POLICY, device_locked=False, vip=False).moved_km is None
    )


def test_places_parse_exactly_and_refuse_what_is_not_one() -> None:
    assert parse_place(" 31.2304 , 121.4737 ") == Place(31_230_400, 121_473_700)
    assert parse_place("-33.8688,151.2093") == Place(-33_868_800, 151_209_300)
    assert parse_place(None) is None
    assert parse_place("") is None
    for bad in ("91,0", "0,181", "north", "1e3,2", "31.2304;121.4737", "1" * 100):
        with pytest.raises(GeoError):
            parse_place(bad)


def test_great_circle_distance_matches_a_known_pair() -> None:
    """Shanghai to Beijing is about 1,068 km on the great circle."""
    shanghai, beijing = parse_place("31.2304,121.4737"), parse_place("39.9042,116.4074")
    assert shanghai is not None
    assert beijing is not None
    assert 1_060 < distance_km(shanghai, beijing) < 1_075
    assert distance_km(shanghai, shanghai) == 0
