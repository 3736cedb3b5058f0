"""Request and response bodies of the HTTP API. Amounts travel as decimal text in yuan
("88.88") with their currency, and as integer minor units alongside: never as floats."""

from __future__ import annotations

import sys
from typing import Annotated, ClassVar, overload
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from hongbao.entrypoints.http.schemas.variants import (
    Absent,
    Required,
    Variant,
    VariantBody,
    Variants,
    Within,
)
from hongbao.money import Money
from hongbao.packets.errors import PacketCode
from hongbao.packets.model import Packet, PacketPurpose, PacketType
from hongbao.platform.clock import to_datetime
from hongbao.platform.ids import ID_PATTERN
from hongbao.platform.limits import MAX_ID_LENGTH

AMOUNT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
# As platform.ids checks them: a letter or digit first (the pattern used to allow "-x").
Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN.pattern)]
# Text without control characters (C0, DEL, C1): the edge refuses them in every body already
# (``entrypoints/http/edge.py``); the schemas say so, for clients and the OpenAPI document.
NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]+$"


def _printable_class(*, space: bool) -> str:
    """A regex class of the characters ``str.isprintable`` takes (with or without the space),
    as ranges: the domain checks names with it (``identity.users.check_text``)."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if chr(code).isprintable() and (space or code != ord(" ")):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    escape = {ord(c): f"\\{c}" for c in "\\]^-["}

    def char(code: int) -> str:
        return chr(code).translate(escape)

    return "[" + "".join(char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in ranges) + "]"


# One line of printable text without surrounding spaces, exactly as the domain checks names
# (``check_text``). The document carries the exact pattern; the server keeps refusing control
# characters itself and answers the rest with the domain's own code (identity.text_invalid).
TEXT_PATTERN = (
    f"^{_printable_class(space=False)}"
    f"(?:{_printable_class(space=True)}*{_printable_class(space=False)})?$"
)
# Free text (a question, an answer, a note): printable, spaces anywhere, at least one character
# that is not a space, which is what a domain that strips it before checking accepts.
PROSE_PATTERN = (
    f"^{_printable_class(space=True)}*{_printable_class(space=False)}"
    f"{_printable_class(space=True)}*$"
)
Text = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=NO_CONTROL,
        json_schema_extra={"pattern": TEXT_PATTERN},
    ),
]


def _whole(value: object) -> object:
    """JSON has one number type: 25.0 is the integer 25 to JSON Schema, so it is to us too."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# After a strict integer's Field: an integer as JSON Schema means it (25 or 25.0), never a
# string or a boolean. (Placed first, it would hide the Field's bounds from the document.)
WHOLE = BeforeValidator(_whole)
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


# A personal packet goes to one recipient (a gift: tuition goes to an education group); the
# other kinds go to one group.
SEND_VARIANTS = Variants(
    "type",
    (
        Variant(
            "personal",
            (PacketType.PERSONAL,),
            (
                Required("recipient_id", PacketCode.AUDIENCE_INVALID),
                Absent("group_id", PacketCode.AUDIENCE_INVALID),
                Within("purpose", (PacketPurpose.GIFT,), PacketCode.TUITION_NOT_EDUCATION),
            ),
        ),
        Variant(
            "group",
            (PacketType.GROUP_NORMAL, PacketType.GROUP_LUCKY, PacketType.ENTERPRISE),
            (
                Required("group_id", PacketCode.AUDIENCE_INVALID),
                Absent("recipient_id", PacketCode.AUDIENCE_INVALID),
            ),
        ),
    ),
)


class SendPacketBody(Body, VariantBody):
    variants: ClassVar[Variants] = SEND_VARIANTS
    type: PacketType
    amount: Annotated[str, Field(pattern=AMOUNT_PATTERN, examples=["88.88"])]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    shares: Annotated[int, Field(ge=1, le=1_000, strict=True), WHOLE]
    funding_source_id: Id
    recipient_id: Id | None = None
    group_id: Id | None = None
    # "tuition": a tuition payment (教育缴费) to an education group, whose recall's refund risk
    # control never delays (the education green channel, R-K4).
    purpose: PacketPurpose = PacketPurpose.GIFT
    # R-B1: send although the send-time guard asks for confirmation (repeat the request with
    # the same Idempotency-Key and this set), or deliver it later: a delayed send, cancellable
    # for free until then (ISO-8601 with its offset, e.g. "2026-12-06T08:00:00+08:00").
    confirm: Annotated[bool, Field(strict=True)] = False
    deliver_at: AwareDatetime | None = None


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
    # A delayed send's delivery time (state "scheduled" until then, "cancelled" if cancelled).
    deliver_at_us: int | None = None
    deliver_at: str | None = None

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
            deliver_at_us=packet.deliver_at_us,
            deliver_at=iso_time(packet.deliver_at_us),
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
