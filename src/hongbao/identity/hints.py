"""Guidance bubbles (撤回引导气泡, R-U2) a person has met: each hint is shown once per person,
and whether they dismissed it or followed its link is kept beside it (the measure of whether
guidance helps, R-U5)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Hint(StrEnum):
    LUCKY_RECALL = "lucky_recall"  # after a lucky packet: its remainder is recallable 30 min
    SETTLEMENT = "settlement"  # near 23:50: the settlement blackout
    WATCH_CAP = "watch_cap"  # on a watch: 200 yuan per packet at most


class HintEvent(StrEnum):
    SHOWN = "shown"
    DISMISSED = "dismissed"
    CLICKED = "clicked"


@dataclass(frozen=True, slots=True)
class HintSeen:
    user_id: str
    hint: Hint
    shown_at_us: int
    dismissed_at_us: int | None = None
    clicked_at_us: int | None = None

    def noting(self, event: HintEvent, now_us: int) -> HintSeen:
        """The record with ``event`` noted; the first time of each event is the one kept."""
        if event is HintEvent.DISMISSED and self.dismissed_at_us is None:
            return HintSeen(self.user_id, self.hint, self.shown_at_us, now_us, self.clicked_at_us)
        if event is HintEvent.CLICKED and self.clicked_at_us is None:
            return HintSeen(self.user_id, self.hint, self.shown_at_us, self.dismissed_at_us, now_us)
        return self
