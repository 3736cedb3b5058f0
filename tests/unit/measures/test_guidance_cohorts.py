"""The guidance cohorts (R-U5): a decision is ``with_bubble`` only when a recall bubble was
shown to the person at or before it; the reduction compares both cohorts' rates."""

from __future__ import annotations

from hongbao.identity.hints import Hint, HintSeen
from hongbao.measures.guidance import CohortFigures, GuidanceCohort, GuidanceFigures, cohort_of

DECIDED = 5_000_000


def test_a_recall_bubble_shown_before_the_decision_puts_it_in_the_bubble_cohort() -> None:
    seen = [HintSeen("li-wei", Hint.SETTLEMENT, DECIDED)]
    assert cohort_of(seen, DECIDED) is GuidanceCohort.WITH_BUBBLE


def test_a_bubble_shown_later_or_about_the_watch_cap_leaves_it_in_the_baseline() -> None:
    later = HintSeen("li-wei", Hint.LUCKY_RECALL, DECIDED + 1)
    watch = HintSeen("li-wei", Hint.WATCH_CAP, 0)
    assert cohort_of([later, watch], DECIDED) is GuidanceCohort.NO_BUBBLE
    assert cohort_of([], DECIDED) is GuidanceCohort.NO_BUBBLE


def test_the_reduction_is_the_share_of_the_baseline_rate_the_bubble_removes() -> None:
    figures = GuidanceFigures(CohortFigures(10, 1), CohortFigures(5, 1))
    assert figures.reduction is not None
    assert abs(figures.reduction - 0.5) < 1e-9
    assert GuidanceFigures(CohortFigures(10, 1), CohortFigures(5, 0)).reduction is None
    assert GuidanceFigures(CohortFigures(), CohortFigures(5, 1)).reduction is None
