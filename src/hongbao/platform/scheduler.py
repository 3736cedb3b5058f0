"""A durable scheduler: due work kept in the database, run at least once, never lost.

Work is a row (``DueWork``) with a client-chosen id (scheduling twice is harmless), a kind
naming its handler, a JSON payload and the moment it is due. A worker claims due rows inside
a write transaction and runs each handler *in that same transaction*: the handler's effects
and the row's ``done`` mark commit together, so a crash before the commit leaves the work due
and a crash after it leaves it done. On PostgreSQL the claim skips rows other workers hold
(``FOR UPDATE SKIP LOCKED``), so several worker processes share the load without waiting on
each other. A handler that raises is rolled back and retried later with exponential backoff;
after ``max_attempts`` the row is parked as ``dead`` for an operator, with its last error.
Handlers must be idempotent (at-least-once), and short: they hold their row's lock.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final, Generic, Protocol, TypeVar

from hongbao.platform.clock import Clock, is_due
from hongbao.platform.errors import ErrorCode, InvalidInput, Outcome
from hongbao.platform.ids import is_valid_id
from hongbao.platform.invariants import invariant, present
from hongbao.platform.pipeline import Answer, Keyed, KeyRefused, Pipeline
from hongbao.platform.retries import HandlerFailed, next_try, run_claimed, run_handler
from hongbao.platform.unit_of_work import Database

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 10
MAX_ATTEMPTS_LIMIT = 100
MAX_PAYLOAD_BYTES = 16_384
MAX_CLAIM = 100
# Due rows run per transaction when all goes well: fewer commits and claim queries per item.
BATCH_SIZE = 25


class DueWorkState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class DueWork:
    id: str
    kind: str
    payload: str  # JSON object
    due_at_us: int
    state: DueWorkState
    attempts: int
    max_attempts: int
    last_error: str | None
    created_at_us: int
    completed_at_us: int | None

    def payload_object(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.payload)
        return decoded


class SchedulerCode(ErrorCode):
    """Codes of the errors the scheduler raises; operators switch on their wire values."""

    INVALID = "scheduler.invalid", Outcome.REFUSED, "定时任务有误。", "The due work is invalid."
    ID_INVALID = (
        "scheduler.id_invalid",
        Outcome.REFUSED,
        "定时任务编号无效。",
        "The work id is invalid.",
    )
    ATTEMPTS_INVALID = (
        "scheduler.attempts_invalid",
        Outcome.REFUSED,
        "重试次数有误。",
        "The number of attempts is invalid.",
    )
    PAYLOAD_TOO_LARGE = (
        "scheduler.payload_too_large",
        Outcome.REFUSED,
        "定时任务的内容太大。",
        "The work's payload is too large.",
    )
    ALREADY_SCHEDULED = (
        "scheduler.already_scheduled",
        Outcome.REFUSED,
        "这个定时任务已安排过而内容不同。",
        "This work was scheduled with other details.",
    )
    UNKNOWN_WORK = (
        "scheduler.unknown_work",
        Outcome.NOT_FOUND,
        "找不到这个定时任务。",
        "No such work.",
    )
    NOT_DEAD = (
        "scheduler.not_dead",
        Outcome.REFUSED,
        "只有已放弃的定时任务才能重新执行。",
        "Only dead work can be retried.",
    )


class SchedulingError(InvalidInput):
    code = SchedulerCode.INVALID


class DueWorkRepository(Protocol):
    def insert(self, record: DueWork) -> None: ...

    def get(self, *key: Any) -> DueWork | None: ...

    def replace(self, record: DueWork) -> None: ...

    def claim_due(self, now_us: int, limit: int) -> list[DueWork]:
        """Pending rows due at ``now_us``, oldest first, locked; rows others hold are skipped."""
        ...

    def count_by_state(self) -> dict[DueWorkState, int]: ...

    def list_state(self, state: DueWorkState, limit: int) -> list[DueWork]: ...


class SchedulerUnitOfWork(Protocol):
    """What the scheduler needs of a unit of work; the units of work handlers run in have it."""

    @property
    def scheduler(self) -> DueWorkRepository: ...


U = TypeVar("U", bound=SchedulerUnitOfWork)

Handler = Callable[[U, dict[str, Any], int], None]


def schedule(
    work: DueWorkRepository,
    *,
    work_id: str,
    kind: str,
    payload: Mapping[str, Any],
    due_at_us: int,
    now_us: int,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> DueWork:
    """Add due work inside the caller's unit of work (so it commits with what caused it).

    The same id with the same kind, payload and time returns the stored row; anything else
    under a taken id is refused (``scheduler.already_scheduled``).
    """
    record = _new_record(
        work_id=work_id,
        kind=kind,
        payload=payload,
        due_at_us=due_at_us,
        now_us=now_us,
        max_attempts=max_attempts,
    )
    existing = work.get(work_id)
    if existing is None:
        work.insert(record)
        return record
    same = (existing.kind, existing.payload, existing.due_at_us) == (
        record.kind,
        record.payload,
        record.due_at_us,
    )
    if not same:
        raise SchedulingError(
            f"work {work_id!r} is already scheduled with other details",
            code=SchedulerCode.ALREADY_SCHEDULED,
            work_id=work_id,
        )
    return existing


def schedule_new(
    work: DueWorkRepository,
    *,
    work_id: str,
    kind: str,
    payload: Mapping[str, Any],
    due_at_us: int,
    now_us: int,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> DueWork:
    """Add due work whose id cannot be taken yet, without looking first.

    For work named after a row created in the same unit of work (a new packet's expiry): the
    id is as new as that row. Were it taken after all, the insert fails on the key and the
    unit of work is retried whole, and the retry sees the row that took it.
    """
    record = _new_record(
        work_id=work_id,
        kind=kind,
        payload=payload,
        due_at_us=due_at_us,
        now_us=now_us,
        max_attempts=max_attempts,
    )
    work.insert(record)
    return record


def _new_record(
    *,
    work_id: str,
    kind: str,
    payload: Mapping[str, Any],
    due_at_us: int,
    now_us: int,
    max_attempts: int,
) -> DueWork:
    if not is_valid_id(work_id) or not is_valid_id(kind):
        raise SchedulingError(
            "work ids and kinds are short printable ids", code=SchedulerCode.ID_INVALID
        )
    if not 1 <= max_attempts <= MAX_ATTEMPTS_LIMIT:
        raise SchedulingError(
            f"max_attempts must be 1 to {MAX_ATTEMPTS_LIMIT}", code=SchedulerCode.ATTEMPTS_INVALID
        )
    encoded = json.dumps(dict(payload), sort_keys=True, separators=(",", ":"))
    if len(encoded.encode()) > MAX_PAYLOAD_BYTES:
        raise SchedulingError(
            f"payload over {MAX_PAYLOAD_BYTES} bytes", code=SchedulerCode.PAYLOAD_TOO_LARGE
        )
    return DueWork(
        id=work_id,
        kind=kind,
        payload=encoded,
        due_at_us=due_at_us,
        state=DueWorkState.PENDING,
        attempts=0,
        max_attempts=max_attempts,
        last_error=None,
        created_at_us=now_us,
        completed_at_us=None,
    )


@dataclass
class RunReport:
    done: int = 0
    failed: int = 0
    dead: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ran(self) -> int:
        return self.done + self.failed + self.dead


class UnknownKind(Exception):
    pass


@dataclass
class Scheduler(Generic[U]):
    """Runs due work with the handlers registered for its kinds.

    With a ``pipeline`` (the worker's), each job writes through the one write pipeline like
    any request: its key is its id, and its handler runs only under a key that has no answer
    yet, in the claiming transaction, so a job's effects are applied once even if its row
    were ever pending again. Without one, the row alone records that the job ran."""

    database: Database[U]
    clock: Clock
    handlers: dict[str, Handler[U]] = field(default_factory=dict)
    pipeline: Pipeline[U] | None = None

    def register(self, kind: str, handler: Handler[U]) -> None:
        invariant(kind not in self.handlers, "one handler per kind", kind=kind)
        self.handlers[kind] = handler

    def run_due(self, limit: int = MAX_CLAIM) -> RunReport:
        """Claim up to ``limit`` due rows and run them, a batch per transaction.

        A batch commits only if every handler in it succeeds. When one fails, the batch rolls
        back whole and its rows are run again one transaction each, so the failure is recorded
        against its own row and the others complete.
        """
        report = RunReport()
        remaining = max(1, min(limit, MAX_CLAIM))
        while remaining > 0:
            size = min(BATCH_SIZE, remaining)
            remaining -= size
            finished = self._run_batch(size)
            if finished is None:
                if not self._run_singly(size, report):
                    break
                continue
            report.done += finished
            if finished < size:
                break
        return report

    def _run_singly(self, count: int, report: RunReport) -> bool:
        """Up to ``count`` rows one transaction each; False when nothing more is due."""
        for _ in range(count):
            outcome = self._run_one()
            if outcome is None:
                return False
            self._count(report, outcome)
        return True

    def _run_batch(self, size: int) -> int | None:
        """How many rows one transaction completed, or None when a handler failed."""

        def attempt(uow: U) -> int:
            now_us = self.clock.now_us()
            claimed = uow.scheduler.claim_due(now_us, size)
            self._complete_all(uow, claimed, now_us)
            return len(claimed)

        try:
            return self.database.transact(attempt)
        except HandlerFailed:
            return None

    def _complete_all(self, uow: U, claimed: list[DueWork], now_us: int) -> None:
        """Run the claimed rows' handlers and mark them done: through the pipeline, keyed by
        the rows' ids, when the scheduler has one."""
        if self.pipeline is None or not claimed:
            for work in claimed:
                self._complete(uow, work, now_us)
            return
        requests = [Keyed(WORKER_PRINCIPAL, work.id, _fingerprint(work)) for work in claimed]
        ran: set[int] = set()

        def run(fresh: list[int]) -> list[Answer]:
            ran.update(fresh)
            return [_answer(self._complete(uow, claimed[index], now_us)) for index in fresh]

        answers = self.pipeline.execute_many_in(uow, requests, run)
        for index, answer in enumerate(answers):
            invariant(
                not isinstance(answer, KeyRefused),
                "a job's id names one job",
                work_id=claimed[index].id,
            )
            if index not in ran:  # its effects were kept under its key before: not again
                uow.scheduler.replace(_done(claimed[index], now_us))

    def _complete(self, uow: U, work: DueWork, now_us: int) -> DueWork:
        """Run a claimed row's handler and mark it done, in the claiming transaction."""
        invariant(is_due(work.due_at_us, now_us), "claimed work is due", work_id=work.id)
        run_handler(work, lambda: self._handler(work)(uow, work.payload_object(), now_us))
        done = _done(work, now_us)
        uow.scheduler.replace(done)
        return done

    def _count(self, report: RunReport, outcome: tuple[DueWork, str | None]) -> None:
        work, error = outcome
        if error is None:
            report.done += 1
            return
        report.failures.append((work.id, error))
        if work.state is DueWorkState.DEAD:
            report.dead += 1
        else:
            report.failed += 1

    def _run_one(self) -> tuple[DueWork, str | None] | None:
        def attempt(uow: U) -> DueWork | None:
            now_us = self.clock.now_us()
            claimed = uow.scheduler.claim_due(now_us, 1)
            if not claimed:
                return None
            self._complete_all(uow, claimed, now_us)
            return present(uow.scheduler.get(claimed[0].id), "completed work exists")

        done, failed = run_claimed(self.database, attempt)
        if failed is not None:
            return self._record_failure(failed.item, failed.message), failed.message
        return None if done is None else (done, None)

    def _handler(self, work: DueWork) -> Handler[U]:
        handler = self.handlers.get(work.kind)
        if handler is None:
            raise UnknownKind(f"no handler registered for {work.kind!r}")
        return handler

    def _record_failure(self, work: DueWork, message: str) -> DueWork:
        def record(uow: U) -> DueWork:
            now_us = self.clock.now_us()
            current = present(
                uow.scheduler.get(work.id), "failed work still exists", work_id=work.id
            )
            retry = next_try(current.attempts, current.max_attempts, now_us)
            updated = replace(
                current,
                attempts=retry.attempts,
                last_error=message,
                state=DueWorkState.DEAD if retry.dead else DueWorkState.PENDING,
                due_at_us=retry.at_us,
            )
            uow.scheduler.replace(updated)
            return updated

        updated = self.database.transact(record)
        logger.warning(
            "due work failed", extra={"work_id": work.id, "kind": work.kind, "state": updated.state}
        )
        return updated

    def replay(self, work_id: str) -> DueWork:
        """Operator action: put a dead row back to pending, due now, with fresh attempts."""

        def revive(uow: U) -> DueWork:
            current = uow.scheduler.get(work_id)
            if current is None:
                raise SchedulingError(f"no work {work_id!r}", code=SchedulerCode.UNKNOWN_WORK)
            if current.state is not DueWorkState.DEAD:
                raise SchedulingError(
                    f"work {work_id!r} is {current.state.value}, not dead",
                    code=SchedulerCode.NOT_DEAD,
                )
            revived = replace(
                current, state=DueWorkState.PENDING, attempts=0, due_at_us=self.clock.now_us()
            )
            uow.scheduler.replace(revived)
            return revived

        return self.database.transact(revive)


class _RollBack(Exception):
    pass


WORKER_PRINCIPAL: Final = "worker"


def _fingerprint(work: DueWork) -> str:
    """What a job asks: its kind and payload."""
    return hashlib.sha256(f"{work.kind}\x00{work.payload}".encode()).hexdigest()


def _done(work: DueWork, now_us: int) -> DueWork:
    return replace(
        work, state=DueWorkState.DONE, attempts=work.attempts + 1, completed_at_us=now_us
    )


def _answer(done: DueWork) -> Answer:
    return Answer(
        200, {"work": done.id, "kind": done.kind, "completed_at_us": done.completed_at_us}
    )
