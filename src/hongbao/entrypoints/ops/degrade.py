"""Degrade mode (R-O2): under pressure, defer what can wait so the money path keeps its speed.

The mode is entered when any pressure passes its *enter* threshold:

- the p99 latency of money-path requests (sends, claims, recalls, refund credits) over a
  sliding window of recent samples,
- the outbox lag (how long the most overdue due delivery has waited),
- the due work overdue (scheduled work due for longer than a grace period),

and left only when every pressure is back under its lower *leave* threshold and the mode has
lasted a minimum time: the gap between the thresholds (hysteresis) and the dwell time keep it
from flapping. An operator may also force it (``force``, or ``HONGBAO_DEGRADE_FORCED`` at
start), e.g. ahead of a known peak.

While degraded, stream endpoints and expensive listings answer ``api.degraded`` (503,
``Retry-After``) and, unless the outbox lag is itself the pressure, the worker defers outbox
consumers (``defers_outbox``); sends, claims, recalls and refunds keep going.

The window is kept in ``time.monotonic`` seconds: latency is elapsed real time, and the
injected clock is business time that a drill or a test may stop or move by hours. The backlog
figures come from the database, whose timestamps are business time, so they are measured with
the injected clock (see :mod:`hongbao.entrypoints.ops.backlog`).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from hongbao.platform.invariants import invariant, present

LATENCY, OUTBOX, DUE_WORK = "latency", "outbox", "due_work"


@dataclass(frozen=True, slots=True)
class DegradeThresholds:
    window_seconds: float = 30.0
    max_samples: int = 4_096
    min_samples: int = 20  # fewer samples than this say nothing about a p99
    p99_enter_seconds: float = 0.25
    p99_leave_seconds: float = 0.10
    outbox_lag_enter_seconds: float = 30.0
    outbox_lag_leave_seconds: float = 5.0
    overdue_enter: int = 1_000
    overdue_leave: int = 100
    min_degraded_seconds: float = 10.0
    evaluate_every_seconds: float = 1.0  # a p99 sorts the window: not on every request

    def __post_init__(self) -> None:
        invariant(0 < self.window_seconds <= 3_600, "a bounded window")
        invariant(1 <= self.max_samples <= 100_000, "a bounded sample count")
        invariant(self.p99_leave_seconds <= self.p99_enter_seconds, "p99 hysteresis")
        invariant(self.outbox_lag_leave_seconds <= self.outbox_lag_enter_seconds, "lag hysteresis")
        invariant(self.overdue_leave <= self.overdue_enter, "overdue hysteresis")


@dataclass(frozen=True, slots=True)
class DegradeState:
    active: bool
    forced: str | None
    reasons: tuple[str, ...]
    since_seconds: float | None  # how long it has been active
    money_p99_seconds: float | None
    samples: int


@dataclass
class _Pressure:
    p99: float | None = None
    samples: int = 0
    outbox_lag_seconds: float = 0.0
    overdue: int = 0


@dataclass
class DegradeMonitor:
    thresholds: DegradeThresholds = field(default_factory=DegradeThresholds)
    monotonic: Callable[[], float] = time.monotonic
    on_change: Callable[[bool], None] = lambda _active: None

    def __post_init__(self) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=self.thresholds.max_samples)
        self._lock = threading.Lock()
        self._pressure = _Pressure()
        self._active = False
        self._since: float | None = None
        self._reasons: tuple[str, ...] = ()
        self._kinds: frozenset[str] = frozenset()  # which pressures the reasons are
        self._forced: str | None = None
        self._reported = False  # the last state on_change was told
        self._next_evaluation = 0.0

    @property
    def active(self) -> bool:
        return self._active or self._forced is not None

    def defers_outbox(self) -> bool:
        """For the worker: deliver outbox events later (they are never on the money path).

        Not when the outbox lag is what degrades the service alone: deferring the outbox
        would then only make the lag grow and keep the mode on for ever."""
        return self._forced is not None or (self._active and LATENCY in self._kinds)

    def record(self, seconds: float) -> None:
        """One money-path request took ``seconds``; re-evaluates at most once a second."""
        now = self.monotonic()
        with self._lock:  # a deque must not change while _p99 copies it
            self._samples.append((now, seconds))
        if now >= self._next_evaluation:
            self.evaluate()

    def observe_backlog(self, outbox_lag_seconds: float, overdue: int) -> None:
        with self._lock:
            self._pressure.outbox_lag_seconds = outbox_lag_seconds
            self._pressure.overdue = overdue
        self.evaluate()

    def force(self, reason: str) -> None:
        with self._lock:
            self._forced = reason
        self.evaluate()

    def release(self) -> None:
        with self._lock:
            self._forced = None
        self.evaluate()

    def evaluate(self) -> DegradeState:
        now = self.monotonic()
        with self._lock:
            self._next_evaluation = now + self.thresholds.evaluate_every_seconds
            self._pressure.p99, self._pressure.samples = self._p99(now)
            self._decide(now)
            changed, self._reported = self.active != self._reported, self.active
            state = self._state(now)
        if changed:
            self.on_change(state.active)
        return state

    def state(self) -> DegradeState:
        with self._lock:
            return self._state(self.monotonic())

    def _p99(self, now: float) -> tuple[float | None, int]:
        start = now - self.thresholds.window_seconds
        recent = sorted(seconds for at, seconds in self._samples if at >= start)
        if len(recent) < self.thresholds.min_samples:
            return None, len(recent)
        return recent[min(len(recent) - 1, math.ceil(0.99 * len(recent)) - 1)], len(recent)

    def _decide(self, now: float) -> None:
        entering = self._pressures(enter=True)
        if not self._active:
            if entering:
                self._active, self._since = True, now
                self._note(entering)
            return
        staying = self._pressures(enter=False)
        since = present(self._since, "an active degraded mode knows when it began")
        if staying or now - since < self.thresholds.min_degraded_seconds:
            self._note(entering or staying)
            return
        self._active, self._since = False, None
        self._note([])

    def _note(self, pressures: list[tuple[str, str]]) -> None:
        if pressures or not self._active:
            self._kinds = frozenset(kind for kind, _ in pressures)
            self._reasons = tuple(text for _, text in pressures)

    def _pressures(self, *, enter: bool) -> list[tuple[str, str]]:
        """The pressures at or over their enter (or, to stay, their leave) threshold."""
        t, p = self.thresholds, self._pressure
        p99_limit = t.p99_enter_seconds if enter else t.p99_leave_seconds
        lag_limit = t.outbox_lag_enter_seconds if enter else t.outbox_lag_leave_seconds
        overdue_limit = t.overdue_enter if enter else t.overdue_leave
        found = []
        if p.p99 is not None and p.p99 >= p99_limit:
            found.append((LATENCY, f"money-path p99 {p.p99:.3f} s >= {p99_limit:.3f} s"))
        if p.outbox_lag_seconds >= lag_limit:
            found.append((OUTBOX, f"outbox lag {p.outbox_lag_seconds:.1f} s >= {lag_limit:.1f} s"))
        if p.overdue >= overdue_limit:
            found.append((DUE_WORK, f"{p.overdue} due work items overdue >= {overdue_limit}"))
        return found

    def _state(self, now: float) -> DegradeState:
        reasons = self._reasons + ((f"forced: {self._forced}",) if self._forced else ())
        since = self._since
        return DegradeState(
            active=self.active,
            forced=self._forced,
            reasons=reasons,
            since_seconds=None if since is None else now - since,
            money_p99_seconds=self._pressure.p99,
            samples=self._pressure.samples,
        )
