"""Red packets as stored: the packet and its shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from hongbao.funding.sources import FundingKind

CARD_FUNDING = frozenset(
    {FundingKind.DEBIT_CARD, FundingKind.CREDIT_CARD, FundingKind.FOREIGN_CARD}
)


class PacketType(StrEnum):
    PERSONAL = "personal"
    GROUP_NORMAL = "group_normal"
    GROUP_LUCKY = "group_lucky"
    ENTERPRISE = "enterprise"


class PacketPurpose(StrEnum):
    """What a packet is for. A tuition payment (教育缴费) to an education group travels the
    education green channel (R-K4): risk control does not delay its recall's refund."""

    GIFT = "gift"
    TUITION = "tuition"


class PacketState(StrEnum):
    OPEN = "open"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"
    RECALLED = "recalled"
    # A delayed send (R-B1): its money is reserved, it is delivered at ``deliver_at_us``.
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"  # a delayed send its sender cancelled before delivery


@dataclass(frozen=True, slots=True)
class Packet:
    id: str
    packet_type: PacketType
    sender_id: str
    currency: str
    total_minor: int
    share_count: int
    funding_source_id: str
    funding_kind: FundingKind
    source_account_id: str
    recipient_id: str | None
    group_id: str | None
    escrow_account_id: str
    state: PacketState
    created_at_us: int
    expires_at_us: int
    claimed_count: int
    claimed_minor: int
    split_algorithm: str
    request_digest: str
    # The device (id and SIM) that sent it: a recall must come from the same one (R-A1).
    sender_device_id: str | None
    sender_sim_id: str | None
    # Knowing the seed means knowing every lucky share in advance: never shown, never logged.
    split_seed: str = field(repr=False)
    purpose: PacketPurpose = PacketPurpose.GIFT
    deliver_at_us: int | None = None  # a delayed send's delivery time; None: sent at once

    @property
    def remainder_minor(self) -> int:
        return self.total_minor - self.claimed_minor

    @property
    def is_card_funded(self) -> bool:
        return self.funding_kind in CARD_FUNDING


@dataclass(frozen=True, slots=True)
class Share:
    packet_id: str
    position: int
    amount_minor: int
    claimed_by: str | None
    claimed_at_us: int | None
