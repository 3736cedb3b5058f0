"""The write pipeline's one form: the order of its checks, what it keeps under the
key, and what runs once after the commit, however often the database retried the unit."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

import pytest

from hongbao.entrypoints.http.auth.tokens import AuthError
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.platform.clock import ManualClock
from hongbao.platform.errors import HongbaoError, InvalidInput
from hongbao.platform.idempotency import IdempotencyRecord
from hongbao.platform.pipeline import Answer, Keyed, Pipeline, Prepared
from hongbao.platform.records import RecordTable
from hongbao.storage.unit_of_work import UnitOfWork
from hongbao.testing import InMemoryDatabase
from tests.conftest import START_US

Result = TypeVar("Result")


def keys(uow: UnitOfWork) -> RecordTable[IdempotencyRecord]:
    return uow.api.idempotency


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


def never_refused(_error: HongbaoError) -> Answer | None:
    return None


def test_after_commit_runs_once_though_the_unit_ran_twice() -> None:
    """The operation's ``committed`` runs for the attempt that committed, once."""
    guard = Pipeline(RetryingDatabase(), ManualClock(START_US), keys_of=keys)
    runs: list[int] = []
    committed: list[int] = []

    def prepare(_uow: UnitOfWork) -> Prepared:
        runs.append(len(runs))
        run = len(runs)
        answer = Answer(200, {"run": run})
        return Prepared(lambda: answer, committed=lambda: committed.append(run))

    answer = guard.execute(Keyed("ann", "k-1", "f-1"), prepare, never_refused)
    assert (len(runs), committed) == (2, [2])
    assert answer == Answer(200, {"run": 2})


def test_a_repeat_answered_from_the_record_runs_nothing_after_commit() -> None:
    """A repeat under the key gets the first answer; the operation neither steps nor counts."""
    guard = Pipeline(InMemoryDatabase(), ManualClock(START_US), keys_of=keys)
    committed: list[str] = []

    def prepare(name: str) -> Callable[[UnitOfWork], Prepared]:
        return lambda _uow: Prepared(
            lambda: Answer(201, {"id": "p-1"}), committed=lambda: committed.append(name)
        )

    first = guard.execute(Keyed("ann", "k-1", "f-1"), prepare("first"), never_refused)
    again = guard.execute(Keyed("ann", "k-1", "f-1"), prepare("again"), never_refused)
    assert first == again
    assert committed == ["first"]


def test_an_operation_keeping_its_own_answers_writes_no_key_record_but_a_refusal() -> None:
    """An operation that keeps its answers itself (a recall) gets no key record; a refusal,
    which has no operation record to live on, is kept under the key and handed back before
    the operation steps again."""
    database = InMemoryDatabase()
    guard = Pipeline(database, ManualClock(START_US), keys_of=keys)
    runs: list[str] = []

    def answered(fingerprint: str) -> Callable[[UnitOfWork], Prepared]:
        def step() -> Answer:
            runs.append(fingerprint)
            return Answer(200, {"run": len(runs)})

        return lambda _uow: Prepared(step, keeps_its_answers=True)

    def refusing(fingerprint: str) -> Callable[[UnitOfWork], Prepared]:
        def step() -> Answer:
            runs.append(fingerprint)
            raise InvalidInput("not now")

        return lambda _uow: Prepared(step, keeps_its_answers=True)

    def refused(error: HongbaoError) -> Answer | None:
        return Answer(422, {"code": getattr(error, "code", "")})

    ok = guard.execute(Keyed("ann", "k-1", "f-1"), answered("f-1"), refused)
    assert ok == Answer(200, {"run": 1})
    assert database.read(lambda uow: uow.api.idempotency.get("ann", "k-1")) is None
    first = guard.execute(Keyed("ann", "k-2", "f-2"), refusing("f-2"), refused)
    again = guard.execute(Keyed("ann", "k-2", "f-2"), answered("f-2"), refused)
    assert first == again == Answer(422, {"code": "input.invalid"})
    assert runs == ["f-1", "f-2"]


def test_an_operations_own_kept_answer_is_returned_without_a_step() -> None:
    """The operation's ``kept`` answers a repeat it recorded itself; its step does not run."""
    guard = Pipeline(InMemoryDatabase(), ManualClock(START_US), keys_of=keys)

    def step() -> Answer:
        raise AssertionError("a kept answer runs no step")

    def prepare(_uow: UnitOfWork) -> Prepared:
        return Prepared(step, kept=lambda: Answer(200, {"kept": True}), keeps_its_answers=True)

    answer = guard.execute(Keyed("ann", "k-1", "f-1"), prepare, never_refused)
    assert answer == Answer(200, {"kept": True})


def test_a_caller_refused_by_the_admission_leaves_the_key_free() -> None:
    """The caller's refusal is the request's answer only: the key stays free."""
    guard = Pipeline(InMemoryDatabase(), ManualClock(START_US), keys_of=keys)

    def admit(_uow: UnitOfWork) -> Callable[[], None]:
        def check() -> None:
            raise AuthError("not yours", code=AuthCode.NOT_YOURS)

        return check

    def prepare(_uow: UnitOfWork) -> Prepared:
        return Prepared(lambda: Answer(200, {}))

    with pytest.raises(AuthError):
        guard.execute(Keyed("ann", "k-1", "f-1"), prepare, never_refused, admit=admit)
    answer = guard.execute(Keyed("ann", "k-1", "f-2"), prepare, never_refused)
    assert answer == Answer(200, {})


def test_an_operation_refusing_to_authorize_leaves_the_key_free() -> None:
    """``authorize`` (may this caller act on what was read?) refuses like the caller's own
    checks: answered, never kept under the key, and before any kept answer."""
    database = InMemoryDatabase()
    guard = Pipeline(database, ManualClock(START_US), keys_of=keys)

    def not_theirs() -> None:
        raise AuthError("not yours", code=AuthCode.NOT_YOURS)

    def prepare(_uow: UnitOfWork) -> Prepared:
        return Prepared(lambda: Answer(200, {}), authorize=not_theirs)

    with pytest.raises(AuthError):
        guard.execute(Keyed("ann", "k-1", "f-1"), prepare, never_refused)
    assert database.read(lambda uow: uow.api.idempotency.get("ann", "k-1")) is None


def test_a_request_refused_before_its_step_is_answered_after_the_callers_check() -> None:
    """The money path reads first and checks after: what the operation found wrong while
    sending its reads waits for the caller's check, whose refusal leaves the key free; for an
    admitted caller it becomes the key's answer."""
    database = InMemoryDatabase()
    guard = Pipeline(database, ManualClock(START_US), keys_of=keys)

    def malformed(_uow: UnitOfWork) -> Prepared:
        raise InvalidInput("no such amount")

    def revoked(_uow: UnitOfWork) -> Callable[[], None]:
        def check() -> None:
            raise AuthError("revoked", code=AuthCode.TOKEN_REVOKED)

        return check

    def refused(error: HongbaoError) -> Answer | None:
        return Answer(422, {"code": getattr(error, "code", "")})

    with pytest.raises(AuthError):
        guard.execute(Keyed("ann", "k-1", "f-1"), malformed, refused, admit=revoked)
    assert database.read(lambda uow: uow.api.idempotency.get("ann", "k-1")) is None
    answer = guard.execute(Keyed("ann", "k-1", "f-1"), malformed, refused)
    assert answer == Answer(422, {"code": "input.invalid"})
    kept = database.read(lambda uow: uow.api.idempotency.get("ann", "k-1"))
    assert kept is not None
    assert kept.status == 422


def test_a_stored_answer_is_returned_before_the_operations_step_runs() -> None:
    """A repeat under a key that has its answer gets that answer; the operation's step, which
    would read and write, never runs."""
    guard = Pipeline(InMemoryDatabase(), ManualClock(START_US), keys_of=keys)
    steps: list[str] = []

    def prepare(_uow: UnitOfWork) -> Prepared:
        def step() -> Answer:
            steps.append("ran")
            return Answer(201, {"id": "p-1"})

        return Prepared(step)

    first = guard.execute(Keyed("ann", "k-1", "f-1"), prepare, never_refused)
    again = guard.execute(Keyed("ann", "k-1", "f-1"), prepare, never_refused)
    assert first == again == Answer(201, {"id": "p-1"})
    assert steps == ["ran"]
