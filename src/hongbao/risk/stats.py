"""Detection quality (R-K6): how often recalls reach level 2 or more (the trigger rate) and how
many of the cases reviewers decided they confirmed (the precision of level >= 2).

Decisions are tallied per UTC day by the behaviour analysis as it sees them (so the tally may
lag the recalls like the analysis does); cases are counted where they are kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Final

MAX_STATS_DAYS: Final = 366
BASIS_POINTS: Final = 10_000


@dataclass(frozen=True, slots=True)
class DailyDecisions:
    """The recall decisions of one UTC day (days since the epoch), by risk level."""

    day: int
    decisions: int = 0
    at_level_1: int = 0
    at_level_2: int = 0
    at_level_3: int = 0
    at_level_4: int = 0

    def plus(self, level: int) -> DailyDecisions:
        counted = replace(self, decisions=self.decisions + 1)
        if level == 1:
            return replace(counted, at_level_1=self.at_level_1 + 1)
        if level == 2:
            return replace(counted, at_level_2=self.at_level_2 + 1)
        if level == 3:
            return replace(counted, at_level_3=self.at_level_3 + 1)
        if level >= 4:
            return replace(counted, at_level_4=self.at_level_4 + 1)
        return counted

    @property
    def at_level_2_or_more(self) -> int:
        return self.at_level_2 + self.at_level_3 + self.at_level_4


@dataclass(frozen=True, slots=True)
class AppliedEvent:
    """An outbox event the analysis applied: a redelivery of it changes nothing."""

    event_id: str
    applied_at_us: int


@dataclass(frozen=True, slots=True)
class CaseTally:
    """Review cases opened in a period, by what became of them."""

    open: int = 0
    confirmed: int = 0  # confirmed, or confirmed and escalated to a block
    released_by_reviewer: int = 0
    released_at_release_time: int = 0  # nobody reviewed it
    unlocked: int = 0

    @property
    def reviewed(self) -> int:
        return self.confirmed + self.released_by_reviewer + self.unlocked


@dataclass(frozen=True, slots=True)
class ReviewStats:
    days: int
    decisions: int
    decisions_at_level: tuple[int, int, int, int, int]  # levels 0 .. 4
    cases: CaseTally

    @property
    def at_level_2_or_more(self) -> int:
        return sum(self.decisions_at_level[2:])

    @property
    def trigger_rate_bp(self) -> int | None:
        """Decisions at level >= 2 per decision, in basis points (None: no decision)."""
        return _ratio_bp(self.at_level_2_or_more, self.decisions)

    @property
    def precision_bp(self) -> int | None:
        """Reviewed cases confirmed per reviewed case, in basis points (None: none reviewed)."""
        return _ratio_bp(self.cases.confirmed, self.cases.reviewed)

    def as_json(self) -> dict[str, object]:
        return {
            "days": self.days,
            "decisions": self.decisions,
            "decisions_at_level": list(self.decisions_at_level),
            "decisions_at_level_2_or_more": self.at_level_2_or_more,
            "trigger_rate_bp": self.trigger_rate_bp,
            "cases": {
                "open": self.cases.open,
                "reviewed": self.cases.reviewed,
                "confirmed": self.cases.confirmed,
                "released_by_reviewer": self.cases.released_by_reviewer,
                "released_at_release_time": self.cases.released_at_release_time,
                "unlocked": self.cases.unlocked,
            },
            "precision_bp": self.precision_bp,
        }


def review_stats(days: int, tallies: Iterable[DailyDecisions], cases: CaseTally) -> ReviewStats:
    total = DailyDecisions(0)
    for tally in tallies:
        total = replace(
            total,
            decisions=total.decisions + tally.decisions,
            at_level_1=total.at_level_1 + tally.at_level_1,
            at_level_2=total.at_level_2 + tally.at_level_2,
            at_level_3=total.at_level_3 + tally.at_level_3,
            at_level_4=total.at_level_4 + tally.at_level_4,
        )
    flagged = total.at_level_1 + total.at_level_2_or_more
    return ReviewStats(
        days,
        total.decisions,
        (
            total.decisions - flagged,
            total.at_level_1,
            total.at_level_2,
            total.at_level_3,
            total.at_level_4,
        ),
        cases,
    )


def _ratio_bp(part: int, whole: int) -> int | None:
    return None if whole == 0 else part * BASIS_POINTS // whole
