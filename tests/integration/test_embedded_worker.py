"""The embedded worker: the same passes as ``hongbao worker``, inside the caller's process."""

from __future__ import annotations

import time

import pytest

from hongbao.bootstrap import open_services
from hongbao.entrypoints.population import load_population
from hongbao.entrypoints.worker import EmbeddedWorker
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.money import Money
from hongbao.packets.authorization import AuthorizationState
from hongbao.packets.model import PacketState, PacketType
from hongbao.packets.service import SendPacket
from hongbao.platform.clock import ManualClock
from hongbao.platform.errors import StorageCode, StorageError
from tests.conftest import START_US


def wait_for(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the embedded worker did not get there in time"
        time.sleep(0.02)


def test_a_background_embedded_worker_captures_and_expires_card_packets(sqlite_url: str) -> None:
    clock = ManualClock(START_US)
    services = open_services(sqlite_url, clock=clock)
    load_population(services.identity, services.funding, services.social)
    services.ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    packet = services.packets.send(
        SendPacket(
            "embedded",
            PacketType.GROUP_NORMAL,
            "li-wei",
            Money.of(9_00, "CNY"),
            3,
            "li-wei-icbc",
            group_id="xinghe-team",
        )
    )
    worker = EmbeddedWorker(services, poll_seconds=0.01)
    worker.start()
    try:
        clock.advance(seconds=15 * 60)
        wait_for(lambda: not services.packets.authorization(packet.id).is_held)  # type: ignore[union-attr]
        held = services.packets.authorization(packet.id)
        assert held is not None
        assert held.state is AuthorizationState.CAPTURED
        clock.advance(seconds=24 * 3600)
        wait_for(lambda: services.packets.packet(packet.id).state is PacketState.EXPIRED)
    finally:
        worker.stop()
    assert worker.total.work_done == 2
    assert services.ledger.verify().ok
    assert services.packets.verify().ok
    services.close()


# The thread re-raises after recording the failure, so it is also printed where it happened.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_failing_pass_stops_the_embedded_worker_and_its_error_reaches_stop(
    sqlite_url: str,
) -> None:
    services = open_services(sqlite_url)
    worker = EmbeddedWorker(services, poll_seconds=0.01)

    def unavailable() -> None:
        raise StorageError("the database went away", code=StorageCode.UNAVAILABLE)

    worker.scheduler.run_due = unavailable  # type: ignore[method-assign,assignment]
    worker.start()
    wait_for(lambda: worker.failure is not None)
    with pytest.raises(StorageError) as stopped:
        worker.stop()
    assert stopped.value is worker.failure
    services.close()


def test_draining_runs_everything_due_then_stops(sqlite_url: str) -> None:
    clock = ManualClock(START_US)
    services = open_services(sqlite_url, clock=clock)
    load_population(services.identity, services.funding, services.social)
    services.ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    services.ledger.transfer(
        TransferRequest("top-up", 1, 100_00, "bank", "user:li-wei:balance", "CNY")
    )
    for number in range(3):
        services.packets.send(
            SendPacket(
                f"drain-{number}",
                PacketType.GROUP_LUCKY,
                "li-wei",
                Money.of(3_00, "CNY"),
                2,
                "li-wei-balance",
                group_id="xinghe-team",
            )
        )
    clock.advance(seconds=24 * 3600)
    report = EmbeddedWorker(services).drain()
    assert report.work_done == 3
    assert all(p.state is PacketState.EXPIRED for p in services.packets.sent_by("li-wei"))
    services.close()
