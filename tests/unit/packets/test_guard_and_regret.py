"""The guard's pure parts (R-B1): the night window, the offered delivery time, and the regret
score's terms, each computed with integers from the counters alone."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from hongbao.money import Money
from hongbao.packets.guard import (
    GuardReason,
    SendContext,
    evaluate,
    is_night,
    next_offered_delivery,
)
from hongbao.packets.regret import EVERYONE, RegretTerm, SendHabits, regret_score
from hongbao.platform.clock import from_datetime
from hongbao.policy.document import default_policy

BEIJING = ZoneInfo("Asia/Shanghai")
GUARD = default_policy().guard
REGRET = GUARD.regret


def at(hour: int, minute: int, day: int = 1) -> int:
    return from_datetime(datetime(2026, 12, day, hour, minute, tzinfo=BEIJING))


def habits(sends: int, recalls: int, amount_sum_minor: int, audience: str = EVERYONE) -> SendHabits:
    return SendHabits("s", audience, sends, recalls, amount_sum_minor, 0)


@pytest.mark.parametrize(
    ("local", "night"),
    [
        (time(21, 59, 59), False),
        (time(22, 0), True),
        (time(0, 0), True),
        (time(5, 59, 59), True),
        (time(6, 0), False),
        (time(12, 0), False),
    ],
)
def test_the_night_window_wraps_past_midnight(local: time, night: bool) -> None:
    assert is_night(local, GUARD) is night


def test_the_offered_delivery_is_the_next_eight_oclock_strictly_after_now() -> None:
    assert next_offered_delivery(at(22, 30), "Asia/Shanghai", GUARD) == at(8, 0, day=2)
    assert next_offered_delivery(at(7, 59), "Asia/Shanghai", GUARD) == at(8, 0)
    assert next_offered_delivery(at(8, 0), "Asia/Shanghai", GUARD) == at(8, 0, day=2)


def test_a_new_sender_scores_only_for_the_hour() -> None:
    nothing = habits(0, 0, 0)
    score = regret_score(nothing, nothing, amount_minor=500_00, at_night=True, policy=REGRET)
    points = {term.term: term.points for term in score.terms}
    assert points == {
        RegretTerm.RECALL_RATE: 0,
        RegretTerm.AUDIENCE_RECALL_RATE: 0,
        RegretTerm.NIGHT: 150,
        RegretTerm.UNUSUAL_AMOUNT: 0,  # no usual amount yet
    }
    assert not score.reached


def test_rates_count_the_prior_sends_and_the_unusual_amount_rises_to_its_multiple() -> None:
    overall = habits(10, 9, 100_00)  # 9 recalls of 10 sends, 10.00 on average
    towards = habits(6, 0, 60_00, "user:carol")
    score = regret_score(overall, towards, amount_minor=30_00, at_night=False, policy=REGRET)
    ratios = {term.term: term.ratio for term in score.terms}
    assert ratios[RegretTerm.RECALL_RATE] == 9 * 1000 // 14
    assert ratios[RegretTerm.AUDIENCE_RECALL_RATE] == 0
    assert ratios[RegretTerm.UNUSUAL_AMOUNT] == (3000 - 1000) // 4  # 3x the mean of a 5x scale
    full = regret_score(overall, towards, amount_minor=90_00, at_night=False, policy=REGRET)
    assert {term.term: term.ratio for term in full.terms}[RegretTerm.UNUSUAL_AMOUNT] == 1000
    assert score.score == sum(term.ratio * term.weight // 1000 for term in score.terms)


def test_the_context_rule_needs_all_three_checks() -> None:
    """The regret score alone stops a send; of the context's checks, only all three do."""
    quiet = regret_score(
        habits(0, 0, 0), habits(0, 0, 0), amount_minor=0, at_night=True, policy=REGRET
    )
    large = Money.parse("200.00", "CNY")
    stopped = evaluate(SendContext(at(22, 0), large, "work", quiet), GUARD, "Asia/Shanghai")
    assert stopped.risky
    assert stopped.reasons == (
        GuardReason.LATE_NIGHT,
        GuardReason.LARGE_AMOUNT,
        GuardReason.GUARDED_GROUP,
    )
    family = evaluate(SendContext(at(22, 0), large, "family", quiet), GUARD, "Asia/Shanghai")
    assert not family.risky
    assert family.reasons == ()
