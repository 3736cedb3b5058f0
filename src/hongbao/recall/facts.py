"""The input snapshot of one recall evaluation: every fact a rule may look at, and nothing else.

Rules are pure functions of (facts, policy), so a stored snapshot replays to the same decision.
Facts hold plain values (text, integers, enums), never live objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hongbao.identity.funding import FundingKind
from hongbao.identity.users import AccountTier, UserStatus, UserType
from hongbao.identity.verification import ChallengeKind
from hongbao.packets.model import PacketState, PacketType


class RiskAction(StrEnum):
    CHALLENGE = "challenge"
    HOLD = "hold"
    LOCK = "lock"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    level: int  # 0 (pass) .. 4 (block), R-K1
    actions: tuple[RiskAction, ...] = ()
    assessor: str = "default"
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PacketFacts:
    packet_id: str
    packet_type: PacketType
    sender_id: str
    state: PacketState
    currency: str
    total_minor: int
    share_count: int
    claimed_count: int
    claimed_minor: int
    created_at_us: int
    expires_at_us: int
    first_claim_at_us: int | None
    sender_device_id: str | None
    sender_sim_id: str | None
    funding_kind: FundingKind
    card_window_ends_at_us: int | None  # None unless card-funded

    @property
    def remainder_minor(self) -> int:
        return self.total_minor - self.claimed_minor


@dataclass(frozen=True, slots=True)
class RequesterFacts:
    user_id: str
    tier: AccountTier
    user_type: UserType
    status: UserStatus
    registered_at_us: int


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    device_id: str
    sim_id: str
    is_registered_to_requester: bool
    is_watch: bool
    platform: str
    os_major: int


@dataclass(frozen=True, slots=True)
class EscrowFacts:
    """What the ledger holds for the packet (R-X2): escrow, and an open card hold if any."""

    escrow_balance_minor: int
    open_hold_minor: int  # in the card's currency; 0 without an open hold
    expected_hold_minor: int  # what the hold should be for the unclaimed part


@dataclass(frozen=True, slots=True)
class UsageFacts:
    """Executed recalls of the requester on the current local day (R-A4)."""

    day_start_us: int
    next_day_start_us: int
    executed_count: int
    executed_minor: int
    key: str  # requester and local date: what an executed recall is counted under


@dataclass(frozen=True, slots=True)
class RecallFacts:
    now_us: int
    packet: PacketFacts
    requester: RequesterFacts
    device: DeviceFacts
    escrow: EscrowFacts
    usage: UsageFacts
    exemptions: tuple[str, ...]  # exemption kinds the requester holds now
    passed_challenges: tuple[ChallengeKind, ...]  # bound to this user, device, packet, amount
    risk: RiskAssessment
    other_recall_in_progress: bool
