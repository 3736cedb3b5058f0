"""A packet's tamper-evident history (R-B2): its stream's hash chain, for its participants.

Every event written to ``packet:{id}`` (sent, each claim, exhausted, captured, expired,
recalled, each step of its refund, and any event type added later) is an entry of the
packet's chain, hashed as it is written (the rule is in :mod:`hongbao.platform.chain`). The
packet's participants read it: its sender, its claimers, a personal packet's recipient and
operators. An entry whose event is the sender's own (a card charge, the refund's route) is
shown to the others with its payload withheld: its digest still links the chain, so they can
verify every link without seeing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hongbao.packets.claims import refuse
from hongbao.packets.errors import PacketCode
from hongbao.packets.events import packet_stream
from hongbao.packets.model import Packet, PacketType, Share
from hongbao.packets.ports import Database, UnitOfWork
from hongbao.packets.user_feed import visible_to
from hongbao.platform.chain import EMPTY, ChainBreak, ChainEntry, ChainHead, first_break
from hongbao.platform.outbox import MAX_EVENTS_PER_READ, OutboxEvent


@dataclass(frozen=True, slots=True)
class ShownEntry:
    """An entry as a viewer sees it: ``payload`` None when it is withheld from them."""

    entry: ChainEntry
    payload: str | None


@dataclass(frozen=True, slots=True)
class PacketHistory:
    packet_id: str
    entries: list[ShownEntry]
    head: ChainHead


@dataclass(frozen=True, slots=True)
class StoredHistory:
    """A packet, its shares and its chain, read on one snapshot."""

    packet: Packet
    shares: list[Share]
    entries: list[ChainEntry]


def read_history(database: Database, packet_id: str) -> StoredHistory:
    """The packet with its shares (who claimed) and its chain; ``packets.unknown_packet`` when
    there is no such packet."""

    def read(uow: UnitOfWork) -> StoredHistory:
        packet = uow.packets.packets.get(packet_id)
        if packet is None:
            raise refuse(f"no packet {packet_id!r}", PacketCode.UNKNOWN_PACKET)
        shares = uow.packets.shares_of(packet_id, limit=packet.share_count)
        return StoredHistory(packet, shares, read_chain(uow, packet_id))

    return database.read(read)


def read_chain(uow: UnitOfWork, packet_id: str) -> list[ChainEntry]:
    """The packet's chain as stored, every entry in sequence order (read a page at a time)."""
    stream = packet_stream(packet_id)
    entries: list[ChainEntry] = []
    while True:
        after = entries[-1].sequence if entries else 0
        page = uow.outbox.events_after(stream, after, MAX_EVENTS_PER_READ)
        entries += [entry_of(event) for event in page]
        if len(page) < MAX_EVENTS_PER_READ:
            return entries


def entry_of(event: OutboxEvent) -> ChainEntry:
    return ChainEntry(
        stream=event.stream,
        sequence=event.stream_sequence,
        event_type=event.event_type,
        payload=event.payload,
        at_us=event.created_at_us,
        previous_hash=event.previous_hash,
        hash=event.entry_hash,
    )


def is_participant(packet: Packet, shares: Sequence[Share], viewer: str) -> bool:
    """The sender, a claimer, or a personal packet's recipient (operators are checked by the
    caller: they read every packet)."""
    if viewer == packet.sender_id:
        return True
    if packet.packet_type is PacketType.PERSONAL and viewer == packet.recipient_id:
        return True
    return any(share.claimed_by == viewer for share in shares)


def shown_to(packet: Packet, entries: Sequence[ChainEntry], viewer: str | None) -> PacketHistory:
    """The history as ``viewer`` (None: an operator) sees it."""
    shown = [
        ShownEntry(entry, entry.payload if visible_to(packet, entry.event_type, viewer) else None)
        for entry in entries
    ]
    head = ChainHead(entries[-1].sequence, entries[-1].hash or EMPTY.hash) if entries else EMPTY
    return PacketHistory(packet.id, shown, head)


def verify_chain(uow: UnitOfWork, packet_id: str) -> tuple[int, ChainBreak | None]:
    """How many entries the packet's stored chain has, and where it first breaks (None when
    intact): every hash recomputed from the stored rows."""
    entries = read_chain(uow, packet_id)
    return len(entries), first_break(entries)
