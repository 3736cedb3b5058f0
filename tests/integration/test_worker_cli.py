"""``hongbao worker`` and ``hongbao scheduler`` on a real SQLite file."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from hongbao.entrypoints.cli.main import app
from hongbao.entrypoints.worker import PassReport
from hongbao.ledger.model import AccountKind, NewAccount, TransferKind, TransferRequest
from hongbao.ledger.service import Ledger
from hongbao.platform.clock import SystemClock
from hongbao.platform.scheduler import schedule
from hongbao.storage.factory import open_database

runner = CliRunner()


def run_cli(url: str, *arguments: str) -> tuple[int, str]:
    result = runner.invoke(
        app, [*arguments, "--database-url", url], env={"COLUMNS": "200"}, catch_exceptions=False
    )
    return result.exit_code, result.output


def test_one_worker_pass_releases_a_hold_past_its_timeout(sqlite_url: str) -> None:
    database = open_database(sqlite_url)
    ledger = Ledger(database, SystemClock())
    ledger.create_accounts(
        [
            NewAccount("card", AccountKind.DEBIT_CARD, "CNY"),
            NewAccount("escrow", AccountKind.PACKET_ESCROW, "CNY"),
        ]
    )
    hold = TransferRequest(
        "hold", 4, 800, "card", "escrow", "CNY", kind=TransferKind.PENDING, timeout_seconds=1
    )
    assert ledger.transfer(hold).succeeded
    time.sleep(1.05)
    code, output = run_cli(sqlite_url, "worker", "--once")
    assert code == 0, output
    assert "1 holds expired" in output
    assert ledger.account("escrow").credits_pending == 0
    database.close()


def test_dead_work_is_listed_and_can_be_replayed(sqlite_url: str) -> None:
    database = open_database(sqlite_url)
    now_us = SystemClock().now_us()
    database.transact(
        lambda uow: schedule(
            uow.scheduler,
            work_id="orphan",
            kind="unknown-kind",
            payload={},
            due_at_us=now_us,
            now_us=now_us,
            max_attempts=1,
        )
    )
    database.close()
    code, output = run_cli(sqlite_url, "worker", "--once")
    assert (code, "1 failed" in output) == (0, True)
    code, output = run_cli(sqlite_url, "scheduler", "list", "--state", "dead")
    assert "orphan" in output
    assert "UnknownKind" in output
    code, output = run_cli(sqlite_url, "scheduler", "replay", "orphan")
    assert (code, "pending again" in output) == (0, True)
    code, output = run_cli(sqlite_url, "scheduler", "replay", "orphan")
    assert (code, "scheduler.not_dead" in output) == (2, True)


def test_outbox_dead_letters_are_listed_and_replayed_through_the_commands(
    sqlite_url: str,
) -> None:
    from hongbao.platform.outbox import NewEvent, append  # noqa: PLC0415

    database = open_database(sqlite_url)
    now_us = SystemClock().now_us()
    database.transact(
        lambda uow: append(
            uow.outbox,
            [NewEvent("packet:p-1", "PacketSent", {})],
            consumers=["gone"],
            now_us=now_us,
            max_attempts=1,
        )
    )
    database.close()
    code, output = run_cli(sqlite_url, "worker", "--once")
    assert (code, "1 deliveries failed" in output) == (0, True)
    code, output = run_cli(sqlite_url, "outbox", "dead")
    assert "packet:p-1#1" in output
    assert "no consumer registered" in output
    code, output = run_cli(sqlite_url, "outbox", "replay", "gone", "packet:p-1#1")
    assert (code, "pending again" in output) == (0, True)


def test_the_worker_knows_how_to_expire_packets(sqlite_url: str) -> None:
    from hongbao.bootstrap import open_services  # noqa: PLC0415
    from hongbao.entrypoints.worker import build_scheduler  # noqa: PLC0415
    from hongbao.packets.service import EXPIRE_KIND  # noqa: PLC0415

    services = open_services(sqlite_url)
    try:
        assert EXPIRE_KIND in build_scheduler(services).handlers
    finally:
        services.close()


def test_the_worker_command_sleeps_the_workers_own_idle_poll_unless_told(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outbox delivery waits on the idle poll: the command line used to default to 1 s while
    the worker's own default was 0.2 s, so every deployed worker delivered a second late."""
    import hongbao.entrypoints.worker as worker_module  # noqa: PLC0415

    asked: list[float] = []

    def run(_services: object, *, poll_seconds: float, once: bool) -> PassReport:
        asked.append(poll_seconds)
        return PassReport()

    monkeypatch.setattr(worker_module, "run_until_stopped", run)
    assert run_cli(sqlite_url, "worker")[0] == 0
    assert run_cli(sqlite_url, "worker", "--poll-seconds", "0.5")[0] == 0
    assert asked == [worker_module.DEFAULT_POLL_SECONDS, 0.5]
    assert worker_module.DEFAULT_POLL_SECONDS <= 0.2
