"""A builder of :class:`RecallFacts` that the default policy ALLOWS, and one-knob helpers.

The default snapshot: a class-I sender, on the device and SIM the packet was sent from, recalls
an unclaimed group_normal packet of 100.00 CNY (10 shares) sent an hour ago, at 15:00
Asia/Shanghai (far from the 23:50-00:10 blackout). Escrow holds exactly the remainder, nothing
was recalled today, the SMS code of class I has been passed, and risk says pass.

Every helper returns a new snapshot that differs in one respect, so a test reads as
"the allowed case, except ...". Times are microseconds since the epoch (UTC); local times are
built here with :mod:`zoneinfo`, independently of ``hongbao.recall.calendar``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hongbao.funding.sources import FundingKind
from hongbao.identity.users import AccountTier, UserStatus, UserType
from hongbao.identity.verification import ChallengeKind
from hongbao.packets.model import PacketState, PacketType
from hongbao.recall.facts import (
    DeviceFacts,
    EscrowFacts,
    PacketFacts,
    RecallFacts,
    RequesterFacts,
    UsageFacts,
)
from hongbao.risk.model import RiskAction, RiskAssessment

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
LIFETIME_US = 24 * HOUR_US  # R-P4 / packets.lifetime_hours of the default policy
CARD_WINDOW_US = 15 * MINUTE_US  # R-X1 / packets.card_authorization_minutes

SENDER = "user-sender"
OTHER_USER = "user-other"
PACKET_ID = "packet-1"
DEVICE = "device-sender-phone"
SIM = "sim-sender-1"


def local_us(  # noqa: PLR0917 - read like datetime(): year, month, day, hour, ...
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
) -> int:
    """Microseconds since the epoch of a wall-clock moment in Asia/Shanghai."""
    moment = datetime(year, month, day, hour, minute, second, microsecond, tzinfo=SHANGHAI)
    epoch = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
    delta = moment - epoch
    return (delta.days * 86_400 + delta.seconds) * SECOND_US + delta.microseconds


def local_day_bounds(moment_us: int) -> tuple[int, int]:
    """Start of the Asia/Shanghai day holding ``moment_us``, and start of the next one."""
    epoch = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
    local = (epoch + timedelta(microseconds=moment_us)).astimezone(SHANGHAI)
    start = local_us(local.year, local.month, local.day)
    following = local.date() + timedelta(days=1)
    return start, local_us(following.year, following.month, following.day)


def yuan(text: str) -> int:
    """``"200.01"`` -> 20001 fen; exact, never through a float."""
    minor = Decimal(text) * 100
    if minor != minor.to_integral_value():
        raise ValueError(f"{text} is not a whole number of fen")
    return int(minor)


NOW_US = local_us(2026, 11, 30, 15, 0)  # a Monday afternoon, outside the blackout


def allowed(now_us: int = NOW_US) -> RecallFacts:
    """The snapshot the default policy allows, taken at ``now_us`` (packet sent an hour before)."""
    created = now_us - HOUR_US
    day_start, next_day_start = local_day_bounds(now_us)
    total = yuan("100.00")
    return RecallFacts(
        now_us=now_us,
        packet=PacketFacts(
            packet_id=PACKET_ID,
            packet_type=PacketType.GROUP_NORMAL,
            sender_id=SENDER,
            state=PacketState.OPEN,
            currency="CNY",
            total_minor=total,
            share_count=10,
            claimed_count=0,
            claimed_minor=0,
            created_at_us=created,
            expires_at_us=created + LIFETIME_US,
            first_claim_at_us=None,
            sender_device_id=DEVICE,
            sender_sim_id=SIM,
            funding_kind=FundingKind.BALANCE,
            card_window_ends_at_us=None,
        ),
        requester=RequesterFacts(
            user_id=SENDER,
            tier=AccountTier.CLASS_I,
            user_type=UserType.NORMAL,
            status=UserStatus.NORMAL,
            registered_at_us=now_us - 365 * DAY_US,
        ),
        device=DeviceFacts(
            device_id=DEVICE,
            sim_id=SIM,
            is_registered_to_requester=True,
            is_watch=False,
            platform="ios",
            os_major=17,
        ),
        escrow=EscrowFacts(escrow_balance_minor=total, open_hold_minor=0, expected_hold_minor=0),
        usage=UsageFacts(
            day_start_us=day_start,
            next_day_start_us=next_day_start,
            executed_count=0,
            executed_minor=0,
            key=f"{SENDER}@local-day",
        ),
        exemptions=(),
        passed_challenges=(ChallengeKind.SMS_CODE,),
        risk=RiskAssessment(level=0, actions=(), assessor="test", reasons=("no risk",)),
        other_recall_in_progress=False,
    )


# ------------------------------------------------------------------------ one knob at a time


def with_packet(facts: RecallFacts, **changes: object) -> RecallFacts:
    """Change packet fields; escrow (or the open card hold) follows the new remainder, so the
    snapshot stays consistent unless a test breaks escrow on purpose with :func:`with_escrow`."""
    packet = replace(facts.packet, **changes)  # type: ignore[arg-type]
    escrow = facts.escrow
    if escrow.expected_hold_minor > 0:
        if escrow.open_hold_minor == escrow.expected_hold_minor == facts.packet.remainder_minor:
            escrow = replace(
                escrow,
                open_hold_minor=packet.remainder_minor,
                expected_hold_minor=packet.remainder_minor,
            )
    elif escrow.escrow_balance_minor == facts.packet.remainder_minor:
        escrow = replace(escrow, escrow_balance_minor=packet.remainder_minor)
    return replace(facts, packet=packet, escrow=escrow)


def packet_of(
    facts: RecallFacts,
    packet_type: PacketType,
    total_minor: int | None = None,
    share_count: int | None = None,
) -> RecallFacts:
    """The same packet as another type (personal packets have one share)."""
    shares = share_count or (1 if packet_type is PacketType.PERSONAL else facts.packet.share_count)
    return with_packet(
        facts,
        packet_type=packet_type,
        total_minor=facts.packet.total_minor if total_minor is None else total_minor,
        share_count=shares,
    )


def sent_ago(facts: RecallFacts, age_us: int) -> RecallFacts:
    """The packet was sent ``age_us`` before now; it expires a lifetime after sending."""
    created = facts.now_us - age_us
    return with_packet(facts, created_at_us=created, expires_at_us=created + LIFETIME_US)


def claimed(
    facts: RecallFacts,
    count: int,
    minor: int,
    first_claim_ago_us: int = 10 * MINUTE_US,
) -> RecallFacts:
    """``count`` shares worth ``minor`` fen were claimed, the first ``first_claim_ago_us`` ago."""
    return with_packet(
        facts,
        claimed_count=count,
        claimed_minor=minor,
        first_claim_at_us=facts.now_us - first_claim_ago_us if count else None,
    )


def remainder_of(facts: RecallFacts, remainder_minor: int, count: int = 1) -> RecallFacts:
    """Claims leave exactly ``remainder_minor`` unclaimed (``count`` shares claimed)."""
    return claimed(facts, count, facts.packet.total_minor - remainder_minor)


def lucky(facts: RecallFacts, total_minor: int, share_count: int) -> RecallFacts:
    """The packet is a group_lucky packet of ``total_minor`` in ``share_count`` shares."""
    return packet_of(facts, PacketType.GROUP_LUCKY, total_minor, share_count)


def card_funded(facts: RecallFacts, funding: FundingKind = FundingKind.DEBIT_CARD) -> RecallFacts:
    """Sent by card 5 minutes ago: the authorization window is open, the remainder is held on
    the card (escrow empty), as the packets module keeps it (R-P2, R-X1)."""
    created = facts.now_us - 5 * MINUTE_US
    packet = replace(
        facts.packet,
        funding_kind=funding,
        created_at_us=created,
        expires_at_us=created + LIFETIME_US,
        card_window_ends_at_us=created + CARD_WINDOW_US,
    )
    remainder = packet.remainder_minor
    escrow = EscrowFacts(0, open_hold_minor=remainder, expected_hold_minor=remainder)
    return replace(facts, packet=packet, escrow=escrow)


def with_requester(facts: RecallFacts, **changes: object) -> RecallFacts:
    return replace(facts, requester=replace(facts.requester, **changes))  # type: ignore[arg-type]


def registered_ago(facts: RecallFacts, age_us: int) -> RecallFacts:
    return with_requester(facts, registered_at_us=facts.now_us - age_us)


def with_device(facts: RecallFacts, **changes: object) -> RecallFacts:
    return replace(facts, device=replace(facts.device, **changes))  # type: ignore[arg-type]


def with_escrow(facts: RecallFacts, **changes: int) -> RecallFacts:
    return replace(facts, escrow=replace(facts.escrow, **changes))


def with_usage(facts: RecallFacts, executed_count: int, executed_minor: int = 0) -> RecallFacts:
    usage = replace(facts.usage, executed_count=executed_count, executed_minor=executed_minor)
    return replace(facts, usage=usage)


def with_challenges(facts: RecallFacts, *passed: ChallengeKind) -> RecallFacts:
    """Exactly these verifications have been passed (none when called with no kinds)."""
    return replace(facts, passed_challenges=passed)


def with_exemptions(facts: RecallFacts, *kinds: str) -> RecallFacts:
    return replace(facts, exemptions=kinds)


def with_risk(facts: RecallFacts, *actions: RiskAction, level: int | None = None) -> RecallFacts:
    severity = {RiskAction.CHALLENGE: 1, RiskAction.HOLD: 2, RiskAction.LOCK: 3}
    default_level = max((severity.get(action, 4) for action in actions), default=0)
    risk = replace(
        facts.risk, level=default_level if level is None else level, actions=tuple(actions)
    )
    return replace(facts, risk=risk)


def recall_in_progress(facts: RecallFacts) -> RecallFacts:
    return replace(facts, other_recall_in_progress=True)
