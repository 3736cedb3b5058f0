"""Sending, claiming and expiring red packets (R-P1..R-P5), each in one transaction.

Every money movement is a ledger transfer with an id derived from the packet (and claimer), so
retries are harmless; the packet row is locked first, then its accounts (always that order).
Expected outcomes of a claim are result codes; malformed or refused sends raise
:class:`PacketError` with a stable code before anything is written.

Funding: balance (零钱) and money-market (零钱通) sources are debited at once. Card sources
(debit, credit, foreign) open an authorization hold for the policy's window (15 minutes) and
are captured when it ends; claims are paid while it is open (see ``authorization``).

Limits, the packet lifetime and the card window come from the policy file
(``hongbao/policy/default.toml``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from hongbao.funding.ports import StoredFunding
from hongbao.funding.service import funding_from_stored, read_stored_source
from hongbao.funding.sources import FundingKind, FundingSource
from hongbao.fx import ExchangeRate, NoRates, RateProvider, usable_rate
from hongbao.identity.devices import DeviceFingerprint
from hongbao.identity.reads import SenderFacts, SenderQuestion, read_sender_facts
from hongbao.identity.users import User, UserStatus, UserType
from hongbao.ledger import operations as ledger_operations
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.results import TransferResultCode
from hongbao.money import Money
from hongbao.packets import authorization as card
from hongbao.packets.authorization import AuthorizationState, CardAuthorization, TransferCode
from hongbao.packets.claims import (
    CONSUMERS,
    ClaimAnswer,
    ClaimOutcome,
    ClaimRequest,
    ClaimResult,
    claim_batch,
    refuse,
)
from hongbao.packets.errors import PacketCode
from hongbao.packets.events import (
    AuthorizationCaptured,
    PacketEvent,
    PacketExpired,
    PacketRecalled,
    PacketScheduled,
    PacketSent,
    packet_stream,
)
from hongbao.packets.guard import GuardDecision
from hongbao.packets.guarding import (
    GuardStop,
    audience_of,
    check_deliver_at,
    guard_send,
    recalled_counts,
    record_guarded,
    sent_counts,
    stop,
)
from hongbao.packets.model import Packet, PacketPurpose, PacketState, PacketType, Share
from hongbao.packets.ports import Database, UnitOfWork
from hongbao.packets.regret import EVERYONE, SendHabits
from hongbao.packets.remainder import (
    PacketRefundPlan,
    expiry_plan,
    plan_packet_refund,
    recheck_held,
    refund_remainder,
    release_risk_hold,
)
from hongbao.packets.scheduled_sends import (
    cancel_scheduled,
    deliver_handler,
    reservation,
    schedule_delivery,
)
from hongbao.packets.social_feed import RECALL_CONSUMERS
from hongbao.packets.split import LUCKY_ALGORITHM, PacketError, split_fixed, split_lucky
from hongbao.packets.verification import PacketReport, verify_packets
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, Clock, is_due
from hongbao.platform.ids import is_valid_id
from hongbao.platform.invariants import invariant, present
from hongbao.platform.limits import MAX_BATCH_SIZE
from hongbao.platform.outbox import EventBatch, append, new_event, new_events
from hongbao.platform.scheduler import schedule, schedule_new
from hongbao.policy.document import PacketPolicy, Policy
from hongbao.policy.store import PolicyStore
from hongbao.refunds.records import Refund, RefundTrigger
from hongbao.risk.cases import RELEASE_TIME, CaseState, DeviceLock
from hongbao.social.groups import Group, GroupType
from hongbao.social.service import read_group, read_membership
from hongbao.social.standing import SendStanding, check_send, read_send_standing

FIXED_ALGORITHM = "fixed/money-split/v1"
EXPIRE_KIND = "packet.expire"
CAPTURE_KIND = "packet.capture"
MICROSECONDS_PER_MINUTE = 60 * MICROSECONDS_PER_SECOND
MAX_HISTORY = 1_000
# Room for the ledger ids derived from it ("escrow:", "claim:<id>:<user>", …) within 128.
MAX_PACKET_ID_LENGTH = 64
LUCKY_SEED_BYTES = 32


class RecallMoney(StrEnum):
    VOIDED_HOLD = "void_hold"  # inside the card window: nothing more is charged
    REFUNDED = "refund"  # escrow paid the remainder back


@dataclass(frozen=True, slots=True)
class SendPacket:
    """The command to send a packet; ``packet_id`` is the client's idempotency key."""

    packet_id: str
    packet_type: PacketType
    sender_id: str
    amount: Money
    shares: int
    funding_source_id: str
    recipient_id: str | None = None
    group_id: str | None = None
    device: DeviceFingerprint | None = None  # the sending device; a recall needs it (R-A1)
    purpose: PacketPurpose = PacketPurpose.GIFT
    # R-B1: send although the guard asks for confirmation; or deliver later (a delayed send).
    confirm: bool = False
    deliver_at_us: int | None = None

    def digest(self) -> str:
        device = (self.device.device_id, self.device.sim_id) if self.device else None
        # A gift's digest is what it was before packets had a purpose, so retries of sends
        # made then still match.
        purpose = () if self.purpose is PacketPurpose.GIFT else (self.purpose.value,)
        # Likewise a send delivered at once digests as it did before delayed sends.
        delayed = () if self.deliver_at_us is None else (f"deliver_at={self.deliver_at_us}",)
        text = "|".join(
            str(value)
            for value in (
                self.packet_id,
                self.packet_type.value,
                self.sender_id,
                self.amount.minor,
                self.amount.currency.code,
                self.shares,
                self.funding_source_id,
                self.recipient_id,
                self.group_id,
                device,
                *purpose,
                *delayed,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()

    def about_sender(self) -> SenderQuestion:
        """What the send asks the identity context about the people it names."""
        return SenderQuestion(self.sender_id, self.recipient_id, self.device)


def _no_lock() -> DeviceLock | None:
    return None


def _no_group() -> Group | None:
    return None


def _not_asked() -> bool:
    return False


@dataclass(frozen=True, slots=True)
class SendReads:
    """A send's reads, sent together and read after one round trip."""

    earlier: Callable[[], dict[tuple[Any, ...], Packet]]  # the packet, if its id is taken
    sender: Callable[[], SenderFacts]  # identity's: the sender, the recipient, the device
    in_group: Callable[[], bool]  # social's: the sender is a member of the group sent to
    source: Callable[[], StoredFunding | None]  # funding's: the source named
    device_lock: Callable[[], DeviceLock | None]  # risk's: the sending device's lock, if any
    group: Callable[[], Group | None]  # social's: the group sent to (its type)
    standing: Callable[[], SendStanding]  # social's: a ban in the group, the pair's weight
    habits: Callable[[], dict[tuple[Any, ...], SendHabits]]  # the sender's counters


@dataclass(frozen=True, slots=True)
class Funding:
    """What a send was checked to be paid with."""

    source: FundingSource
    rate: ExchangeRate | None  # packet currency -> card currency, for a foreign card


@dataclass(frozen=True, slots=True)
class RefundReads:
    """What planning a packet's refund reads, when its caller read it already."""

    authorization: CardAuthorization | None
    source: StoredFunding | None
    sender: User | None


def known_packet(packet_id: str, found: Packet | None) -> Packet:
    """The packet read as ``packet_id``; the one refusal for a packet that does not exist."""
    if found is None:
        raise refuse(f"no packet {packet_id!r}", PacketCode.UNKNOWN_PACKET)
    return found


def needs_refund_plan(packet: Packet) -> bool:
    """Whether a recall may refund something: an open packet with a remainder. Not a question
    of time: a recall decided a little before the packet's send time (by a clock that lags the
    one that stamped the send) is carried out like any other, so it needs its plan too."""
    return packet.remainder_minor > 0 and packet.state is PacketState.OPEN


def voids_hold(authorization: CardAuthorization, now_us: int) -> bool:
    """Whether a recall at ``now_us`` voids the card hold (free) rather than refunding the
    charge: the one test of the card window that a recall's plan and its execution share."""
    return authorization.is_held and not is_due(authorization.window_ends_at_us, now_us)


@dataclass
class PacketService:
    database: Database
    clock: Clock
    # Read once per send: a policy file changed mid-send never mixes two versions' numbers.
    policies: PolicyStore = field(default_factory=PolicyStore.fixed)
    rates: RateProvider = field(default_factory=NoRates)
    # Where a lucky split's seed comes from: unpredictable in service (whoever knows a seed
    # knows every share), a fixed sequence in tests that replay a run.
    lucky_seeds: Callable[[], str] = field(default=lambda: secrets.token_hex(LUCKY_SEED_BYTES))

    # ------------------------------------------------------------------------------- send

    def send(self, command: SendPacket) -> Packet:
        return self.database.transact(lambda uow: self.send_in(uow, command))

    def send_guarded(self, command: SendPacket) -> Packet | GuardStop:
        """A send whose guard's stop is an answer (its decision committed), not a refusal."""
        return self.database.transact(lambda uow: self.prepare_guarded_send(uow, command)())

    def send_in(self, uow: UnitOfWork, command: SendPacket) -> Packet:
        """The send inside the caller's unit of work (the API writes its idempotency record in
        the same transaction)."""
        return self.prepare_send(uow, command)()

    def prepare_guarded_send(
        self, uow: UnitOfWork, command: SendPacket
    ) -> Callable[[], Packet | GuardStop]:
        """As :meth:`prepare_send`, but a send the guard stops (R-B1) is answered with its
        recorded decision, written in the caller's unit of work: the caller commits it as its
        answer, having moved no money."""
        if not is_valid_id(command.packet_id) or len(command.packet_id) > MAX_PACKET_ID_LENGTH:
            raise refuse(
                f"packet ids are 1 to {MAX_PACKET_ID_LENGTH} letters, digits or ':._-/'",
                PacketCode.ID_INVALID,
            )
        policy = self.policies.active()
        now_us = self.clock.now_us()
        earlier = uow.packets.packets.read_many([(command.packet_id,)])
        reads = SendReads(
            earlier,
            read_sender_facts(uow.identity, command.about_sender()),
            (
                read_membership(uow.social, command.group_id, command.sender_id, now_us)
                if command.group_id is not None
                else _not_asked
            ),
            read_stored_source(uow.funding, command.funding_source_id),
            (
                uow.risk.read_lock(command.device.device_id, command.device.sim_id)
                if command.device is not None
                else _no_lock
            ),
            read_group(uow.social, command.group_id) if command.group_id is not None else _no_group,
            read_send_standing(
                uow.social, command.sender_id, command.group_id, command.recipient_id
            ),
            uow.packets.habits.read_many(
                [(command.sender_id, EVERYONE), (command.sender_id, audience_of(command))]
            ),
        )
        return lambda: self._send(uow, command, policy, now_us, reads)

    def prepare_send(self, uow: UnitOfWork, command: SendPacket) -> Callable[[], Packet]:
        """Send the send's reads now and return the step that reads them and sends: a caller
        may send its own reads in between, so that all of them travel in one round trip. A
        send the guard stops is refused (rolled back: the caller keeps no decision)."""
        step = self.prepare_guarded_send(uow, command)

        def send() -> Packet:
            outcome = step()
            if isinstance(outcome, GuardStop):
                raise outcome.error()
            return outcome

        return send

    def _send(
        self,
        uow: UnitOfWork,
        command: SendPacket,
        whole: Policy,
        now_us: int,
        reads: SendReads,
    ) -> Packet | GuardStop:
        policy = whole.packets
        existing = reads.earlier().get((command.packet_id,))
        if existing is not None:
            if existing.request_digest != command.digest():
                raise refuse(
                    "this packet id was used for another packet", PacketCode.ALREADY_EXISTS
                )
            return existing
        funding = self._check_send(reads, command, policy, now_us)
        # After the send's own refusals: a malformed send is refused as such, whatever the
        # sender's standing.
        check_send(
            reads.standing(),
            command.amount,
            policy.limits(PacketType.PERSONAL).max_total_minor,
            now_us,
            whole.social,
        )
        habits = reads.habits()
        overall = habits.get((command.sender_id, EVERYONE))
        towards = habits.get((command.sender_id, audience_of(command)))
        group = reads.group()
        verdict = guard_send(
            command,
            whole,
            now_us,
            group_type=group.group_type.value if group is not None else None,
            overall=overall or SendHabits.none(command.sender_id, EVERYONE),
            towards=towards or SendHabits.none(command.sender_id, audience_of(command)),
        )
        if verdict.risky and not command.confirm and command.deliver_at_us is None:
            return stop(uow, verdict, command, whole, now_us)
        deliver_at_us = check_deliver_at(command.deliver_at_us, now_us, whole.guard)
        amounts, algorithm, seed = self._split(command, policy)
        starts_at_us = now_us if deliver_at_us is None else deliver_at_us
        packet = Packet(
            id=command.packet_id,
            packet_type=command.packet_type,
            sender_id=command.sender_id,
            currency=command.amount.currency.code,
            total_minor=command.amount.minor,
            share_count=command.shares,
            funding_source_id=command.funding_source_id,
            funding_kind=funding.source.kind,
            source_account_id=funding.source.ledger_account_id,
            recipient_id=command.recipient_id,
            group_id=command.group_id,
            escrow_account_id=f"escrow:{command.packet_id}",
            state=PacketState.OPEN if deliver_at_us is None else PacketState.SCHEDULED,
            created_at_us=now_us,
            expires_at_us=starts_at_us + policy.lifetime_hours * 60 * MICROSECONDS_PER_MINUTE,
            claimed_count=0,
            claimed_minor=0,
            split_algorithm=algorithm,
            request_digest=command.digest(),
            sender_device_id=command.device.device_id if command.device else None,
            sender_sim_id=command.device.sim_id if command.device else None,
            split_seed=seed,
            purpose=command.purpose,
            deliver_at_us=deliver_at_us,
        )
        self._open_escrow(uow, packet, now_us)
        # Money first: the ledger locks the paying account before the packet row's foreign key
        # takes a share lock on it; the other order deadlocks two sends from one balance.
        authorization = self._fund(uow, packet, funding.rate, policy, now_us)
        uow.packets.packets.insert(packet)
        if authorization is not None:
            self._keep_authorization(uow, authorization, now_us)
        shares = [Share(packet.id, at, minor, None, None) for at, minor in enumerate(amounts)]
        for start in range(0, len(shares), MAX_BATCH_SIZE):
            uow.packets.shares.insert_many(shares[start : start + MAX_BATCH_SIZE])
        schedule_new(
            uow.scheduler,
            work_id=f"expire:{packet.id}",
            kind=EXPIRE_KIND,
            payload={"packet_id": packet.id},
            due_at_us=packet.expires_at_us,
            now_us=now_us,
        )
        record_guarded(uow, verdict, command, whole.version, now_us)
        uow.packets.count_habits(sent_counts(packet, now_us))
        first: PacketEvent = PacketSent(packet.id, packet.total_minor)
        if packet.deliver_at_us is not None:
            schedule_delivery(uow, packet, now_us)
            first = PacketScheduled(packet.id, packet.total_minor, packet.deliver_at_us)
        # The packet is new, so is its stream: its events start at 1 without a look-up.
        self._publish(uow, packet, [first], now_us, last_sequence=0)
        return packet

    def _check_send(
        self, reads: SendReads, command: SendPacket, policy: PacketPolicy, now_us: int
    ) -> Funding:
        """Every refusal before anything is written; returns what pays for the packet."""
        facts = reads.sender()
        sender = facts.sender
        if sender is None:
            raise refuse(f"no user {command.sender_id!r}", PacketCode.UNKNOWN_SENDER)
        if sender.status is not UserStatus.NORMAL:
            raise refuse("the sender's account is restricted", PacketCode.SENDER_RESTRICTED)
        self._check_audience(facts, reads, command)
        if command.device is not None:
            device = facts.device
            if device is None or device.user_id != command.sender_id:
                raise refuse("this device is not one of the sender's", PacketCode.UNKNOWN_DEVICE)
            lock = reads.device_lock()
            if lock is not None and lock.is_locked:
                raise refuse(
                    "this device is locked by risk control until it is unlocked",
                    PacketCode.DEVICE_LOCKED,
                )
        if (
            command.packet_type is PacketType.ENTERPRISE
            and sender.user_type is not UserType.ENTERPRISE
        ):
            raise refuse(
                "only enterprise accounts send enterprise packets", PacketCode.NOT_ENTERPRISE
            )
        self._check_limits(command, policy)
        stored = reads.source()
        if stored is None or stored.user_id != command.sender_id:
            raise refuse(
                "unknown funding source for this sender", PacketCode.UNKNOWN_FUNDING_SOURCE
            )
        source = funding_from_stored(stored)
        if source.kind is FundingKind.FOREIGN_CARD:
            rate = usable_rate(
                self.rates,
                command.amount.currency.code,
                source.currency,
                now_us=now_us,
                max_age_us=policy.fx_rate_max_age_minutes * MICROSECONDS_PER_MINUTE,
            )
            return Funding(source, rate)
        if source.currency != command.amount.currency.code:
            raise refuse(
                "the packet and its source use other currencies", PacketCode.CURRENCY_MISMATCH
            )
        return Funding(source, None)

    def _check_audience(self, facts: SenderFacts, reads: SendReads, command: SendPacket) -> None:
        if command.packet_type is PacketType.PERSONAL:
            if command.purpose is PacketPurpose.TUITION:
                raise refuse(
                    "a tuition payment goes to an education group",
                    PacketCode.TUITION_NOT_EDUCATION,
                )
            if command.recipient_id is None or command.group_id is not None:
                raise refuse("a personal packet has one recipient", PacketCode.AUDIENCE_INVALID)
            if command.recipient_id == command.sender_id:
                raise refuse("a personal packet goes to someone else", PacketCode.AUDIENCE_INVALID)
            if facts.recipient is None:
                raise refuse(f"no user {command.recipient_id!r}", PacketCode.UNKNOWN_RECIPIENT)
            return
        if command.group_id is None or command.recipient_id is not None:
            raise refuse("a group packet goes to one group", PacketCode.AUDIENCE_INVALID)
        if not reads.in_group():
            raise refuse("only members send packets to a group", PacketCode.NOT_A_MEMBER)
        if command.purpose is PacketPurpose.TUITION:
            group = reads.group()
            if group is None or group.group_type is not GroupType.EDUCATION:
                raise refuse(
                    "a tuition payment goes to an education group",
                    PacketCode.TUITION_NOT_EDUCATION,
                )

    def _check_limits(self, command: SendPacket, policy: PacketPolicy) -> None:
        packet_type, amount = command.packet_type, command.amount
        if amount.currency.code != policy.currency:
            raise refuse(
                f"packets are sent in {policy.currency}", PacketCode.CURRENCY_NOT_SUPPORTED
            )
        limits = policy.limits(packet_type)
        if not 1 <= command.shares <= limits.max_shares:
            raise refuse(
                f"a {packet_type.value} packet has 1 to {limits.max_shares} shares",
                PacketCode.SHARES_OUT_OF_RANGE,
            )
        if amount.minor < limits.min_share_minor * command.shares:
            least = Money.of(limits.min_share_minor, amount.currency).format()
            raise refuse(f"every share is at least {least}", PacketCode.TOTAL_TOO_SMALL)
        if amount.minor > limits.max_share_minor * command.shares:
            most = Money.of(limits.max_share_minor, amount.currency).format()
            raise refuse(f"at most {most} per share", PacketCode.AMOUNT_OVER_LIMIT)
        if amount.minor > limits.max_total_minor:
            most = Money.of(limits.max_total_minor, amount.currency).format()
            raise refuse(
                f"a {packet_type.value} packet holds at most {most}", PacketCode.TOTAL_OVER_LIMIT
            )

    def _split(self, command: SendPacket, policy: PacketPolicy) -> tuple[list[int], str, str]:
        most = policy.limits(command.packet_type).max_shares
        if command.packet_type is PacketType.GROUP_LUCKY:
            seed = self.lucky_seeds()
            lucky = split_lucky(command.amount, command.shares, seed, max_shares=most)
            return [share.minor for share in lucky.shares], LUCKY_ALGORITHM, seed
        shares = split_fixed(command.amount, command.shares, max_shares=most)
        return [share.minor for share in shares], FIXED_ALGORITHM, ""

    def _open_escrow(self, uow: UnitOfWork, packet: Packet, now_us: int) -> None:
        escrow = NewAccount(
            packet.escrow_account_id,
            AccountKind.PACKET_ESCROW,
            packet.currency,
            reference=packet.id,
        )
        (opened,) = ledger_operations.open_new_accounts(uow.ledger, [escrow], now_us)
        invariant(opened.succeeded, "a new packet's escrow opens", packet_id=packet.id)

    def _fund(
        self,
        uow: UnitOfWork,
        packet: Packet,
        rate: ExchangeRate | None,
        policy: PacketPolicy,
        now_us: int,
    ) -> CardAuthorization | None:
        """Move or hold the packet's money; a card's authorization is returned to be kept."""
        if packet.is_card_funded:
            return self._authorize(uow, packet, rate, policy, now_us)
        request = reservation(packet, policy) or TransferRequest(
            f"send:{packet.id}",
            TransferCode.SEND,
            packet.total_minor,
            packet.source_account_id,
            packet.escrow_account_id,
            packet.currency,
            reference=packet.id,
        )
        (result,) = ledger_operations.create_transfers(uow.ledger, [request], now_us)
        if result.code is TransferResultCode.EXCEEDS_CREDITS:
            raise refuse("not enough money in the funding source", PacketCode.INSUFFICIENT_FUNDS)
        if not result.succeeded:
            raise refuse(
                f"the ledger refused the send: {result.message}", PacketCode.LEDGER_REFUSED
            )
        return None

    def _authorize(
        self,
        uow: UnitOfWork,
        packet: Packet,
        rate: ExchangeRate | None,
        policy: PacketPolicy,
        now_us: int,
    ) -> CardAuthorization:
        account = present(
            uow.ledger.get_accounts([packet.source_account_id]).get(packet.source_account_id),
            "a card has its ledger account",
            packet_id=packet.id,
        )
        authorization = CardAuthorization(
            packet_id=packet.id,
            card_account_id=packet.source_account_id,
            charge_currency=account.currency,
            authorized_minor=0,
            charged_minor=0,
            packet_currency=packet.currency,
            fx_rate=None if rate is None else str(rate.rate),
            fx_rate_as_of_us=None if rate is None else rate.as_of_us,
            fx_rate_source=None if rate is None else rate.source,
            state=AuthorizationState.HELD,
            # A delayed send's window opens at its delivery (see docs/send-guard.md); the hold's
            # backstop counts from now, when the card is authorized.
            window_ends_at_us=(packet.deliver_at_us or now_us)
            + policy.card_authorization_minutes * MICROSECONDS_PER_MINUTE,
            backstop_at_us=now_us + policy.card_hold_backstop_hours * 60 * MICROSECONDS_PER_MINUTE,
            sequence=0,
            closed_at_us=None,
        )
        authorization = replace(
            authorization, authorized_minor=authorization.charge_for(packet.total_minor)
        )
        if not card.open_hold(uow, authorization, now_us):
            raise refuse("the card cannot cover this packet", PacketCode.INSUFFICIENT_FUNDS)
        return authorization

    def _keep_authorization(
        self, uow: UnitOfWork, authorization: CardAuthorization, now_us: int
    ) -> None:
        uow.packets.authorizations.insert(authorization)
        schedule(
            uow.scheduler,
            work_id=f"capture:{authorization.packet_id}",
            kind=CAPTURE_KIND,
            payload={"packet_id": authorization.packet_id},
            due_at_us=authorization.window_ends_at_us,
            now_us=now_us,
        )

    # ------------------------------------------------------------------- delayed sends

    def cancel_scheduled(self, packet_id: str, sender_id: str) -> Packet:
        """The sender cancels a delayed send before its delivery (free, whatever the source)."""
        return self.database.transact(
            lambda uow: cancel_scheduled(uow, packet_id, sender_id, self.clock.now_us())
        )

    def deliver_handler(self, uow: UnitOfWork, payload: dict[str, object], now_us: int) -> None:
        """Scheduler handler: a delayed send's time came (see ``scheduled_sends``)."""
        deliver_handler(uow, payload, now_us)

    def guard_decision(self, decision_id: str) -> GuardDecision:
        found = self.database.read(lambda uow: uow.packets.guard_decisions.get(decision_id))
        if found is None:
            raise refuse(f"no guard decision {decision_id!r}", PacketCode.UNKNOWN_GUARD_DECISION)
        return found

    # ------------------------------------------------------------------------------ claim

    def claim(self, packet_id: str, user_id: str) -> ClaimOutcome:
        return self.database.transact(lambda uow: self._claim(uow, packet_id, user_id))

    def claim_many_in(self, uow: UnitOfWork, requests: Sequence[ClaimRequest]) -> list[ClaimAnswer]:
        """Many claims inside the caller's unit of work, as if run one after another in the
        order given; a refusal is returned in its claim's place (see ``claims``)."""
        return claim_batch(uow, requests, self.clock.now_us(), self._fund_claim)

    def _claim(self, uow: UnitOfWork, packet_id: str, user_id: str) -> ClaimOutcome:
        (answer,) = self.claim_many_in(uow, [ClaimRequest(packet_id, user_id)])
        if isinstance(answer, PacketError):
            raise answer
        return answer

    # ------------------------------------------------------------------------- card window

    def _fund_claim(self, uow: UnitOfWork, packet: Packet, share: Share, now_us: int) -> None:
        """Bring a claimed share of a card-funded packet into escrow before it is paid."""
        authorization = self._settle_window(uow, packet, now_us)
        if authorization.is_held:
            taken = card.take(uow, authorization, packet.claimed_minor, share, now_us)
            uow.packets.authorizations.replace(taken)
            if not taken.is_held:
                self._publish_capture(uow, packet, taken, now_us)

    def _settle_window(self, uow: UnitOfWork, packet: Packet, now_us: int) -> CardAuthorization:
        """The packet's authorization, captured first if its window is over (the one place
        the window's end is compared, whoever arrives first: the job, a claim or expiry)."""
        authorization = present(
            uow.packets.authorizations.get(packet.id),
            "a card packet has its authorization",
            packet_id=packet.id,
        )
        if authorization.is_held and is_due(authorization.window_ends_at_us, now_us):
            authorization = card.capture(
                uow, authorization, packet.claimed_minor, packet.total_minor, now_us
            )
            uow.packets.authorizations.replace(authorization)
            self._publish_capture(uow, packet, authorization, now_us)
        return authorization

    def capture_handler(self, uow: UnitOfWork, payload: dict[str, object], now_us: int) -> None:
        """Scheduler handler: the card window is over, charge the card for the rest (R-P2)."""
        packet = self._lock_scheduled(uow, payload)
        self._settle_window(uow, packet, now_us)

    def _publish_capture(
        self, uow: UnitOfWork, packet: Packet, authorization: CardAuthorization, now_us: int
    ) -> None:
        captured = AuthorizationCaptured(
            packet.id, authorization.charged_minor, authorization.charge_currency
        )
        self._publish(uow, packet, [captured], now_us)

    def authorization(self, packet_id: str) -> CardAuthorization | None:
        return self.database.read(lambda uow: uow.packets.authorizations.get(packet_id))

    # ----------------------------------------------------------------------------- expiry

    def expire_handler(self, uow: UnitOfWork, payload: dict[str, object], now_us: int) -> None:
        """Scheduler handler: refund what is left to the source and close the packet (R-P4)."""
        packet = self._lock_scheduled(uow, payload)
        if packet.state is not PacketState.OPEN:
            return
        invariant(is_due(packet.expires_at_us, now_us), "expiry runs when due", packet_id=packet.id)
        if packet.is_card_funded:
            self._settle_window(uow, packet, now_us)
        if packet.remainder_minor > 0:
            policy = self.policies.active()
            planned = expiry_plan(uow, packet, now_us=now_us, policy=policy, rates=self.rates)
            refund_remainder(
                uow, packet, planned, trigger=RefundTrigger.EXPIRY, policy=policy, now_us=now_us
            )
        uow.packets.packets.replace(replace(packet, state=PacketState.EXPIRED))
        self._publish(uow, packet, [PacketExpired(packet.id, packet.remainder_minor)], now_us)

    def recheck_handler(self, uow: UnitOfWork, payload: dict[str, object], now_us: int) -> None:
        """Scheduler handler: a held refund of a remainder is planned again, and carried out if
        a route takes it now."""
        recheck_held(
            uow,
            str(payload["refund_id"]),
            now_us=now_us,
            policy=self.policies.active(),
            rates=self.rates,
        )

    def risk_release_handler(
        self, uow: UnitOfWork, payload: dict[str, object], now_us: int
    ) -> None:
        """Scheduler handler: a risk-held refund whose release time came moves on, unless a
        reviewer decided otherwise (its case confirmed: the money stays held)."""
        refund_id = str(payload["refund_id"])
        case = uow.risk.cases.lock(f"hold:{refund_id}")
        if case is not None and case.state is not CaseState.OPEN:
            return
        self.release_risk_hold(uow, refund_id, now_us)
        if case is not None:
            uow.risk.cases.replace(
                replace(
                    case,
                    state=CaseState.RELEASED,
                    decided_by=RELEASE_TIME,
                    decided_at_us=now_us,
                    note="released at its release time without a review",
                )
            )

    def release_risk_hold(self, uow: UnitOfWork, refund_id: str, now_us: int) -> Refund:
        """Move a risk-held refund on now, in the caller's unit of work."""
        return release_risk_hold(
            uow, refund_id, now_us=now_us, policy=self.policies.active(), rates=self.rates
        )

    # ------------------------------------------------------------------------------ recall

    def close_for_recall(
        self,
        uow: UnitOfWork,
        packet: Packet,
        planned: PacketRefundPlan | None,
        now_us: int,
        *,
        events: EventBatch | None = None,
        risk_hold_until_us: int | None = None,
    ) -> tuple[Packet, RecallMoney, Refund | None]:
        """Stop further claims and give back what nobody claimed, inside the caller's unit of
        work (the recall's). Inside the card window the open hold is voided, so the card is
        charged for claimed shares only and no fee (R-X1); otherwise the remainder is refunded
        along ``planned``, the plan the recall decision showed. ``packet`` is locked.
        ``events``: the caller's batch, which takes ``PacketRecalled`` to write with its own.
        ``risk_hold_until_us``: risk control holds the refund for review until then."""
        invariant(
            packet.state is PacketState.OPEN, "only an open packet is recalled", packet_id=packet.id
        )
        if packet.is_card_funded:
            authorization = self._settle_window(uow, packet, now_us)
            if voids_hold(authorization, now_us):
                uow.packets.authorizations.replace(card.release(uow, authorization, now_us))
                recalled = self._mark_recalled(uow, packet, now_us, events=events)
                return recalled, RecallMoney.VOIDED_HOLD, None
        planned = present(
            planned, "a recall after the card window has its refund plan", packet_id=packet.id
        )
        refund = refund_remainder(
            uow,
            packet,
            planned,
            trigger=RefundTrigger.RECALL,
            policy=self.policies.active(),
            now_us=now_us,
            risk_hold_until_us=risk_hold_until_us,
        )
        recalled = self._mark_recalled(uow, packet, now_us, events=events)
        return recalled, RecallMoney.REFUNDED, refund

    def refund_plan(
        self,
        uow: UnitOfWork,
        packet: Packet,
        now_us: int,
        *,
        read: RefundReads | None = None,
    ) -> PacketRefundPlan | None:
        """What a recall now would refund and how (R-F1..R-F4); None when nothing would be
        refunded: inside the card window (the hold is voided) or with nothing unclaimed.
        ``read``: the packet's authorization, funding source and sender, read already."""
        if not needs_refund_plan(packet):
            return None
        if packet.is_card_funded:
            authorization = (
                read.authorization
                if read is not None
                else uow.packets.authorizations.get(packet.id)
            )
            if authorization is not None and voids_hold(authorization, now_us):
                return None  # inside the card window the hold is voided instead
        # Always asked with smart routing, so the facts say whether the balance could take it;
        # the recall rule decides, under the policy of the moment, whether it may.
        return plan_packet_refund(
            uow,
            packet,
            now_us=now_us,
            policy=self.policies.active(),
            rates=self.rates,
            smart_routing=True,
            source=read.source if read is not None else None,
            sender=read.sender if read is not None else None,
        )

    def _mark_recalled(
        self, uow: UnitOfWork, packet: Packet, now_us: int, *, events: EventBatch | None
    ) -> Packet:
        recalled = replace(packet, state=PacketState.RECALLED)
        # The row is locked, so the update is checked at commit instead of waited for.
        uow.packets.packets.replace_many([recalled], columns=("state",))
        uow.packets.count_habits(recalled_counts(packet, now_us))
        recalled_event = PacketRecalled(packet.id, packet.remainder_minor)
        if events is None:
            self._publish(uow, packet, [recalled_event], now_us, consumers=RECALL_CONSUMERS)
        else:
            events.add([new_event(recalled_event)], RECALL_CONSUMERS)
        return recalled

    def _lock_scheduled(self, uow: UnitOfWork, payload: dict[str, object]) -> Packet:
        packet_id = str(payload["packet_id"])
        packet = present(
            uow.packets.packets.lock(packet_id),
            "scheduled work for an existing packet",
            packet_id=packet_id,
        )
        return packet

    # ----------------------------------------------------------------------------- queries

    def verify(self) -> PacketReport:
        """The packet invariants of R-M2 on one snapshot (see ``verification``)."""
        return self.database.read(verify_packets)

    def packet(self, packet_id: str) -> Packet:
        return self.database.read(lambda uow: self.packet_in(uow, packet_id))

    def packet_in(self, uow: UnitOfWork, packet_id: str) -> Packet:
        return known_packet(packet_id, uow.packets.packets.get(packet_id))

    def shares(self, packet_id: str) -> list[Share]:
        packet = self.packet(packet_id)
        return self.database.read(
            lambda uow: uow.packets.shares_of(packet_id, limit=packet.share_count)
        )

    def claims_seen_by(self, packet_id: str, viewer_id: str) -> list[Share]:
        """The claimed shares a viewer may see: the sender and, for group packets, every
        claimer sees them all (as in WeChat); anyone else sees none (R-A5)."""
        packet = self.packet(packet_id)
        claimed = [share for share in self.shares(packet_id) if share.claimed_by is not None]
        if viewer_id == packet.sender_id:
            return claimed
        is_claimer = any(share.claimed_by == viewer_id for share in claimed)
        if packet.packet_type is PacketType.PERSONAL:
            return [share for share in claimed if share.claimed_by == viewer_id]
        return claimed if is_claimer else []

    def sent_by(self, user_id: str, limit: int = 100) -> list[Packet]:
        limit = max(1, min(limit, MAX_HISTORY))
        return self.database.read(lambda uow: uow.packets.sent_by(user_id, limit=limit))

    def sent_to_group(self, group_id: str, limit: int = 100) -> list[Packet]:
        limit = max(1, min(limit, MAX_HISTORY))
        return self.database.read(lambda uow: uow.packets.sent_to_group(group_id, limit=limit))

    def received_by(self, user_id: str, limit: int = 100) -> list[Share]:
        limit = max(1, min(limit, MAX_HISTORY))
        return self.database.read(lambda uow: uow.packets.claimed_by(user_id, limit=limit))

    def _publish(
        self,
        uow: UnitOfWork,
        packet: Packet,
        events: Sequence[PacketEvent],
        now_us: int,
        *,
        last_sequence: int | None = None,
        consumers: Sequence[str] = CONSUMERS,
    ) -> None:
        """One append per change: one sequence look-up for the packet's stream, none when the
        caller knows its last sequence."""
        invariant(
            all(event.packet_id == packet.id for event in events),
            "a packet's change publishes that packet's events",
            packet_id=packet.id,
        )
        known = None if last_sequence is None else {packet_stream(packet.id): last_sequence}
        append(
            uow.outbox, new_events(events), consumers=consumers, now_us=now_us, last_sequences=known
        )


# The claim vocabulary lives in ``claims``; callers have always found it here too.
__all__ = [
    "ClaimAnswer",
    "ClaimOutcome",
    "ClaimRequest",
    "ClaimResult",
    "PacketService",
    "SendPacket",
]
