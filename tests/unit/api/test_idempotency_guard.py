"""The idempotency guard's money-path form: what runs after the commit runs once, for the
attempt that committed, however often the database retried the unit."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

from hongbao.entrypoints.http.idempotency import IdempotencyGuard, Response
from hongbao.platform.clock import ManualClock
from hongbao.storage.unit_of_work import UnitOfWork
from hongbao.testing import InMemoryDatabase
from tests.conftest import START_US

Result = TypeVar("Result")


class _RolledBack(Exception):
    pass


class RetryingDatabase(InMemoryDatabase):
    """Runs every unit twice, the first time rolled back: a serialization retry, always."""

    def transact(self, work: Callable[[UnitOfWork], Result]) -> Result:
        def doomed(uow: UnitOfWork) -> Result:
            work(uow)
            raise _RolledBack

        # The first attempt's writes are gone, as after a retried conflict.
        with contextlib.suppress(_RolledBack):
            super().transact(doomed)
        return super().transact(work)


def never_refused(_error: BaseException) -> Response | None:
    return None


def test_after_commit_runs_once_though_the_unit_ran_twice() -> None:
    guard = IdempotencyGuard(RetryingDatabase(), ManualClock(START_US))
    runs: list[int] = []
    committed: list[int] = []

    def work(_uow: UnitOfWork) -> Response:
        runs.append(len(runs))
        return Response(200, {"run": len(runs)})

    answer = guard.run_in_transaction(
        "ann", "k-1", "f-1", work, never_refused, after_commit=lambda: committed.append(runs[-1])
    )
    assert (len(runs), committed) == (2, [1])
    assert answer == Response(200, {"run": 2})


def test_a_repeat_answered_from_the_record_runs_nothing_after_commit() -> None:
    guard = IdempotencyGuard(InMemoryDatabase(), ManualClock(START_US))
    committed: list[str] = []

    def work(_uow: UnitOfWork) -> Response:
        return Response(201, {"id": "p-1"})

    first = guard.run_in_transaction(
        "ann", "k-1", "f-1", work, never_refused, after_commit=lambda: committed.append("first")
    )
    again = guard.run_in_transaction(
        "ann", "k-1", "f-1", work, never_refused, after_commit=lambda: committed.append("again")
    )
    assert first == again
    assert committed == ["first"]
