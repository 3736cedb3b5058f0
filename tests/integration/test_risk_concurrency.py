"""Risk control under concurrency on PostgreSQL (R-K2): two recalls of one requester racing
past the fifth attempt of the hour are both counted, each on its own connection."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import SendPacket
from hongbao.platform.clock import ManualClock
from hongbao.recall.service import RecallCommand, RecallOutcome
from hongbao.storage.unit_of_work import Database
from tests.conftest import ten_in_the_morning_us
from tests.integration.test_recall_concurrency import PHONE, build


@pytest.mark.postgres
def test_two_recalls_racing_past_the_fifth_attempt_are_both_counted(
    postgres_database: Database,
) -> None:
    packets, recalls = build(
        postgres_database, ManualClock(ten_in_the_morning_us()), members=0, risk_rules=True
    )
    for n in range(6):
        packets.send(
            SendPacket(
                f"p-{n}",
                PacketType.GROUP_NORMAL,
                "sender",
                Money.of(10_00, "CNY"),
                1,
                "sender-balance",
                group_id="race",
                device=PHONE,
            )
        )
    for n in range(4):
        recalls.recall(RecallCommand(f"early-{n}", f"p-{n}", "sender", PHONE))
    barrier = threading.Barrier(2)

    def recall(n: int) -> RecallOutcome:
        barrier.wait(timeout=30)
        return recalls.recall(RecallCommand(f"race-{n}", f"p-{n}", "sender", PHONE))

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(recall, [4, 5]))
    profile = postgres_database.read(lambda uow: uow.risk.profiles.get("sender"))
    assert profile is not None
    assert len(profile.attempt_times()) == 6
    # The fifth and the sixth attempt both reach the threshold: each asks for a face.
    assert [outcome.decision.result.value for outcome in outcomes] == ["challenge", "challenge"]
