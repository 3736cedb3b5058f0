"""The packets context's events, each written to its packet's stream ``packet:{id}``.

Each class's ``event_type`` and ``payload()`` are the wire form: stored events and SSE clients
read them, so a name or a key never changes once written (a test pins them). Amounts are
integer minor units in the packet's currency unless the event says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeAlias


def packet_stream(packet_id: str) -> str:
    return f"packet:{packet_id}"


def user_stream(user_id: str) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True, slots=True)
class _OfPacket:
    """What every packet event has: the packet, whose stream orders it."""

    event_type: ClassVar[str]
    packet_id: str

    @property
    def stream(self) -> str:
        return packet_stream(self.packet_id)


@dataclass(frozen=True, slots=True)
class PacketSent(_OfPacket):
    event_type: ClassVar[str] = "PacketSent"
    total: int

    def payload(self) -> dict[str, object]:
        return {"packet_id": self.packet_id, "total": self.total}


@dataclass(frozen=True, slots=True)
class PacketClaimed(_OfPacket):
    event_type: ClassVar[str] = "PacketClaimed"
    user: str  # the claimer's id
    amount: int

    def payload(self) -> dict[str, object]:
        return {"packet_id": self.packet_id, "user": self.user, "amount": self.amount}


@dataclass(frozen=True, slots=True)
class PacketExhausted(_OfPacket):
    """The last share was claimed."""

    event_type: ClassVar[str] = "PacketExhausted"

    def payload(self) -> dict[str, object]:
        return {"packet_id": self.packet_id}


@dataclass(frozen=True, slots=True)
class PacketExpired(_OfPacket):
    event_type: ClassVar[str] = "PacketExpired"
    refunded: int  # the unclaimed remainder given back

    def payload(self) -> dict[str, object]:
        return {"packet_id": self.packet_id, "refunded": self.refunded}


@dataclass(frozen=True, slots=True)
class PacketRecalled(_OfPacket):
    event_type: ClassVar[str] = "PacketRecalled"
    returned: int  # the unclaimed remainder given back

    def payload(self) -> dict[str, object]:
        return {"packet_id": self.packet_id, "returned": self.returned}


@dataclass(frozen=True, slots=True)
class AuthorizationCaptured(_OfPacket):
    """A card hold was captured: what the sender's card was charged in all (the sender's own
    event: its audience never sees it)."""

    event_type: ClassVar[str] = "AuthorizationCaptured"
    charged: int  # in the card's currency, not the packet's
    currency: str  # the card's currency code

    def payload(self) -> dict[str, object]:
        return {"packet_id": self.packet_id, "charged": self.charged, "currency": self.currency}


@dataclass(frozen=True, slots=True)
class PacketScheduled(_OfPacket):
    """A delayed send (R-B1): its money is reserved now, the packet is delivered at
    ``deliver_at`` (the sender's own event, like every step of a delayed send before delivery:
    the audience sees the packet from ``PacketSent`` on)."""

    event_type: ClassVar[str] = "PacketScheduled"
    total: int
    deliver_at: int  # microseconds since the epoch

    def payload(self) -> dict[str, object]:
        return {"packet_id": self.packet_id, "total": self.total, "deliver_at": self.deliver_at}


@dataclass(frozen=True, slots=True)
class ScheduledSendCancelled(_OfPacket):
    """The sender cancelled a delayed send before its delivery: the reservation was voided,
    no fee, whatever the source."""

    event_type: ClassVar[str] = "ScheduledSendCancelled"
    returned: int  # the whole reserved total

    def payload(self) -> dict[str, object]:
        return {"packet_id": self.packet_id, "returned": self.returned}


@dataclass(frozen=True, slots=True)
class PacketDelivered(_OfPacket):
    """A delayed send was delivered by the scheduler; ``PacketSent`` follows it."""

    event_type: ClassVar[str] = "PacketDelivered"
    deliver_at: int  # the delivery time it was scheduled for, in microseconds

    def payload(self) -> dict[str, object]:
        return {"packet_id": self.packet_id, "deliver_at": self.deliver_at}


PacketEvent: TypeAlias = (
    PacketSent
    | PacketClaimed
    | PacketExhausted
    | PacketExpired
    | PacketRecalled
    | AuthorizationCaptured
    | PacketScheduled
    | ScheduledSendCancelled
    | PacketDelivered
)
