"""The packet half of R-M2 holds on a healthy database and names each kind of damage."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import PacketService, SendPacket


def send_and_claim(world: PacketService) -> None:
    world.send(
        SendPacket(
            "p-1",
            PacketType.GROUP_NORMAL,
            "alice",
            Money.of(9_00, "CNY"),
            3,
            "alice-balance",
            group_id="friends",
        )
    )
    world.claim("p-1", "bob")


def test_a_healthy_packet_passes_every_check(world: PacketService) -> None:
    send_and_claim(world)
    report = world.verify()
    assert report.ok, report.problems
    assert (report.packets, report.shares) == (1, 3)


@pytest.mark.parametrize(
    ("damage", "check"),
    [
        ("claimed_minor", "packet.counters"),
        ("share_claimer", "share.paid_once"),
        ("unpaid_claim", "share.paid_once"),
        ("total", "packet.counters"),
    ],
)
def test_damage_to_a_packet_is_reported_with_its_check(
    world: PacketService, damage: str, check: str
) -> None:
    send_and_claim(world)

    def tamper(uow: object) -> None:
        packets = uow.packets  # type: ignore[attr-defined]
        packet = packets.packets.get("p-1")
        first, second = packets.shares.where("packet_id", "p-1", limit=3)[:2]
        if damage == "claimed_minor":
            packets.packets.replace(replace(packet, claimed_minor=packet.claimed_minor + 1))
        elif damage == "share_claimer":
            packets.shares.replace(replace(first, claimed_by="carol"))
        elif damage == "unpaid_claim":
            packets.shares.replace(replace(second, claimed_by="carol", claimed_at_us=1))
            packets.packets.replace(
                replace(packet, claimed_count=2, claimed_minor=packet.claimed_minor + 3_00)
            )
        else:
            packets.packets.replace(replace(packet, total_minor=packet.total_minor + 1))

    world.database.transact(tamper)
    report = world.verify()
    assert not report.ok
    assert check in {problem.check for problem in report.problems}
    assert all(problem.packet_id == "p-1" for problem in report.problems)
