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


PacketEvent: TypeAlias = (
    PacketSent
    | PacketClaimed
    | PacketExhausted
    | PacketExpired
    | PacketRecalled
    | AuthorizationCaptured
)
