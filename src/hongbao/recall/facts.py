"""The input snapshot of one recall evaluation: every fact a rule may look at, and nothing else.

Rules are pure functions of (facts, policy), so a stored snapshot replays to the same decision.
Facts hold plain values (text, integers, enums), never live objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hongbao.funding.sources import FundingKind
from hongbao.identity.users import AccountTier, UserStatus, UserType
from hongbao.identity.verification import ChallengeKind
from hongbao.packets.model import PacketState, PacketType
from hongbao.risk.model import RiskAssessment, RiskHistory


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
    # What the client reported about the device with this request (R-D6), and its model;
    # None in decisions recorded before either was.
    model: str | None = None
    conditions: tuple[str, ...] | None = None


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
class RefundFacts:
    """The refund a recall would make now (R-F1..R-F4), planned before anything moves.

    ``route`` is the original method's route; ``available`` says whether it takes the money
    (else ``refusal`` is its ``refunds.*`` code, ``retry_at_us`` when it will again).
    ``balance_available`` says whether the balance could take it instead (None when that was
    not a question: the original route works, or it is the balance). The amounts and times
    are of the plan that would run: the original's, or the balance's when it substitutes.
    """

    route: str
    destination: str  # the original method in words, e.g. "credit card CMB **** 4444"
    available: bool
    refusal: str | None
    refusal_message: str | None
    retry_at_us: int | None
    balance_available: bool | None
    amount_minor: int
    fee_minor: int
    arrives_at_us: int | None
    frozen_until_us: int | None
    card_currency: str | None = None
    card_amount_minor: int | None = None
    rate_at_refund: str | None = None
    rate_at_send: str | None = None


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
    refund: RefundFacts | None = None  # None: nothing to refund (the card hold is voided)
    substitute_accepted: bool = False  # the sender accepted the balance instead (R-F2)
    risk_history: RiskHistory = field(default_factory=RiskHistory)  # measured for R-K2
