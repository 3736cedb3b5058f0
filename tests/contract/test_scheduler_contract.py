"""The durable scheduler on every adapter: due work runs at least once, with its effects."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.operations import create_accounts, create_transfers
from hongbao.ledger.service import Ledger
from hongbao.platform.clock import ManualClock
from hongbao.platform.idempotency import IdempotencyRecord
from hongbao.platform.pipeline import Pipeline
from hongbao.platform.records import RecordTable
from hongbao.platform.retries import retry_delay_seconds
from hongbao.platform.scheduler import (
    DueWorkState,
    Scheduler,
    SchedulingError,
    schedule,
)
from hongbao.storage.unit_of_work import Database, UnitOfWork


def keys(uow: UnitOfWork) -> RecordTable[IdempotencyRecord]:
    return uow.api.idempotency


@pytest.fixture(params=["by its row", "through the pipeline"])
def scheduler(database: Database, clock: ManualClock, request: pytest.FixtureRequest) -> Scheduler:
    """The scheduler alone, and as the worker runs it: each job through the write pipeline."""
    ledger = Ledger(database, clock)
    ledger.create_accounts(
        [
            NewAccount("card", AccountKind.DEBIT_CARD, "CNY"),
            NewAccount("alice", AccountKind.USER_BALANCE, "CNY"),
        ]
    )
    pipeline = Pipeline(database, clock, keys) if request.param == "through the pipeline" else None
    scheduler = Scheduler(database, clock, pipeline=pipeline)

    def pay(uow: UnitOfWork, payload: dict[str, Any], now_us: int) -> None:
        request = TransferRequest(payload["transfer"], 1, payload["amount"], "card", "alice", "CNY")
        (result,) = create_transfers(uow.ledger, [request], now_us)
        if not result.succeeded:
            raise RuntimeError(result.code.value)

    def explode(uow: UnitOfWork, payload: dict[str, Any], now_us: int) -> None:
        create_accounts(uow.ledger, [NewAccount("half-done", AccountKind.RISK_HOLD, "CNY")], now_us)
        raise RuntimeError("the bank is down")

    scheduler.register("pay", pay)
    scheduler.register("explode", explode)
    return scheduler


def add(scheduler: Scheduler, work_id: str, kind: str, due_in_seconds: int, **payload: Any) -> None:
    now_us = scheduler.clock.now_us()
    scheduler.database.transact(
        lambda uow: schedule(
            uow.scheduler,
            work_id=work_id,
            kind=kind,
            payload=payload,
            due_at_us=now_us + due_in_seconds * 1_000_000,
            now_us=now_us,
            max_attempts=3,
        )
    )


def state(scheduler: Scheduler, work_id: str) -> Any:
    return scheduler.database.read(lambda uow: uow.scheduler.get(work_id))


def test_work_runs_when_due_not_before_and_only_once(
    scheduler: Scheduler, clock: ManualClock
) -> None:
    add(scheduler, "pay-1", "pay", 900, transfer="t-1", amount=500)
    add(scheduler, "pay-1", "pay", 900, transfer="t-1", amount=500)  # scheduling is idempotent
    clock.advance(seconds=899)
    assert scheduler.run_due().ran == 0
    clock.advance(seconds=1)
    assert scheduler.run_due().done == 1
    assert scheduler.run_due().ran == 0
    assert state(scheduler, "pay-1").state is DueWorkState.DONE
    assert Ledger(scheduler.database, clock).account("alice").credit_balance == 500


def test_the_same_id_with_other_details_is_refused(scheduler: Scheduler) -> None:
    add(scheduler, "pay-1", "pay", 10, transfer="t-1", amount=500)
    with pytest.raises(SchedulingError) as refused:
        add(scheduler, "pay-1", "pay", 10, transfer="t-1", amount=501)
    assert refused.value.code == "scheduler.already_scheduled"


def test_a_failing_handler_leaves_no_effect_retries_with_backoff_then_is_dead(
    scheduler: Scheduler, clock: ManualClock, database: Database
) -> None:
    add(scheduler, "boom", "explode", 0)
    report = scheduler.run_due()
    assert (report.failed, report.failures[0][1]) == (1, "RuntimeError: the bank is down")
    assert Ledger(database, clock).accounts(["half-done"]) == {}  # rolled back with the handler
    assert scheduler.run_due().ran == 0  # not due again until its backoff has passed
    clock.advance(seconds=retry_delay_seconds(1))
    assert scheduler.run_due().failed == 1
    clock.advance(seconds=retry_delay_seconds(2))
    assert scheduler.run_due().dead == 1
    dead = state(scheduler, "boom")
    assert (dead.state, dead.attempts, dead.last_error) == (
        DueWorkState.DEAD,
        3,
        "RuntimeError: the bank is down",
    )
    clock.advance(seconds=3_600)
    assert scheduler.run_due().ran == 0
    assert scheduler.replay("boom").state is DueWorkState.PENDING


def test_work_without_a_registered_handler_is_reported_not_lost(scheduler: Scheduler) -> None:
    add(scheduler, "mystery", "no-such-kind", 0)
    report = scheduler.run_due()
    assert report.failures[0] == (
        "mystery",
        "UnknownKind: no handler registered for 'no-such-kind'",
    )
    assert state(scheduler, "mystery").state is DueWorkState.PENDING


def test_a_new_scheduler_finds_everything_still_due(
    scheduler: Scheduler, database: Database, clock: ManualClock
) -> None:
    """Nothing due lives in memory: a restarted worker sees the same table."""
    add(scheduler, "pay-2", "pay", 60, transfer="t-2", amount=100)
    restarted = Scheduler(database, clock)
    restarted.register("pay", scheduler.handlers["pay"])
    clock.advance(seconds=60)
    assert restarted.run_due().done == 1
    counts = database.read(lambda uow: uow.scheduler.count_by_state())
    assert counts[DueWorkState.DONE] == 1


def test_one_failing_item_in_a_batch_fails_alone_and_the_rest_complete(
    scheduler: Scheduler, clock: ManualClock, database: Database
) -> None:
    """Items run in batches; when one handler fails, its batch is rolled back and run again
    one item at a time: the failure is recorded on its own row, every other item completes
    and pays exactly once."""
    for number in range(30):
        add(scheduler, f"pay-{number:02d}", "pay", 0, transfer=f"t-{number}", amount=1)
    add(scheduler, "pay-10-boom", "explode", 0)
    report = scheduler.run_due()
    assert (report.done, report.failed) == (30, 1)
    assert state(scheduler, "pay-10-boom").attempts == 1
    assert Ledger(database, clock).account("alice").credit_balance == 30
    assert Ledger(database, clock).accounts(["half-done"]) == {}


def test_a_job_whose_effects_were_kept_under_its_key_does_not_run_again(
    database: Database, clock: ManualClock
) -> None:
    """Through the pipeline a job's key is its id: were its row ever pending again, the job
    is marked done without applying its effects a second time."""
    ledger = Ledger(database, clock)
    ledger.create_accounts(
        [
            NewAccount("card", AccountKind.DEBIT_CARD, "CNY"),
            NewAccount("alice", AccountKind.USER_BALANCE, "CNY"),
        ]
    )
    scheduler = Scheduler(database, clock, pipeline=Pipeline(database, clock, keys))
    runs: list[str] = []

    def pay(uow: UnitOfWork, payload: dict[str, Any], now_us: int) -> None:
        runs.append(payload["transfer"])
        request = TransferRequest(payload["transfer"], 1, payload["amount"], "card", "alice", "CNY")
        (result,) = create_transfers(uow.ledger, [request], now_us)
        assert result.succeeded

    scheduler.register("pay", pay)
    add(scheduler, "w-1", "pay", 0, transfer="t-1", amount=100)
    assert scheduler.run_due().done == 1
    kept = database.read(lambda uow: uow.api.idempotency.get("worker", "w-1"))
    assert kept is not None
    assert kept.status == 200
    done = database.read(lambda uow: uow.scheduler.get("w-1"))
    assert done is not None
    database.transact(
        lambda uow: uow.scheduler.replace(
            replace(done, state=DueWorkState.PENDING, completed_at_us=None)
        )
    )
    assert scheduler.run_due().done == 1
    assert runs == ["t-1"]
    again = database.read(lambda uow: uow.scheduler.get("w-1"))
    assert again is not None
    assert again.state is DueWorkState.DONE
    assert ledger.account("alice").credits_posted == 100
