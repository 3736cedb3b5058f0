"""Group commit: many concurrent requests carried out in one shared transaction.

Requests arrive from many threads and coroutines; one committer thread takes everything that
is waiting (up to ``max_batch``) and hands it to ``run_batch`` at once, which does the work in
one unit of work and answers each item. While a batch runs, the next one gathers, so the
batch size follows the load by itself: alone, a request waits for nothing; under load, one
commit (one fsync, one lock round per packet) serves dozens. No timer holds a request back.

A batch that raises is run again one item at a time, so a fault answers only the item that
caused it (as it would have without batching) and the others go through.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from hongbao.platform.errors import HongbaoError, PlatformCode
from hongbao.platform.invariants import instance, invariant

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Answer = TypeVar("Answer")

DEFAULT_MAX_BATCH: Final = 64
DEFAULT_MAX_WAITING: Final = 4_096


class CommitterBusy(HongbaoError):
    """More requests wait than the committer may hold: shed, never queue without bound."""

    code = PlatformCode.OVERLOADED


class CommitterClosed(HongbaoError):
    code = PlatformCode.SHUTTING_DOWN


@dataclass(frozen=True, slots=True)
class BatchFigures:
    """How the batches went since the start, for metrics and benchmarks."""

    batches: int
    items: int
    largest: int
    singles_after_failure: int


class GroupCommitter(Generic[Item, Answer]):
    def __init__(
        self,
        run_batch: Callable[[Sequence[Item]], Sequence[Answer]],
        *,
        name: str,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_waiting: int = DEFAULT_MAX_WAITING,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        """``on_batch(size, seconds)`` hears of every batch carried out (for metrics)."""
        invariant(0 < max_batch <= max_waiting, "a batch fits in the waiting room")
        self._run_batch = run_batch
        self._on_batch = on_batch
        self._name = name
        self._max_batch = max_batch
        self._max_waiting = max_waiting
        self._waiting: deque[tuple[Item, _Slot[Answer]]] = deque()
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._batches = self._items = self._largest = self._singles = 0

    def submit(self, item: Item) -> Future[Answer]:
        """Queue ``item`` for the next batch; its future gets the answer or the error."""
        future: Future[Answer] = Future()
        self._enqueue(item, future)
        return future

    def submit_async(self, item: Item) -> asyncio.Future[Answer]:
        """``submit`` for a coroutine: the answer comes back on its event loop, one wake-up
        for every answer of a batch on that loop (a thread-safe future per request cost the
        event loop more than the rest of the request)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        self._enqueue(item, _LoopSlot(loop, future))
        return future

    def _enqueue(self, item: Item, slot: _Slot[Answer]) -> None:
        with self._condition:
            if self._closed:
                raise CommitterClosed(f"{self._name} is shutting down; retry shortly")
            if len(self._waiting) >= self._max_waiting:
                raise CommitterBusy(f"{self._name} is busy; retry shortly")
            if self._thread is None:
                # Started on first use, so building an app (tests, tools) starts no thread.
                self._thread = threading.Thread(
                    target=self._serve, name=f"hongbao-{self._name}", daemon=True
                )
                self._thread.start()
            self._waiting.append((item, slot))
            self._condition.notify()

    def run(self, item: Item) -> Answer:
        """Submit and wait (for callers on a thread of their own)."""
        return self.submit(item).result()

    @property
    def figures(self) -> BatchFigures:
        with self._condition:
            return BatchFigures(self._batches, self._items, self._largest, self._singles)

    def close(self) -> None:
        """Finish what is queued, then stop the thread; requests that arrive meanwhile are
        refused. A later request starts a new thread (an app's lifespan can start again, as
        test clients do)."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()
        with self._condition:
            self._closed = False
            self._thread = None

    def _serve(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._carry_out(batch)

    def _next_batch(self) -> list[tuple[Item, _Slot[Answer]]] | None:
        with self._condition:
            while not self._waiting:
                if self._closed:
                    return None
                self._condition.wait()
            count = min(len(self._waiting), self._max_batch)
            batch = [self._waiting.popleft() for _ in range(count)]
            self._batches += 1
            self._items += count
            self._largest = max(self._largest, count)
            return batch

    def _carry_out(self, batch: list[tuple[Item, _Slot[Answer]]]) -> None:
        # A future a caller gave up on (cancelled) is still carried out: its request may
        # already be on its way to the database in a sibling's transaction.
        items = [item for item, _future in batch]
        started = time.monotonic()
        try:
            answers = self._run_batch(items)
        except BaseException as error:  # noqa: BLE001 - answered below, item by item
            if len(batch) == 1:
                _settle([_Outcome(batch[0][1], error=error)])
                return
            with self._condition:
                self._singles += len(batch)
            for single in batch:
                self._carry_out([single])
            return
        invariant(len(answers) == len(batch), "a batch answers every item", name=self._name)
        if self._on_batch is not None:
            self._on_batch(len(batch), time.monotonic() - started)
        _settle(
            [_Outcome(slot, answer) for (_item, slot), answer in zip(batch, answers, strict=True)]
        )


@dataclass(frozen=True, slots=True)
class _LoopSlot(Generic[Answer]):
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Answer]


_Slot = Future[Answer] | _LoopSlot[Answer]


@dataclass(frozen=True, slots=True)
class _Outcome(Generic[Answer]):
    """An answer, or the error that took its place."""

    slot: _Slot[Answer]
    answer: Answer | None = None
    error: BaseException | None = None

    def settle(self, future: Future[Answer] | asyncio.Future[Answer]) -> None:
        if self.error is not None:
            future.set_exception(self.error)
        else:
            future.set_result(self.answer)  # type: ignore[arg-type]  # an answer when no error


def _settle(outcomes: list[_Outcome[Answer]]) -> None:
    """Hand each answer (or error) to its waiter: thread futures at once, loop futures in one
    call per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome[Answer]]] = {}
    for outcome in outcomes:
        slot = outcome.slot
        if isinstance(slot, _LoopSlot):
            by_loop.setdefault(slot.loop, []).append(outcome)
        elif slot.set_running_or_notify_cancel():  # False: nobody waits for it any more
            outcome.settle(slot)
    for loop, waiting in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle_on_loop, waiting)
        except RuntimeError:
            # The loop is closed: its server stopped and nobody is left to answer.
            logger.warning("answers for a closed event loop", extra={"count": len(waiting)})


def _settle_on_loop(outcomes: list[_Outcome[Answer]]) -> None:
    for outcome in outcomes:
        slot = instance(outcome.slot, _LoopSlot, "_settle groups the outcomes by event loop")
        if not slot.future.cancelled():  # cancelled: the client went away; the work is kept
            outcome.settle(slot.future)
