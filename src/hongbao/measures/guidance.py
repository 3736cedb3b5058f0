"""Whether recall guidance helps (R-U5): each recall decision falls in the ``with_bubble``
cohort when its person had been shown a recall guidance bubble before deciding, else in the
``no_bubble`` baseline. The source found guidance cut new users' misoperation by 39 %; hongbao
sets its own two rates side by side to check that figure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hongbao.identity.hints import Hint, HintSeen

# The bubbles about recalling (the lucky packet's recallable remainder and the settlement
# blackout); the watch's sending cap says nothing about recalls.
RECALL_BUBBLES: Final = (Hint.LUCKY_RECALL, Hint.SETTLEMENT)
SOURCE_REDUCTION_PERCENT: Final = "39"


class GuidanceCohort(StrEnum):
    WITH_BUBBLE = "with_bubble"
    NO_BUBBLE = "no_bubble"


def cohort_of(seen: Iterable[HintSeen], decided_at_us: int) -> GuidanceCohort:
    """``with_bubble`` when any recall bubble was shown to the person at or before the decision."""
    shown_before = any(
        record.hint in RECALL_BUBBLES and record.shown_at_us <= decided_at_us for record in seen
    )
    return GuidanceCohort.WITH_BUBBLE if shown_before else GuidanceCohort.NO_BUBBLE


@dataclass(slots=True)
class CohortFigures:
    attempts: int = 0
    misoperations: int = 0

    @property
    def misoperation_rate(self) -> float | None:
        return self.misoperations / self.attempts if self.attempts else None


@dataclass(frozen=True, slots=True)
class GuidanceFigures:
    with_bubble: CohortFigures
    no_bubble: CohortFigures

    @property
    def reduction(self) -> float | None:
        """How much lower the with-bubble rate is than the baseline's, as a fraction of it
        (0.39 would match the source); None until both cohorts have a rate and the baseline's
        is above zero."""
        guided = self.with_bubble.misoperation_rate
        baseline = self.no_bubble.misoperation_rate
        if guided is None or not baseline:
            return None
        return 1 - guided / baseline
