"""The per-user detectors of R-K3 at their boundaries: the behaviour baseline needs its
samples and a clear outlier, and each fund flow needs its count inside its window."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hongbao.policy.document import default_policy
from hongbao.risk.analysis import BehaviourState, RecallSeen, observe
from hongbao.risk.flags import Detector
from hongbao.risk.graph import link, members
from hongbao.storage.risk_tables import in_memory_risk_tables

POLICY = default_policy().risk
HOUR_US = 3_600_000_000
START_US = 1_796_000_000_000_000


def seen(at_us: int, amount_minor: int = 50_00, **changes: object) -> RecallSeen:
    base = RecallSeen("u-1", at_us, amount_minor, 3 * HOUR_US, False, 0)
    return replace(base, **changes)  # type: ignore[arg-type]


def after(recalls: list[RecallSeen]) -> tuple[BehaviourState, set[Detector]]:
    state, raised = BehaviourState("u-1"), set()
    for recall in recalls:
        observed = observe(state, recall, POLICY)
        state = observed.state
        raised = {flag.detector for flag in observed.flags}
    return state, raised


def habits(count: int) -> list[RecallSeen]:
    """``count`` recalls of about 50 yuan, three hours after sending, a day apart."""
    return [seen(START_US + i * 24 * HOUR_US, 45_00 + (i % 3) * 5_00) for i in range(count)]


@pytest.mark.parametrize(("known", "flagged"), [(7, False), (8, True)])
def test_an_outlier_amount_is_flagged_once_the_baseline_has_its_samples(
    known: int, flagged: bool
) -> None:
    outlier = seen(START_US + 30 * 24 * HOUR_US, 5_000_00)
    _, raised = after([*habits(known), outlier])
    assert (Detector.BEHAVIOUR in raised) is flagged


def test_a_recall_within_the_users_habits_raises_nothing() -> None:
    _, raised = after([*habits(20), seen(START_US + 30 * 24 * HOUR_US, 55_00)])
    assert raised == set()


def test_a_recall_far_earlier_than_the_users_habit_is_a_timing_outlier() -> None:
    quick = seen(START_US + 30 * 24 * HOUR_US, 50_00, delay_us=10_000_000)
    _, raised = after([*habits(12), quick])
    assert raised == {Detector.BEHAVIOUR}


@pytest.mark.parametrize(("count", "flagged"), [(1, False), (2, True)])
def test_card_funded_recalls_to_the_balance_are_a_cash_out(count: int, flagged: bool) -> None:
    recalls = [seen(START_US + i * HOUR_US, card_to_balance=True) for i in range(count)]
    assert (Detector.CASH_OUT in after(recalls)[1]) is flagged


def test_cash_outs_a_window_apart_are_not_counted_together() -> None:
    recalls = [seen(START_US + i * 24 * HOUR_US, card_to_balance=True) for i in range(2)]
    assert Detector.CASH_OUT not in after(recalls)[1]


@pytest.mark.parametrize(
    ("amount_minor", "flagged"),
    [(4_499_99, False), (4_500_00, True), (4_999_99, True), (5_000_00, False)],
)
def test_structuring_counts_recalls_within_ten_percent_under_the_amount(
    amount_minor: int, flagged: bool
) -> None:
    recalls = [seen(START_US + i * HOUR_US, amount_minor) for i in range(3)]
    assert (Detector.STRUCTURING in after(recalls)[1]) is flagged


def test_two_recalls_just_under_the_amount_are_not_yet_structuring() -> None:
    recalls = [seen(START_US + i * HOUR_US, 4_900_00) for i in range(2)]
    assert Detector.STRUCTURING not in after(recalls)[1]


@pytest.mark.parametrize(("cycles", "flagged"), [(2, False), (3, True)])
def test_rapid_cycles_with_linked_accounts_are_flagged_at_the_count(
    cycles: int, flagged: bool
) -> None:
    recalls = [seen(START_US + i * HOUR_US, linked_cycles=1) for i in range(cycles)]
    assert (Detector.RAPID_CYCLE in after(recalls)[1]) is flagged


def test_accounts_sharing_a_device_or_card_form_one_component() -> None:
    tables = in_memory_risk_tables({})
    for user in ("a", "b", "c"):
        link(tables, [f"user:{user}", "device:shared"], START_US)
    link(tables, ["user:d", "card:bank/**** **** **** 1234"], START_US)
    joined = link(tables, ["user:c", "card:bank/**** **** **** 1234"], START_US)
    assert (joined.users, joined.nodes) == (4, 6)
    assert members(tables, joined.id) == ["a", "b", "c", "d"]
    alone = link(tables, ["user:e", "device:own"], START_US)
    assert (alone.users, members(tables, alone.id)) == (1, ["e"])
