"""Red packets as stored: the packet, its shares, and the limits a send must respect."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from hongbao.platform.clock import MICROSECONDS_PER_SECOND

PACKET_LIFETIME_US = 24 * 3600 * MICROSECONDS_PER_SECOND  # R-P4


class PacketType(StrEnum):
    PERSONAL = "personal"
    GROUP_NORMAL = "group_normal"
    GROUP_LUCKY = "group_lucky"
    ENTERPRISE = "enterprise"


class PacketState(StrEnum):
    OPEN = "open"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Packet:
    id: str
    packet_type: PacketType
    sender_id: str
    currency: str
    total_minor: int
    share_count: int
    funding_source_id: str
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
    # Knowing the seed means knowing every lucky share in advance: never shown, never logged.
    split_seed: str = field(repr=False)

    @property
    def remainder_minor(self) -> int:
        return self.total_minor - self.claimed_minor


@dataclass(frozen=True, slots=True)
class Share:
    packet_id: str
    position: int
    amount_minor: int
    claimed_by: str | None
    claimed_at_us: int | None


@dataclass(frozen=True, slots=True)
class PacketLimits:
    """Per-type limits (defaults from the source's product; a policy file will supply them)."""

    max_share_minor: int = 200_00
    max_enterprise_share_minor: int = 5_000_00
    max_group_shares: int = 100
    max_enterprise_shares: int = 200

    def share_cap(self, packet_type: PacketType) -> int:
        if packet_type is PacketType.ENTERPRISE:
            return self.max_enterprise_share_minor
        return self.max_share_minor

    def max_shares(self, packet_type: PacketType) -> int:
        if packet_type is PacketType.PERSONAL:
            return 1
        if packet_type is PacketType.ENTERPRISE:
            return self.max_enterprise_shares
        return self.max_group_shares
