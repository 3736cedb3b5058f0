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

from typing import Final

from hongbao.packets.model import Packet, PacketType
from hongbao.platform.invariants import invariant
from hongbao.platform.outbox import NewEvent, OutboxEvent, append
from hongbao.platform.unit_of_work import UnitOfWork

USER_FEED: Final = "user-feed"
# What a packet's audience (group members, a personal packet's recipient) may see. Any other
# event, e.g. AuthorizationCaptured (what the sender's card was charged), and any event type
# added later until it is listed here, is the sender's own (R-A5).
AUDIENCE_EVENTS: Final = frozenset(
    {"PacketSent", "PacketClaimed", "PacketExhausted", "PacketExpired", "PacketRecalled"}
)


def user_stream(user_id: str) -> str:
    return f"user:{user_id}"


def packet_stream(packet_id: str) -> str:
    return f"packet:{packet_id}"


def visible_to(packet: Packet, event_type: str, viewer: str | None) -> bool:
    """May ``viewer`` (a user id; None for an operator) see this event of ``packet``, given that
    they may see the packet itself?"""
    return viewer is None or viewer == packet.sender_id or event_type in AUDIENCE_EVENTS


def readers(packet: Packet, event_type: str, payload: dict[str, object]) -> list[str]:
    """Whose feeds get a copy of this event, in id order (the order their rows are locked)."""
    found = {packet.sender_id}
    if packet.packet_type is PacketType.PERSONAL and packet.recipient_id is not None:
        found.add(packet.recipient_id)
    claimer = payload.get("user") if event_type == "PacketClaimed" else None
    if isinstance(claimer, str):
        found.add(claimer)
    return sorted(user for user in found if visible_to(packet, event_type, user))


def copy_to_feeds(uow: UnitOfWork, event: OutboxEvent) -> None:
    """The ``user-feed`` consumer."""
    payload = event.payload_object()
    packet = uow.packets.packets.get(str(payload.get("packet_id")))
    invariant(packet is not None, "a packet event's packet exists", event_id=event.id)
    assert packet is not None  # noqa: S101 - narrows the type; invariant() enforces
    users = readers(packet, event.event_type, payload)
    # Appends to one user's stream queue on that user's row, so two relays copying events of
    # different packets never pick the same sequence (READ COMMITTED sees the other's rows).
    for user in users:
        uow.identity.users.lock(user)
    copy = {"currency": packet.currency, **payload, "packet_sequence": event.stream_sequence}
    new = [NewEvent(user_stream(user), event.event_type, copy) for user in users]
    append(uow.outbox, new, consumers=(), now_us=event.created_at_us)
