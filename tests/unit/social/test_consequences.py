"""The pure rules of recalls' social consequences, each at its boundary."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hongbao.platform.clock import from_datetime
from hongbao.policy.document import default_policy
from hongbao.social.consequences import (
    ChangeRule,
    PairWeight,
    Penalty,
    in_window,
    intimacy_drop,
    pair_cap_minor,
    periods,
    scaled,
    weight_at,
)

SOCIAL = default_policy().social
BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("points", "percent", "expected"),
    [(10, 100, 10), (10, 150, 15), (10, 80, 8), (20, 150, 30), (20, 80, 16), (5, 150, 8)],
)
def test_points_are_scaled_by_the_coefficient_rounding_half_up(
    points: int, percent: int, expected: int
) -> None:
    assert scaled(points, percent) == expected


@pytest.mark.parametrize(
    ("group_type", "threshold"),
    [("work", 4), ("education", 4), ("entertainment", 3), ("family", 3), ("other", 3)],
)
def test_work_and_education_groups_tolerate_30_percent_more_rounded_up(
    group_type: str, threshold: int
) -> None:
    assert SOCIAL.groups.threshold(group_type) == threshold


def test_the_user_types_carry_the_sources_numbers() -> None:
    found = {
        name: (rule.safe_recalls_per_day, rule.coefficient_percent, rule.penalty_days)
        for name in ("normal", "business", "enterprise")
        for rule in [SOCIAL.user_type(name)]
    }
    assert found == {
        "normal": (2, 100, 7),
        "business": (1, 150, 15),
        "enterprise": (5, 80, 3),
    }


@pytest.mark.parametrize(
    ("returned", "points"), [(0, 8), (1, 8), (49_99, 8), (50_00, 9), (100_00, 10), (200_00, 12)]
)
def test_the_intimacy_drop_stays_within_8_to_12_by_the_amount_recalled(
    returned: int, points: int
) -> None:
    assert intimacy_drop(returned, SOCIAL.intimacy) == points


def penalty(points: int, from_us: int, until_us: int) -> Penalty:
    return Penalty("e", "p", ChangeRule.RECALL_TO_PERSON, points, from_us, until_us)


def test_a_penalty_counts_from_its_start_until_just_before_its_end() -> None:
    pair = PairWeight("a", "b", (penalty(250, 100, 200),))
    assert weight_at(pair, 99, SOCIAL.pairs) == 1000
    assert weight_at(pair, 100, SOCIAL.pairs) == 750
    assert weight_at(pair, 199, SOCIAL.pairs) == 750
    assert weight_at(pair, 200, SOCIAL.pairs) == 1000


def test_the_pair_cap_rounds_down_to_the_cent() -> None:
    assert pair_cap_minor(750, 200_00) == 150_00
    assert pair_cap_minor(333, 200_01) == 66_60  # 6660.333 fen


def test_periods_are_the_beijing_day_and_month() -> None:
    midnight = from_datetime(datetime(2027, 1, 1, 0, 0, tzinfo=BEIJING))
    assert periods(midnight - 1, "Asia/Shanghai") == ("day:2026-12-31", "month:2026-12")
    assert periods(midnight, "Asia/Shanghai") == ("day:2027-01-01", "month:2027-01")


def test_the_window_holds_what_is_less_than_its_length_old() -> None:
    hour = 3_600_000_000
    assert in_window([0, 1, 24 * hour], 24 * hour, 24) == (1, 24 * hour)
