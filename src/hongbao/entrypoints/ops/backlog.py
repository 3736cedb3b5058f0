"""The backlog, read from the database with bounded queries: outbox lag, due work, open refunds.

Each figure comes from one query with a ``LIMIT`` on an indexed column (pending deliveries by
due time, pending work by due time, refunds by state), so a scrape costs the same however large
the tables grow. Counts therefore saturate at ``cap``: a figure equal to the cap means "at least
that many" (exported as ``hongbao_backlog_count_cap``). Refunds that arrived (settled, released,
credited) only ever grow and are not counted here.

- outbox lag: how long the most overdue *due* pending delivery has waited past its due time (0
  when nothing is due). A delivery waiting for its retry backoff is not lag. The same per
  consumer (the social consumer's lag is how far recalls' consequences trail the recalls,
  R-S7), from the same listing.
- due work due / overdue: pending scheduled work whose time has come / came more than
  ``overdue_after_seconds`` ago (the worker should have run it by then).

The database's timestamps are business time, so ages are taken with the injected clock. The
sampler refreshes at most every ``refresh_seconds`` of monotonic time, on a thread of its own, so
a request never waits for these queries; ``/metrics`` and ``/readyz`` may refresh in their own
(worker-thread) call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hongbao.platform.clock import MICROSECONDS_PER_SECOND, Clock
from hongbao.platform.outbox import DeliveryState
from hongbao.platform.scheduler import DueWorkState
from hongbao.refunds.records import ARRIVED, RefundState
from hongbao.storage.unit_of_work import Database, UnitOfWork

logger = logging.getLogger(__name__)

OPEN_REFUND_STATES = tuple(
    state for state in RefundState if state not in ARRIVED and state is not RefundState.PLANNED
)


@dataclass(frozen=True, slots=True)
class Backlog:
    outbox_pending: int
    outbox_lag_seconds: float
    consumer_lag_seconds: dict[str, float]
    due_work_due: int
    due_work_overdue: int
    refunds: dict[str, int]
    cap: int


@dataclass(frozen=True, slots=True)
class BacklogSample:
    backlog: Backlog | None
    error: str | None
    taken_at: float  # monotonic seconds


def read_backlog(
    uow: UnitOfWork, now_us: int, *, cap: int, overdue_after_seconds: float
) -> Backlog:
    deliveries = uow.outbox.deliveries_in_state(DeliveryState.PENDING, cap)
    due_deliveries = [d.next_attempt_at_us for d in deliveries if d.next_attempt_at_us <= now_us]
    lag_us = now_us - min(due_deliveries) if due_deliveries else 0
    oldest: dict[str, int] = {}
    for delivery in deliveries:
        if delivery.next_attempt_at_us <= now_us:
            due = oldest.get(delivery.consumer, delivery.next_attempt_at_us)
            oldest[delivery.consumer] = min(due, delivery.next_attempt_at_us)
    work = uow.scheduler.list_state(DueWorkState.PENDING, cap)
    overdue_before = now_us - int(overdue_after_seconds * MICROSECONDS_PER_SECOND)
    refunds = {
        state.value: len(uow.refunds.in_state(state, limit=cap)) for state in OPEN_REFUND_STATES
    }
    return Backlog(
        outbox_pending=len(deliveries),
        outbox_lag_seconds=lag_us / MICROSECONDS_PER_SECOND,
        consumer_lag_seconds={
            consumer: (now_us - due) / MICROSECONDS_PER_SECOND for consumer, due in oldest.items()
        },
        due_work_due=sum(1 for item in work if item.due_at_us <= now_us),
        due_work_overdue=sum(1 for item in work if item.due_at_us <= overdue_before),
        refunds=refunds,
        cap=cap,
    )


@dataclass
class BacklogSampler:
    database: Database
    clock: Clock
    cap: int = 1_000
    overdue_after_seconds: float = 60.0
    refresh_seconds: float = 5.0
    monotonic: Callable[[], float] = time.monotonic
    on_sample: Callable[[Backlog], None] = lambda _backlog: None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._running = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._latest: BacklogSample | None = None
        # The first background refresh comes one interval after start, not with the first
        # request: a process that has just started has no backlog of its own to report.
        self._next_refresh = self.monotonic() + self.refresh_seconds

    @property
    def latest(self) -> BacklogSample | None:
        return self._latest

    def maybe_refresh_in_background(self) -> None:
        """Called after each request: starts a refresh when one is due and none is running."""
        if self.refresh_seconds <= 0 or self.monotonic() < self._next_refresh:
            return
        if not self._claim():
            return
        thread = threading.Thread(target=self._refresh_claimed, name="hongbao-backlog", daemon=True)
        self._thread = thread
        thread.start()

    def close(self, timeout_seconds: float = 5.0) -> None:
        """No more background samples; wait (bounded) for one under way, so it never reads a
        database the process is closing or a test is dropping."""
        with self._lock:
            self._closed = True
        thread = self._thread
        if thread is not None:
            thread.join(timeout_seconds)

    def refresh(self, max_age_seconds: float = 0.0) -> BacklogSample | None:
        """A sample no older than ``max_age_seconds``, taken now in this thread if needed
        (None only when another thread is taking one and there is none yet)."""
        latest = self._latest
        if latest is not None and self.monotonic() - latest.taken_at <= max_age_seconds:
            return latest
        if self._claim():
            self._refresh_claimed()
        return self._latest

    def _claim(self) -> bool:
        with self._lock:
            if self._running or self._closed:
                return False
            self._running = True
            self._next_refresh = self.monotonic() + self.refresh_seconds
            return True

    def _refresh_claimed(self) -> None:
        try:
            self._latest = self._take()
        finally:
            with self._lock:
                self._running = False

    def _take(self) -> BacklogSample:
        now_us = self.clock.now_us()
        try:
            backlog = self.database.read(
                lambda uow: read_backlog(
                    uow, now_us, cap=self.cap, overdue_after_seconds=self.overdue_after_seconds
                )
            )
        except Exception as error:  # noqa: BLE001 - any failure is reported (metric, /readyz, log), not raised in a sampler thread
            logger.warning("backlog sample failed", extra={"error": str(error)})
            return BacklogSample(None, f"{type(error).__name__}: {error}", self.monotonic())
        self.on_sample(backlog)
        return BacklogSample(backlog, None, self.monotonic())
