"""Admission control: a bounded number of requests in flight per process, a bounded queue.

A request enters at once while fewer than ``max_in_flight`` are being served; otherwise it
waits in a queue of at most ``max_waiting`` for at most ``max_wait_seconds``, and a slot freed
by a finishing request goes to the longest waiting one. A full queue, or a wait that runs out,
is answered at once with ``api.overloaded`` (503, ``Retry-After``): past a point, queueing only
makes every request slow, the money path included (R-O2, R-T5).

The counters are shared by the event loop (the middleware) and may be read from worker threads
(``/readyz``, ``/metrics``), hence the lock; a waiter is woken on its own loop. Durations use
``time.monotonic`` (elapsed real time), never the injected business clock.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from hongbao.entrypoints.http.errors import ApiError
from hongbao.platform.errors import PlatformCode
from hongbao.platform.invariants import invariant

# /readyz reports "shedding" for this long after the last shed request.
SHEDDING_MEMORY_SECONDS = 5.0


class Overloaded(ApiError):
    code = PlatformCode.OVERLOADED


@dataclass(frozen=True, slots=True)
class AdmissionLimits:
    max_in_flight: int = 64
    max_waiting: int = 256
    max_wait_seconds: float = 0.5

    def __post_init__(self) -> None:
        invariant(self.max_in_flight >= 1, "at least one request in flight")
        invariant(self.max_waiting >= 0, "a queue is empty or longer")
        invariant(0 <= self.max_wait_seconds <= 60, "a bounded wait", wait=self.max_wait_seconds)


@dataclass(frozen=True, slots=True)
class AdmissionState:
    in_flight: int
    waiting: int
    shed: int
    shedding: bool


class _Waiter:
    __slots__ = ("future", "granted", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.granted = False


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Admission:
    def __init__(
        self, limits: AdmissionLimits, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._in_flight = 0
        self._waiters: deque[_Waiter] = deque()
        self._shed = 0
        self._last_shed_at: float | None = None

    async def enter(self) -> bool:
        """Take a slot (True), waiting a bounded time for one; False: the request is shed."""
        with self._lock:
            if self._in_flight < self.limits.max_in_flight and not self._waiters:
                self._in_flight += 1
                return True
            if len(self._waiters) >= self.limits.max_waiting:
                self._note_shed()
                return False
            waiter = _Waiter(asyncio.get_running_loop())
            self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter.future), self.limits.max_wait_seconds)
        except TimeoutError:
            pass
        except BaseException:
            if self._settle(waiter):  # cancelled just as the slot came: hand it on
                self.leave()
            raise
        return self._settle(waiter)

    def _settle(self, waiter: _Waiter) -> bool:
        """After a wait (woken, timed out or cancelled): did the waiter get a slot?"""
        with self._lock:
            if waiter.granted:
                return True
            self._waiters.remove(waiter)
            self._note_shed()
            return False

    def leave(self) -> None:
        """A request finished: its slot goes to the longest waiting request, or is freed."""
        with self._lock:
            invariant(self._in_flight > 0, "a request leaves after it entered")
            if not self._waiters:
                self._in_flight -= 1
                return
            waiter = self._waiters.popleft()
            waiter.granted = True  # the slot changes hands; in_flight stays the same
        waiter.loop.call_soon_threadsafe(_wake, waiter.future)

    def _note_shed(self) -> None:
        self._shed += 1
        self._last_shed_at = self._monotonic()

    def state(self) -> AdmissionState:
        with self._lock:
            last = self._last_shed_at
            return AdmissionState(
                in_flight=self._in_flight,
                waiting=len(self._waiters),
                shed=self._shed,
                shedding=last is not None and self._monotonic() - last < SHEDDING_MEMORY_SECONDS,
            )
