"""The idempotency guard's money-path form: what runs after the commit runs once, for the
attempt that committed, however often the database retried the unit."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

import pytest

from hongbao.entrypoints.http.auth.tokens import AuthError
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.entrypoints.http.idempotency import Admission, IdempotencyGuard, Response
from hongbao.platform.clock import ManualClock
from hongbao.platform.errors import InvalidInput
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

    def work(_uow: UnitOfWork) -> Callable[[], Response]:
        runs.append(len(runs))
        return lambda: Response(200, {"run": len(runs)})

    answer = guard.run_in_transaction(
        "ann", "k-1", "f-1", work, never_refused, after_commit=lambda: committed.append(runs[-1])
    )
    assert (len(runs), committed) == (2, [1])
    assert answer == Response(200, {"run": 2})


def test_a_repeat_answered_from_the_record_runs_nothing_after_commit() -> None:
    guard = IdempotencyGuard(InMemoryDatabase(), ManualClock(START_US))
    committed: list[str] = []

    def work(_uow: UnitOfWork) -> Callable[[], Response]:
        return lambda: Response(201, {"id": "p-1"})

    first = guard.run_in_transaction(
        "ann", "k-1", "f-1", work, never_refused, after_commit=lambda: committed.append("first")
    )
    again = guard.run_in_transaction(
        "ann", "k-1", "f-1", work, never_refused, after_commit=lambda: committed.append("again")
    )
    assert first == again
    assert committed == ["first"]


def test_an_operation_keeping_its_own_answers_writes_no_key_record_but_a_refusal() -> None:
    """The answering form: the operation keeps its answers itself; the guard keeps only a
    refusal, and hands it back through the admission before the operation runs again."""
    database = InMemoryDatabase()
    guard = IdempotencyGuard(database, ManualClock(START_US))
    runs: list[str] = []

    def answered(uow: UnitOfWork, admission: Admission) -> Response:
        kept = admission.check()
        if kept is not None:
            return kept
        runs.append(admission.fingerprint)
        return Response(200, {"run": len(runs)})

    def refusing(uow: UnitOfWork, admission: Admission) -> Response:
        kept = admission.check()
        if kept is not None:
            return kept
        runs.append(admission.fingerprint)
        raise InvalidInput("not now")

    def refused(error: BaseException) -> Response | None:
        return Response(422, {"code": getattr(error, "code", "")})

    ok = guard.run_answering_in_transaction("ann", "k-1", "f-1", answered, refused)
    assert ok == Response(200, {"run": 1})
    assert database.read(lambda uow: uow.api.idempotency.get("ann", "k-1")) is None
    first = guard.run_answering_in_transaction("ann", "k-2", "f-2", refusing, refused)
    again = guard.run_answering_in_transaction("ann", "k-2", "f-2", answered, refused)
    assert first == again == Response(422, {"code": "input.invalid"})
    assert runs == ["f-1", "f-2"]


def test_a_caller_refused_by_the_admission_leaves_the_key_free() -> None:
    guard = IdempotencyGuard(InMemoryDatabase(), ManualClock(START_US))

    def admit(_uow: UnitOfWork) -> Callable[[], None]:
        def check() -> None:
            raise AuthError("not yours", code=AuthCode.NOT_YOURS)

        return check

    def work(uow: UnitOfWork, admission: Admission) -> Response:
        return admission.check() or Response(200, {})

    with pytest.raises(AuthError):
        guard.run_answering_in_transaction("ann", "k-1", "f-1", work, never_refused, admit=admit)
    answer = guard.run_answering_in_transaction("ann", "k-1", "f-2", work, never_refused)
    assert answer == Response(200, {})


def test_a_request_refused_before_its_step_is_answered_after_the_callers_check() -> None:
    """The money path's form reads first and checks after: what the operation found wrong
    while sending its reads waits for the caller's check, whose refusal leaves the key free;
    for an admitted caller it becomes the key's answer."""
    database = InMemoryDatabase()
    guard = IdempotencyGuard(database, ManualClock(START_US))

    def malformed(_uow: UnitOfWork) -> Callable[[], Response]:
        raise InvalidInput("no such amount")

    def revoked(_uow: UnitOfWork) -> Callable[[], None]:
        def check() -> None:
            raise AuthError("revoked", code=AuthCode.TOKEN_REVOKED)

        return check

    def refused(error: BaseException) -> Response | None:
        return Response(422, {"code": getattr(error, "code", "")})

    with pytest.raises(AuthError):
        guard.run_in_transaction("ann", "k-1", "f-1", malformed, refused, admit=revoked)
    assert database.read(lambda uow: uow.api.idempotency.get("ann", "k-1")) is None
    answer = guard.run_in_transaction("ann", "k-1", "f-1", malformed, refused)
    assert answer == Response(422, {"code": "input.invalid"})
    kept = database.read(lambda uow: uow.api.idempotency.get("ann", "k-1"))
    assert kept is not None
    assert kept.status == 422


def test_a_stored_answer_is_returned_before_the_operations_step_runs() -> None:
    """A repeat under a key that has its answer gets that answer; the operation's step, which
    would read and write, never runs."""
    guard = IdempotencyGuard(InMemoryDatabase(), ManualClock(START_US))
    steps: list[str] = []

    def work(_uow: UnitOfWork) -> Callable[[], Response]:
        def step() -> Response:
            steps.append("ran")
            return Response(201, {"id": "p-1"})

        return step

    first = guard.run_in_transaction("ann", "k-1", "f-1", work, never_refused)
    again = guard.run_in_transaction("ann", "k-1", "f-1", work, never_refused)
    assert first == again == Response(201, {"id": "p-1"})
    assert steps == ["ran"]
