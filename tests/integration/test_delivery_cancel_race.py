"""Delayed sends whose delivery and cancel race on PostgreSQL (R-B1): each packet ends either
delivered or cancelled, never both, and every fen is where that one outcome says."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.errors import PacketCode
from hongbao.packets.model import PacketState, PacketType
from hongbao.packets.scheduled_sends import DELIVER_KIND
from hongbao.packets.service import PacketService, SendPacket
from hongbao.packets.split import PacketError
from hongbao.platform.clock import ManualClock
from hongbao.platform.scheduler import Scheduler
from hongbao.storage.unit_of_work import Database
from tests.conftest import ten_in_the_morning_us
from tests.integration.test_recall_concurrency import build

PACKETS = 12
TOTAL = 30_00
MINUTE_US = 60 * 1_000_000
STAGGER_SECONDS = 0.01


def cancel(packets: PacketService, packet_id: str, start: threading.Barrier, lag: float) -> bool:
    """True when the cancel won; a delivery that came first refuses it as not scheduled.
    ``lag`` staggers the cancels across the delivery's run, so some land on each side."""
    start.wait()
    time.sleep(lag)
    try:
        packets.cancel_scheduled(packet_id, "sender")
    except PacketError as refused:
        if refused.code is not PacketCode.NOT_SCHEDULED:
            raise
        return False
    return True


def deliver(scheduler: Scheduler, start: threading.Barrier) -> int:
    start.wait()
    return scheduler.run_due().done


@pytest.mark.postgres
def test_a_delivery_racing_cancels_on_postgresql_resolves_each_packet_once(
    postgres_database: Database,
) -> None:
    clock = ManualClock(ten_in_the_morning_us())
    packets, _recalls = build(postgres_database, clock, members=2)
    ids = []
    for n in range(PACKETS):
        command = SendPacket(
            f"later-{n}",
            PacketType.GROUP_NORMAL,
            "sender",
            Money.of(TOTAL, "CNY"),
            2,
            "sender-balance",
            group_id="race",
            deliver_at_us=clock.now_us() + MINUTE_US,
        )
        ids.append(packets.send(command).id)
    clock.advance(microseconds=MINUTE_US)
    scheduler = Scheduler(postgres_database, clock)
    scheduler.register(DELIVER_KIND, packets.deliver_handler)
    start = threading.Barrier(PACKETS + 1)

    with ThreadPoolExecutor(max_workers=PACKETS + 1) as pool:
        delivering = pool.submit(deliver, scheduler, start)
        cancelling = {
            packet_id: pool.submit(cancel, packets, packet_id, start, n * STAGGER_SECONDS)
            for n, packet_id in enumerate(ids)
        }
        cancelled = {i for i, future in cancelling.items() if future.result()}
        assert delivering.result() == PACKETS  # every job ran; a cancelled one found nothing

    ledger = Ledger(postgres_database, clock)
    for packet_id in ids:
        packet = packets.packet(packet_id)
        escrow = ledger.account(packet.escrow_account_id)
        if packet_id in cancelled:
            assert (packet.state, escrow.credit_balance) == (PacketState.CANCELLED, 0)
        else:
            assert (packet.state, escrow.credit_balance) == (PacketState.OPEN, TOTAL)
    sender = ledger.account("user:sender:balance")
    assert sender.debits_pending == 0
    assert sender.credit_balance == 5_000_00 - TOTAL * (PACKETS - len(cancelled))
    assert ledger.verify().ok
    assert packets.verify().ok
