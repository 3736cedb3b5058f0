"""Reading the facts of one recall evaluation inside a unit of work (the only I/O of a decision).

The packet row is locked by the caller when the evaluation may act on it; the facts are then
exactly what the execution will see, so a claim that lands first is in the facts.

The reads are sent in two groups, each read after one round trip on a pipelined connection:
what the request names (the requester, their device, exemptions, the day's recalls, the
challenges offered), sent with the packet's lock, then what the packet names (its escrow
account, card authorization, first claim and funding source).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from hongbao.funding.ports import StoredFunding
from hongbao.funding.service import read_stored_source
from hongbao.identity.devices import Device, DeviceFingerprint, is_watch
from hongbao.identity.exemptions import Exemption, ExemptionKind
from hongbao.identity.reads import read_requester
from hongbao.identity.step_up import find_challenge
from hongbao.identity.users import User
from hongbao.identity.verification import Challenge, ChallengeKind, ChallengeState
from hongbao.ledger.model import Account, PendingState
from hongbao.packets.authorization import CardAuthorization
from hongbao.packets.model import Packet, PacketPurpose
from hongbao.packets.reads import read_packet_details
from hongbao.packets.remainder import PacketRefundPlan, source_label
from hongbao.platform.errors import InvalidInput
from hongbao.platform.invariants import present
from hongbao.policy.document import Policy
from hongbao.recall.calendar import local_day, zone
from hongbao.recall.errors import RecallCode
from hongbao.recall.facts import (
    DeviceFacts,
    EscrowFacts,
    PacketFacts,
    RecallFacts,
    RefundFacts,
    RequesterFacts,
    UsageFacts,
)
from hongbao.recall.ports import RiskAssessor, UnitOfWork
from hongbao.refunds.routes import NoRoute
from hongbao.risk.cases import DeviceLock
from hongbao.risk.flags import RiskFlag, active_flags
from hongbao.risk.geo import Place
from hongbao.risk.model import RiskAssessment
from hongbao.risk.profile import RiskProfile, history_of

MAX_RECALLS_A_DAY_READ = 10_000
MAX_EXEMPTIONS_READ = 100
MAX_CHALLENGES = 8


class RecallError(InvalidInput):
    """A recall request that cannot be evaluated at all; nothing was written."""

    code = RecallCode.INVALID


def recall_purpose(packet_id: str, amount_minor: int) -> str:
    """What a recall's challenges are bound to: this packet and this amount (R-A2, R-A4)."""
    return f"recall:{packet_id}:{amount_minor}"


def usage_key(requester_id: str, day_start_us: int, zone_name: str) -> str:
    day = datetime.fromtimestamp(day_start_us / 1_000_000, tz=UTC).astimezone(zone(zone_name))
    return f"{requester_id}@{day.date().isoformat()}"


@dataclass(frozen=True, slots=True)
class RequesterReads:
    """What the request itself names, read with the packet's lock."""

    user: User | None
    device: Device | None
    exemptions: tuple[Exemption, ...]
    usage: UsageFacts
    challenges: dict[str, Challenge]  # the offered ones that exist, by id
    risk_profile: RiskProfile | None = None  # None: no recall request seen yet
    device_lock: DeviceLock | None = None  # the device's lock, if it ever had one
    risk_flags: tuple[RiskFlag, ...] = ()  # the analysis's flags on the requester (R-K3)


@dataclass(frozen=True, slots=True)
class PacketReads:
    """What the packet names, read once the packet is."""

    escrow: Account | None
    authorization: CardAuthorization | None
    first_claim_at_us: int | None
    funding: StoredFunding | None  # read when a refund may be planned


def send_requester_reads(
    uow: UnitOfWork,
    requester_id: str,
    fingerprint: DeviceFingerprint,
    challenge_ids: tuple[str, ...],
    *,
    now_us: int,
    zone_name: str,
    acting: bool = False,
) -> Callable[[], RequesterReads]:
    """Send the reads of what the request names; the returned function reads their rows. A
    recall that may act (``acting``) locks the challenges it may consume and counts the day's
    recalls in the requester's turn."""
    if len(challenge_ids) > MAX_CHALLENGES:
        raise RecallError(
            f"at most {MAX_CHALLENGES} challenges", code=RecallCode.TOO_MANY_CHALLENGES
        )
    requester = read_requester(
        uow.identity,
        requester_id,
        fingerprint,
        challenge_ids,
        lock_challenges=acting,
        max_exemptions=MAX_EXEMPTIONS_READ,
    )
    start, following = local_day(now_us, zone_name)
    key = usage_key(requester_id, start, zone_name)
    if acting:
        # Two recalls at once would otherwise both see the last one of the day free.
        uow.recalls.take_turn(requester_id)
    usage = uow.recalls.read_recalls_counted_on(key, limit=MAX_RECALLS_A_DAY_READ)
    profile = uow.risk.read_profile(requester_id)
    lock = uow.risk.read_lock(fingerprint.device_id, fingerprint.sim_id)
    flags = uow.risk.read_flags(requester_id)

    def read() -> RequesterReads:
        found = requester()
        done = usage()
        return RequesterReads(
            user=found.user,
            device=found.device,
            exemptions=found.exemptions,
            usage=UsageFacts(
                start, following, len(done), sum(r.recalled_minor or 0 for r in done), key
            ),
            challenges=found.challenges,
            risk_profile=profile(),
            device_lock=lock(),
            risk_flags=tuple(flags()),
        )

    return read


def send_packet_reads(
    uow: UnitOfWork, packet: Packet, *, funding: bool
) -> Callable[[], PacketReads]:
    """Send the reads of what ``packet`` names; ``funding``: its funding source too (a refund
    is to be planned). The returned function reads their rows."""
    escrow = uow.ledger.read_accounts([packet.escrow_account_id])
    details = read_packet_details(uow.packets, packet)
    source = read_stored_source(uow.funding, packet.funding_source_id) if funding else _none

    def read() -> PacketReads:
        known = details()
        return PacketReads(
            escrow=escrow().get(packet.escrow_account_id),
            authorization=known.authorization,
            first_claim_at_us=known.first_claim_at_us,
            funding=source(),
        )

    return read


def _none() -> None:
    return None


def gather(
    uow: UnitOfWork,
    packet: Packet,
    requester_id: str,
    device: DeviceFingerprint,
    challenge_ids: tuple[str, ...],
    *,
    now_us: int,
    policy: Policy,
    risk: RiskAssessor,
    refund: PacketRefundPlan | None = None,
    substitute_accepted: bool = False,
    requester: RequesterReads | None = None,
    packet_reads: PacketReads | None = None,
    place: Place | None = None,
    new_attempt: bool = True,
) -> RecallFacts:
    """The facts of one evaluation; what was read already (``requester``, ``packet_reads``) is
    not read again. ``place``: where the request comes from (None: unknown); ``new_attempt``:
    this request counts as a recall attempt (not a challenged recall carried forward)."""
    if requester is None:
        requester = send_requester_reads(
            uow,
            requester_id,
            device,
            challenge_ids,
            now_us=now_us,
            zone_name=policy.recall.timezone,
        )()
    if packet_reads is None:
        packet_reads = send_packet_reads(uow, packet, funding=False)()
    user = requester.user
    if user is None:
        raise RecallError(f"no user {requester_id!r}", code=RecallCode.UNKNOWN_USER)
    facts = RecallFacts(
        now_us=now_us,
        packet=_packet_facts(packet, packet_reads),
        requester=RequesterFacts(
            user.id, user.tier, user.user_type, user.status, user.registered_at_us
        ),
        device=_device_facts(requester.device, requester_id, device),
        escrow=_escrow_facts(uow, packet, packet_reads),
        usage=requester.usage,
        exemptions=_exemptions(requester.exemptions, now_us, packet),
        passed_challenges=_passed(
            uow, packet, (requester_id, device), challenge_ids, requester.challenges, now_us
        ),
        risk=RiskAssessment(level=0, assessor="not yet assessed"),
        other_recall_in_progress=False,  # a recall executes in one transaction, see service
        refund=None if refund is None else refund_facts(refund),
        substitute_accepted=substitute_accepted,
        risk_history=replace(
            history_of(
                requester.risk_profile or RiskProfile(requester_id),
                now_us,
                place,
                packet.remainder_minor,
                policy.risk,
                device_locked=requester.device_lock is not None and requester.device_lock.is_locked,
                vip=user.is_vip,
                new_attempt=new_attempt,
            ),
            flags=active_flags(requester.risk_flags, now_us),
        ),
    )
    return replace(facts, risk=risk.assess(facts))


def refund_facts(planned: PacketRefundPlan) -> RefundFacts:
    """The plan as facts: what the original route says, and what would run."""
    plan, label = planned.plan, source_label(planned.source)
    if isinstance(plan, NoRoute):
        asked_balance = plan.balance_refusal is not None
        return RefundFacts(
            route=plan.route.value,
            destination=label,
            available=False,
            refusal=plan.reason_code,
            refusal_message=plan.message,
            retry_at_us=plan.retry_at_us,
            balance_available=False if asked_balance else None,
            amount_minor=0,
            fee_minor=0,
            arrives_at_us=None,
            frozen_until_us=None,
        )
    refused = plan.refused if plan.substituted else None
    fx = plan.fx
    return RefundFacts(
        route=refused.route.value if refused else plan.route.value,
        destination=label,
        available=refused is None,
        refusal=refused.reason_code if refused else None,
        refusal_message=refused.message if refused else None,
        retry_at_us=refused.retry_at_us if refused else None,
        balance_available=True if refused else None,
        amount_minor=plan.amount.minor,
        fee_minor=plan.fee.minor,
        arrives_at_us=plan.arrives_at_us,
        frozen_until_us=plan.frozen_until_us,
        card_currency=fx.card_currency if fx else None,
        card_amount_minor=fx.card_amount.minor if fx else None,
        rate_at_refund=str(fx.rate_at_refund) if fx else None,
        rate_at_send=str(fx.rate_at_send) if fx else None,
    )


def _packet_facts(packet: Packet, reads: PacketReads) -> PacketFacts:
    authorization = reads.authorization
    return PacketFacts(
        packet_id=packet.id,
        packet_type=packet.packet_type,
        sender_id=packet.sender_id,
        state=packet.state,
        currency=packet.currency,
        total_minor=packet.total_minor,
        share_count=packet.share_count,
        claimed_count=packet.claimed_count,
        claimed_minor=packet.claimed_minor,
        created_at_us=packet.created_at_us,
        expires_at_us=packet.expires_at_us,
        first_claim_at_us=reads.first_claim_at_us,
        sender_device_id=packet.sender_device_id,
        sender_sim_id=packet.sender_sim_id,
        funding_kind=packet.funding_kind,
        card_window_ends_at_us=authorization.window_ends_at_us if authorization else None,
    )


def _device_facts(
    device: Device | None, requester_id: str, fingerprint: DeviceFingerprint
) -> DeviceFacts:
    if device is None:
        return DeviceFacts(fingerprint.device_id, fingerprint.sim_id, False, False, "unknown", 0)
    return DeviceFacts(
        device_id=device.device_id,
        sim_id=device.sim_id,
        is_registered_to_requester=device.user_id == requester_id,
        is_watch=is_watch(device),
        platform=device.platform.value,
        os_major=device.version.major,
        model=device.model,
        conditions=tuple(sorted(condition.value for condition in fingerprint.conditions)),
    )


def _escrow_facts(uow: UnitOfWork, packet: Packet, reads: PacketReads) -> EscrowFacts:
    escrow = present(reads.escrow, "a packet has its escrow account", packet_id=packet.id)
    authorization = reads.authorization
    if authorization is None or not authorization.is_held:
        return EscrowFacts(escrow.credit_balance, 0, 0)
    pending = uow.ledger.get_pending([authorization.hold_id]).get(authorization.hold_id)
    open_minor = pending.amount if pending and pending.state is PendingState.PENDING else 0
    return EscrowFacts(escrow.credit_balance, open_minor, authorization.open_minor)


def _exemptions(held: tuple[Exemption, ...], now_us: int, packet: Packet) -> tuple[str, ...]:
    """The exemption kinds that hold now: the requester's, and the education green channel
    for a tuition payment (R-K4; only an education group takes one, checked at send)."""
    kinds = {e.kind.value for e in held if e.is_valid_at(now_us)}
    if packet.purpose is PacketPurpose.TUITION:
        kinds.add(ExemptionKind.EDUCATION_GREEN_CHANNEL.value)
    return tuple(sorted(kinds))


def _passed(  # noqa: PLR0917 - the challenges and what they must be bound to
    uow: UnitOfWork,
    packet: Packet,
    holder: tuple[str, DeviceFingerprint],
    challenge_ids: tuple[str, ...],
    read: dict[str, Challenge],
    now_us: int,
) -> tuple[ChallengeKind, ...]:
    """Kinds of the given challenges that passed for this user, device, packet and amount;
    ``read``: those read already (the others are read here)."""
    requester_id, device = holder
    purpose = recall_purpose(packet.id, packet.remainder_minor)
    kinds: list[ChallengeKind] = []
    for challenge_id in challenge_ids:
        challenge = read.get(challenge_id) or find_challenge(uow.identity, challenge_id)
        if challenge is None:
            raise RecallError(f"no challenge {challenge_id!r}", code=RecallCode.UNKNOWN_CHALLENGE)
        bound = (challenge.user_id, challenge.fingerprint, challenge.purpose) == (
            requester_id,
            device,
            purpose,
        )
        if bound and challenge.state_at(now_us) is ChallengeState.PASSED:
            kinds.append(challenge.kind)
    return tuple(sorted(set(kinds)))
