"""Request and response bodies of the HTTP API. Amounts travel as decimal text in yuan
("88.88") with their currency, and as integer minor units alongside: never as floats."""

from __future__ import annotations

from typing import Annotated, overload
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from hongbao.money import Money
from hongbao.packets.model import Packet, PacketPurpose, PacketType
from hongbao.platform.clock import to_datetime

AMOUNT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9:._/-]+$")]
# Text without control characters (C0, DEL, C1): the edge refuses them in every body already
# (``entrypoints/http/edge.py``); the schemas say so, for clients and the OpenAPI document.
NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]+$"
# One line of printable text, as names and purposes are checked by the domain.
Text = Annotated[str, Field(min_length=1, max_length=128, pattern=NO_CONTROL)]
BEIJING = ZoneInfo("Asia/Shanghai")


@overload
def iso_time(moment_us: int) -> str: ...
@overload
def iso_time(moment_us: None) -> None: ...
def iso_time(moment_us: int | None) -> str | None:
    """A moment for people: ISO-8601 in Beijing time with its offset (``…+08:00``)."""
    if moment_us is None:
        return None
    return to_datetime(moment_us).astimezone(BEIJING).isoformat()


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Amount(Body):
    amount: Annotated[str, Field(pattern=AMOUNT_PATTERN, examples=["88.88"])]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    minor: int  # the same amount in minor units (fen)

    @classmethod
    def of(cls, minor: int, currency: str) -> Amount:
        return cls(amount=Money.of(minor, currency).format(), currency=currency, minor=minor)


class SendPacketBody(Body):
    type: PacketType
    amount: Annotated[str, Field(pattern=AMOUNT_PATTERN, examples=["88.88"])]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    shares: Annotated[int, Field(ge=1, le=1_000, strict=True)]
    funding_source_id: Id
    recipient_id: Id | None = None
    group_id: Id | None = None
    # "tuition": a tuition payment (教育缴费) to an education group, whose recall's refund risk
    # control never delays (the education green channel, R-K4).
    purpose: PacketPurpose = PacketPurpose.GIFT


class PacketView(Body):
    id: str
    type: PacketType
    sender_id: str
    state: str
    total: Amount
    claimed: Amount
    remainder: Amount
    shares: int
    claimed_count: int
    funding_kind: str
    recipient_id: str | None
    group_id: str | None
    purpose: PacketPurpose
    created_at_us: int
    expires_at_us: int

    @classmethod
    def of(cls, packet: Packet) -> PacketView:
        currency = packet.currency
        return cls(
            id=packet.id,
            type=packet.packet_type,
            sender_id=packet.sender_id,
            state=packet.state.value,
            total=Amount.of(packet.total_minor, currency),
            claimed=Amount.of(packet.claimed_minor, currency),
            remainder=Amount.of(packet.remainder_minor, currency),
            shares=packet.share_count,
            claimed_count=packet.claimed_count,
            funding_kind=packet.funding_kind.value,
            recipient_id=packet.recipient_id,
            group_id=packet.group_id,
            purpose=packet.purpose,
            created_at_us=packet.created_at_us,
            expires_at_us=packet.expires_at_us,
        )


class ClaimView(Body):
    packet_id: str
    user_id: str
    result: str  # claimed | already_claimed | packet_empty | packet_expired | ...
    amount: Amount | None


class ShareView(Body):
    position: int
    amount: Amount
    claimed_by: str | None
    claimed_at_us: int | None


class ErrorDetail(Body):
    model_config = ConfigDict(extra="allow", frozen=True)
    code: str
    message: str
    details: dict[str, object]
    decision_id: str | None


class ErrorView(Body):
    error: ErrorDetail
