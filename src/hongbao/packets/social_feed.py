"""The ``social`` outbox consumer: each executed recall's social consequences (R-S1..R-S7).

A recall appends ``PacketRecalled`` with one more consumer than the other packet events:
``social`` (sends and claims carry no delivery for it, so they cost nothing more). The relay
hands the event here after the recall committed; this reads the packet it names and hands the
recall to the social context (``social.effects.apply_recall``), which applies it exactly once
in the relay's transaction. Late under load and deferred in degrade mode, never lost: the
money path never waits for it (R-S7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from hongbao.packets.claims import CONSUMERS
from hongbao.packets.events import PacketRecalled
from hongbao.packets.model import Packet, PacketType
from hongbao.packets.ports import UnitOfWork
from hongbao.platform.clock import Clock, SystemClock
from hongbao.platform.invariants import present
from hongbao.platform.outbox import OutboxEvent
from hongbao.policy.store import PolicyStore
from hongbao.social.consequences import RecalledPacket
from hongbao.social.effects import apply_recall

SOCIAL_FEED: Final = "social"
RECALL_CONSUMERS: Final = (*CONSUMERS, SOCIAL_FEED)  # each registered in worker.build_relay


def recalled_packet(
    packet: Packet, event_id: str, returned_minor: int, at_us: int
) -> RecalledPacket:
    """``packet``'s recall as the social context sees it."""
    personal = packet.packet_type is PacketType.PERSONAL
    return RecalledPacket(
        event_id=event_id,
        packet_id=packet.id,
        sender_id=packet.sender_id,
        recipient_id=packet.recipient_id if personal else None,
        group_id=None if personal else packet.group_id,
        returned_minor=returned_minor,
        recalled_at_us=at_us,
    )


@dataclass
class SocialFeed:
    """The ``social`` consumer; ``clock`` only decides which lapsed penalties to drop."""

    policies: PolicyStore = field(default_factory=PolicyStore.fixed)
    clock: Clock = field(default_factory=SystemClock)

    def __call__(self, uow: UnitOfWork, event: OutboxEvent) -> None:
        self.deliver_batch(uow, [event])

    def deliver_batch(self, uow: UnitOfWork, events: Sequence[OutboxEvent]) -> None:
        policy = self.policies.active()
        now_us = self.clock.now_us()
        for event in events:
            if event.event_type != PacketRecalled.event_type:
                continue  # only recalls cost anything socially
            payload = event.payload_object()
            packet_id = str(payload.get("packet_id"))
            packet = present(
                uow.packets.packets.get(packet_id), "a recalled packet exists", packet_id=packet_id
            )
            returned = int(payload.get("returned", 0))
            apply_recall(
                uow,
                recalled_packet(packet, event.id, returned, event.created_at_us),
                policy,
                now_us,
            )
