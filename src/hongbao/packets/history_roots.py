"""The daily root over every packet chain's head (R-B2): a wholesale rewrite is detectable.

A packet's chain shows that no entry was changed since the entry after it was written; it
cannot show that the whole chain was not rewritten with fresh hashes. So once a day (UTC) the
worker records a root: one hash over the head (sequence and hash) of every packet chain that
grew that day, as of the day's end, chained to the previous day's root (the rule is
:func:`hongbao.platform.chain.day_root`). ``hongbao ledger verify`` recomputes every recorded
root from the stored chains and prints the latest, for operators to publish outside the
database: a rewritten chain, or a rewritten root, no longer matches.

The root of a day is taken ``ROOT_GRACE_US`` after its end, so that a transaction which
started before midnight has committed; the job that records a day schedules the next day's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from hongbao.packets.ports import UnitOfWork
from hongbao.platform.chain import GENESIS, StreamHead, day_root
from hongbao.platform.clock import MICROSECONDS_PER_SECOND
from hongbao.platform.scheduler import DueWorkRepository, schedule

HISTORY_ROOT_KIND: Final = "history-root"
ROOT_GRACE_US: Final = 10 * 60 * MICROSECONDS_PER_SECOND
HEADS_PER_READ: Final = 1_000
ROOTS_PER_READ: Final = 500
MICROSECONDS_PER_DAY: Final = 86_400 * MICROSECONDS_PER_SECOND


@dataclass(frozen=True, slots=True)
class HistoryRoot:
    """A day's recorded root."""

    day: str  # YYYY-MM-DD, UTC
    previous_root: str  # the previous day's root, GENESIS when that day has none
    root: str
    head_count: int  # chains that grew that day
    recorded_at_us: int


@dataclass(frozen=True, slots=True)
class RootMismatch:
    day: str
    reason: str  # "root" (recomputed differently) or "previous" (not the day before's root)
    expected: str
    found: str


@dataclass(frozen=True, slots=True)
class RootReport:
    checked: int
    latest: HistoryRoot | None
    mismatches: list[RootMismatch]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def day_of(at_us: int) -> str:
    return datetime.fromtimestamp(at_us / MICROSECONDS_PER_SECOND, UTC).date().isoformat()


def day_bounds(day: str) -> tuple[int, int]:
    """The day's first microsecond and the first of the day after."""
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
    start_us = int(start.timestamp()) * MICROSECONDS_PER_SECOND
    return start_us, start_us + MICROSECONDS_PER_DAY


def shifted(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def schedule_root(work: DueWorkRepository, day: str, now_us: int) -> None:
    """The job that records ``day``'s root, due once the day has ended and settled (the same
    id, payload and time every time: scheduling it again is harmless)."""
    schedule(
        work,
        work_id=f"{HISTORY_ROOT_KIND}:{day}",
        kind=HISTORY_ROOT_KIND,
        payload={"day": day},
        due_at_us=day_bounds(day)[1] + ROOT_GRACE_US,
        now_us=now_us,
    )


def root_handler(uow: UnitOfWork, payload: dict[str, Any], now_us: int) -> None:
    """The scheduled job: record the day's root, then schedule the next day's."""
    day = str(payload["day"])
    record_root(uow, day, now_us)
    schedule_root(uow.scheduler, shifted(day, 1), now_us)


def record_root(uow: UnitOfWork, day: str, now_us: int) -> HistoryRoot:
    """``day``'s root, recorded once: a repeat returns the recorded one."""
    recorded = uow.packets.history_roots.get(day)
    if recorded is not None:
        return recorded
    before = uow.packets.history_roots.get(shifted(day, -1))
    previous_root = GENESIS if before is None else before.root
    root, count = day_root(day, previous_root, _heads(uow, day))
    recorded = HistoryRoot(day, previous_root, root, count, now_us)
    uow.packets.history_roots.insert(recorded)
    return recorded


def verify_roots(uow: UnitOfWork) -> RootReport:
    """Every recorded root recomputed from the stored chains, each checked to name the day
    before's root."""
    mismatches: list[RootMismatch] = []
    checked = 0
    latest: HistoryRoot | None = None
    for recorded in _recorded(uow):
        expected_previous = (
            latest.root if latest is not None and latest.day == shifted(recorded.day, -1) else None
        )
        if expected_previous is None:
            before = uow.packets.history_roots.get(shifted(recorded.day, -1))
            expected_previous = GENESIS if before is None else before.root
        if recorded.previous_root != expected_previous:
            mismatches.append(
                RootMismatch(recorded.day, "previous", expected_previous, recorded.previous_root)
            )
        root, _count = day_root(recorded.day, recorded.previous_root, _heads(uow, recorded.day))
        if root != recorded.root:
            mismatches.append(RootMismatch(recorded.day, "root", root, recorded.root))
        checked += 1
        latest = recorded
    return RootReport(checked, latest, mismatches)


def _recorded(uow: UnitOfWork) -> Iterator[HistoryRoot]:
    after: tuple[Any, ...] | None = None
    while True:
        page = uow.packets.history_roots.page(after, limit=ROOTS_PER_READ)
        yield from page
        if len(page) < ROOTS_PER_READ:
            return
        after = (page[-1].day,)


def _heads(uow: UnitOfWork, day: str) -> Iterator[StreamHead]:
    """The heads of the chains that grew during ``day``, as of its end, in stream order."""
    start_us, end_us = day_bounds(day)
    after = ""
    while True:
        page = uow.outbox.chain_heads_between(
            start_us, end_us, after_stream=after, limit=HEADS_PER_READ
        )
        yield from page
        if len(page) < HEADS_PER_READ:
            return
        after = page[-1].stream
