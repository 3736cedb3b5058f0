"""What a recall costs socially (R-S1..R-S6): the records the social consumer keeps and the pure
rules over them.

Every lowering is a :class:`Penalty` with the time it starts and the time it lapses, kept on
the row it lowers; a value at a moment is the starting value minus the penalties active then.
So a score or a pair weight recovers by itself when its penalties lapse, with no job to run,
and a late delivery of a recall event gives the same penalty as a prompt one: its times are the
recall's, not the delivery's. Every change is also written to the change log
(:class:`SocialChange`) with its cause: the event, the packet, the rule and the amount.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

from hongbao.platform.clock import MICROSECONDS_PER_SECOND, is_due
from hongbao.policy.document import SocialIntimacyPolicy, SocialPairPolicy, SocialScorePolicy

MICROSECONDS_PER_HOUR: Final = 3600 * MICROSECONDS_PER_SECOND
MICROSECONDS_PER_DAY: Final = 24 * MICROSECONDS_PER_HOUR
# A pair weight is per mille of full trust: 1000 until a recall lowers it (R-S3).
FULL_WEIGHT_PERMILLE: Final = 1_000
# Bounds a row's active penalties. The tier limits on recalls keep a user far below it (20 a
# day for the longest period is 600); past it the soonest-lapsing are dropped, which can only
# shorten a penalty, never lengthen one.
MAX_PENALTIES: Final = 1_000
# Bounds the recall times a group standing keeps: deciding a ban needs the last threshold's.
MAX_WINDOW_RECALLS: Final = 1_000


class ChangeKind(StrEnum):
    SCORE = "score"  # R-S1, R-S4: points off the social payment score
    GROUP_BAN = "group_ban"  # R-S2, R-S6: group packets in one group paused
    PAIR_WEIGHT = "pair_weight"  # R-S3: per mille off the weight towards one person
    INTIMACY = "intimacy"  # R-S5: points off the intimacy between two people


class ChangeRule(StrEnum):
    """The rule that made a change: what the change log and the answers name as its cause."""

    DAILY_EXCESS = "daily_excess"  # a recall beyond the user type's safe recalls of the day
    MONTHLY_EXCESS = "monthly_excess"  # a recall beyond the month's safe recalls
    FREQUENT_IN_GROUP = "frequent_in_group"  # the group threshold reached within the window
    RECALL_TO_PERSON = "recall_to_person"  # a personal packet recalled
    CLOSE_RELATIONSHIP = "close_relationship"  # recalled from a top chat partner


@dataclass(frozen=True, slots=True)
class RecalledPacket:
    """A recall as the social context sees it: who took back how much, from whom, when.

    ``recipient_id`` is a personal packet's recipient, ``group_id`` a group packet's group
    (exactly one is set). ``recalled_at_us`` is the recall's own time (the event's), never the
    delivery's, so a late delivery changes nothing.
    """

    event_id: str
    packet_id: str
    sender_id: str
    recipient_id: str | None
    group_id: str | None
    returned_minor: int
    recalled_at_us: int


@dataclass(frozen=True, slots=True)
class Penalty:
    """One lowering that lapses: ``points`` off on ``[from_us, until_us)``."""

    event_id: str
    packet_id: str
    rule: ChangeRule
    points: int
    from_us: int
    until_us: int

    def active_at(self, now_us: int) -> bool:
        return is_due(self.from_us, now_us) and not is_due(self.until_us, now_us)


@dataclass(frozen=True, slots=True)
class AppliedEvent:
    """An event whose effects are applied, written in the same transaction as the effects: a
    redelivered event finds it and changes nothing."""

    event_id: str
    applied_at_us: int


@dataclass(frozen=True, slots=True)
class RecallCount:
    """How many recalls of ``user_id`` the consumer has applied in ``period``: a local day
    (``day:2026-11-03``) or a calendar month (``month:2026-11``)."""

    user_id: str
    period: str
    count: int


@dataclass(frozen=True, slots=True)
class ScoreState:
    """A user's active score penalties (R-S1, R-S4); no row means none ever."""

    user_id: str
    penalties: tuple[Penalty, ...]
    updated_at_us: int


@dataclass(frozen=True, slots=True)
class GroupStanding:
    """One sender in one group (R-S2, R-S6): their recent recalls there and their ban.

    ``recalls_us``: the times of their recalls there within the window of the last one.
    ``ban_recalls`` recalls within the window reached ``ban_threshold`` and started the ban.
    """

    group_id: str
    user_id: str
    recalls_us: tuple[int, ...]
    banned_from_us: int | None
    banned_until_us: int | None
    ban_recalls: int
    ban_threshold: int

    def banned_at(self, now_us: int) -> bool:
        return (
            self.banned_from_us is not None
            and is_due(self.banned_from_us, now_us)
            and not is_due(self.banned_until_us, now_us)
        )


@dataclass(frozen=True, slots=True)
class PairWeight:
    """The weight of ``from_user_id`` towards ``to_user_id`` (R-S3): full, less its active
    penalties in per mille."""

    from_user_id: str
    to_user_id: str
    penalties: tuple[Penalty, ...]


@dataclass(frozen=True, slots=True)
class SocialChange:
    """One change a recall made, with its cause, in the change log of the user it concerns.

    ``amount`` is signed: points off a score or an intimacy, per mille off a weight, hours of a
    ban. ``count`` is what the rule counted (the recall's place in its day, month or window;
    the chat rank for intimacy) and ``allowed`` what it was measured against (the safe
    recalls, the threshold, the top partners). ``newest_first`` (minus the time) lists the log
    newest first.
    """

    user_id: str
    change_id: str
    newest_first: int
    at_us: int
    kind: ChangeKind
    rule: ChangeRule
    amount: int
    count: int
    allowed: int
    until_us: int | None
    event_id: str
    packet_id: str
    group_id: str | None
    other_user_id: str | None


# --------------------------------------------------------------------------------- rules


def scaled(points: int, coefficient_percent: int) -> int:
    """``points`` times the user type's coefficient, rounded half up (integers only)."""
    return (points * coefficient_percent + 50) // 100


def active(penalties: Iterable[Penalty], now_us: int) -> tuple[Penalty, ...]:
    return tuple(penalty for penalty in penalties if penalty.active_at(now_us))


def kept(penalties: Iterable[Penalty], now_us: int) -> tuple[Penalty, ...]:
    """The penalties still to count at or after ``now_us`` (active or starting later), at most
    ``MAX_PENALTIES``, the longest-lasting kept."""
    alive = sorted(
        (penalty for penalty in penalties if not is_due(penalty.until_us, now_us)),
        key=lambda penalty: (penalty.until_us, penalty.event_id, penalty.rule),
    )
    return tuple(alive[-MAX_PENALTIES:])


def score_at(state: ScoreState | None, now_us: int, policy: SocialScorePolicy) -> int:
    """The social payment score at ``now_us``: the starting score less active penalties,
    within ``[0, maximum]``."""
    lowered = sum(p.points for p in active(state.penalties, now_us)) if state else 0
    return max(0, min(policy.maximum, policy.starting - lowered))


def weight_at(pair: PairWeight | None, now_us: int, policy: SocialPairPolicy) -> int:
    """The pair weight in per mille at ``now_us``: full less active penalties, never below the
    floor (and full when no penalty is active)."""
    lowered = sum(p.points for p in active(pair.penalties, now_us)) if pair else 0
    if lowered == 0:
        return FULL_WEIGHT_PERMILLE
    return max(policy.floor_permille, FULL_WEIGHT_PERMILLE - lowered)


def pair_cap_minor(weight_permille: int, full_minor: int) -> int:
    """The most one personal packet may hold at this weight: the full amount times the weight,
    rounded down to the minor unit."""
    return full_minor * weight_permille // FULL_WEIGHT_PERMILLE


def intimacy_drop(returned_minor: int, policy: SocialIntimacyPolicy) -> int:
    """R-S5's 8 to 12 points, chosen by the amount recalled: ``drop_min`` plus the rest of the
    range in proportion to ``min(returned, full_drop_at) / full_drop_at``, rounded down."""
    spread = policy.drop_max - policy.drop_min
    share = min(max(returned_minor, 0), policy.full_drop_at_minor)
    return policy.drop_min + spread * share // policy.full_drop_at_minor


def periods(moment_us: int, zone_name: str) -> tuple[str, str]:
    """The local day and calendar month of ``moment_us`` in ``zone_name``, as period names."""
    seconds = moment_us // MICROSECONDS_PER_SECOND
    local = datetime.fromtimestamp(seconds, ZoneInfo(zone_name))
    return f"day:{local.date().isoformat()}", f"month:{local.year:04d}-{local.month:02d}"


def in_window(recalls_us: Iterable[int], at_us: int, window_hours: int) -> tuple[int, ...]:
    """The recall times within the window ending at ``at_us`` (``(at - window, at]``), oldest
    first."""
    start = at_us - window_hours * MICROSECONDS_PER_HOUR
    return tuple(sorted(moment for moment in recalls_us if start < moment <= at_us))
