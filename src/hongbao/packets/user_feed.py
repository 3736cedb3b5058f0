"""The per-user feed: each user's own packet events, in a stream of their own (``user:{id}``).

A packet's events go to its stream ``packet:{id}`` with the change that caused them. The
``user-feed`` outbox consumer copies each one, after the fact, to the streams of the people it
concerns: the sender gets every event of their packets, a personal packet's recipient the
events its audience may see, and a claimer their own claim. The copy keeps the event type, the
payload and the time it happened, and adds ``packet_sequence`` (the event's place in the
packet's stream) and ``currency`` (of the amounts in it). Each user stream has its own
sequence, so ``GET /v1/me/events`` resumes exactly like a packet's stream does.

The feed is social, not money: a consumer runs on the relay, late under load (it may be
deferred) but never lost, and a copy commits together with its delivery, so it is made once.
Group members other than the sender and the claimers get no copy (a group can be large); they
follow the packet's own stream, which its audience may read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from hongbao.identity.reads import lock_users
from hongbao.packets.events import (
    PacketClaimed,
    PacketExhausted,
    PacketExpired,
    PacketRecalled,
    PacketSent,
    packet_stream,
    user_stream,
)
from hongbao.packets.model import Packet, PacketType
from hongbao.packets.ports import UnitOfWork
from hongbao.platform.invariants import invariant
from hongbao.platform.outbox import (
    MAX_EVENTS_PER_APPEND,
    NewEvent,
    OutboxEvent,
    append_timed,
    new_event,
)

USER_FEED: Final = "user-feed"
# What a packet's audience (group members, a personal packet's recipient) may see. Any other
# event, e.g. AuthorizationCaptured (what the sender's card was charged), and any event type
# added later until it is listed here, is the sender's own (R-A5).
AUDIENCE_EVENTS: Final = frozenset(
    kind.event_type
    for kind in (PacketSent, PacketClaimed, PacketExhausted, PacketExpired, PacketRecalled)
)
# The streams' names live with the events now; callers have always found them here too.
__all__ = [
    "AUDIENCE_EVENTS",
    "USER_FEED",
    "FeedCopy",
    "UserFeed",
    "copy_to_feeds",
    "packet_stream",
    "readers",
    "user_stream",
    "visible_to",
]


@dataclass(frozen=True, slots=True)
class FeedCopy:
    """A packet event copied to one reader's stream. It is the same event, not a new one: it
    keeps its type name and payload, and adds its place in the packet's stream and the
    currency of its amounts."""

    user_id: str
    event_type: str
    original: Mapping[str, object]  # the packet event's payload, as stored
    currency: str
    packet_sequence: int

    @property
    def stream(self) -> str:
        return user_stream(self.user_id)

    def payload(self) -> dict[str, object]:
        # The original's own ``currency`` (a card charge's) wins over the packet's.
        return {
            "currency": self.currency,
            **self.original,
            "packet_sequence": self.packet_sequence,
        }


def visible_to(packet: Packet, event_type: str, viewer: str | None) -> bool:
    """May ``viewer`` (a user id; None for an operator) see this event of ``packet``, given that
    they may see the packet itself?"""
    return viewer is None or viewer == packet.sender_id or event_type in AUDIENCE_EVENTS


def readers(packet: Packet, event_type: str, payload: dict[str, object]) -> list[str]:
    """Whose feeds get a copy of this event, in id order (the order their rows are locked)."""
    found = {packet.sender_id}
    if packet.packet_type is PacketType.PERSONAL and packet.recipient_id is not None:
        found.add(packet.recipient_id)
    claimer = payload.get("user") if event_type == PacketClaimed.event_type else None
    if isinstance(claimer, str):
        found.add(claimer)
    return sorted(user for user in found if visible_to(packet, event_type, user))


class UserFeed:
    """The ``user-feed`` consumer. The relay hands it a batch of events at once: each packet is
    read once for all its events, every reader is locked once, and the copies are appended in
    one go."""

    def __call__(self, uow: UnitOfWork, event: OutboxEvent) -> None:
        self.deliver_batch(uow, [event])

    def deliver_batch(self, uow: UnitOfWork, events: Sequence[OutboxEvent]) -> None:
        payloads = [event.payload_object() for event in events]
        packets = _packets_of(uow, events, payloads)
        copies: list[tuple[NewEvent, int]] = []
        users: set[str] = set()
        for event, payload in zip(events, payloads, strict=True):
            packet = packets[str(payload.get("packet_id"))]
            its_readers = readers(packet, event.event_type, payload)
            users.update(its_readers)
            copies += _copies(packet, event, payload, its_readers)
        # Appends to one user's stream queue on that user's row, so two relays copying events of
        # different packets never pick the same sequence (READ COMMITTED sees the other's rows).
        # The whole batch's readers are locked in one statement, in id order: two relays never
        # wait for each other in a circle.
        lock_users(uow.identity, users)
        for start in range(0, len(copies), MAX_EVENTS_PER_APPEND):
            append_timed(uow.outbox, copies[start : start + MAX_EVENTS_PER_APPEND], consumers=())


def _packets_of(
    uow: UnitOfWork, events: Sequence[OutboxEvent], payloads: Sequence[dict[str, object]]
) -> dict[str, Packet]:
    """The packets of ``events``, each read once."""
    wanted = {(str(payload.get("packet_id")),) for payload in payloads}
    found = {key[0]: packet for key, packet in uow.packets.packets.get_many(wanted).items()}
    for event, payload in zip(events, payloads, strict=True):
        invariant(
            str(payload.get("packet_id")) in found,
            "a packet event's packet exists",
            event_id=event.id,
        )
    return found


def _copies(
    packet: Packet, event: OutboxEvent, payload: dict[str, object], users: Sequence[str]
) -> list[tuple[NewEvent, int]]:
    """``event``'s copy for each user's stream, with the time it happened."""
    return [
        (
            new_event(
                FeedCopy(user, event.event_type, payload, packet.currency, event.stream_sequence)
            ),
            event.created_at_us,
        )
        for user in users
    ]


copy_to_feeds: Final = UserFeed()
