"""Claiming shares of red packets, many claims in one unit of work (R-P3, R-P5).

A batch is what one sequential run of its claims would do, in the order given, with a fixed
number of statements however many claims it holds: the packets are locked together (in id
order, so two batches never deadlock), the claimers, their earlier claims and their group
memberships are read in one statement each, the next free shares in one, and the payments,
the shares, the packets and the events are written in one statement each. Claims of one
packet in a batch take its next shares one after another, exactly as if they had queued on
its lock one transaction each. That is what lets the HTTP service commit many concurrent
claims at once (group commit) instead of paying a transaction and an fsync for each.

Card-funded packets are the exception: each claim first brings its share into escrow from
the card hold (see ``authorization``), so their claims are carried out one at a time, in
order, inside the same unit of work.

A refusal (an unknown packet or user) is the answer of that claim alone: it is returned in
its place, not raised, and nothing of it is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Final

from hongbao.identity.reads import read_registered
from hongbao.identity.service import MAX_LISTED
from hongbao.ledger import operations as ledger_operations
from hongbao.ledger.model import TransferRequest
from hongbao.ledger.results import TransferResultCode
from hongbao.money import Money
from hongbao.packets.authorization import TransferCode
from hongbao.packets.errors import PacketCode
from hongbao.packets.events import PacketClaimed, PacketEvent, PacketExhausted, packet_stream
from hongbao.packets.model import Packet, PacketState, PacketType, Share
from hongbao.packets.ports import UnitOfWork
from hongbao.packets.split import PacketError
from hongbao.packets.user_feed import USER_FEED
from hongbao.platform.chain import ChainHead
from hongbao.platform.clock import is_due
from hongbao.platform.invariants import instance, invariant, present
from hongbao.platform.outbox import append, new_events
from hongbao.social.groups import GroupMember, is_member_at

# Bounds one transaction: its locks, its statements' parameters and its events (a claim
# writes at most two events; the outbox takes at most 500 in one append).
MAX_CLAIMS_PER_BATCH: Final = 200
CONSUMERS: tuple[str, ...] = (USER_FEED,)  # each registered in worker.build_relay
# What a claim changes, and so all that its batch writes back.
SHARE_CLAIM_COLUMNS: Final = ("claimed_by", "claimed_at_us")
PACKET_CLAIM_COLUMNS: Final = ("claimed_count", "claimed_minor", "state")


class ClaimResult(StrEnum):
    CLAIMED = "claimed"
    ALREADY_CLAIMED = "already_claimed"  # a retry: the same share, no money moved again
    PACKET_EMPTY = "packet_empty"
    PACKET_EXPIRED = "packet_expired"
    PACKET_RECALLED = "packet_recalled"
    PACKET_NOT_DELIVERED = "packet_not_delivered"  # a delayed send not (or never) delivered
    NOT_THE_RECIPIENT = "not_the_recipient"
    NOT_A_MEMBER = "not_a_member"
    SENDER_CANNOT_CLAIM_PERSONAL = "sender_cannot_claim_personal"


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    result: ClaimResult
    amount: Money | None = None


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    packet_id: str
    user_id: str


# States in which no claim is taken, whatever the claimer.
CLOSED_STATES = {
    PacketState.RECALLED: ClaimResult.PACKET_RECALLED,
    PacketState.SCHEDULED: ClaimResult.PACKET_NOT_DELIVERED,  # a delayed send (R-B1)
    PacketState.CANCELLED: ClaimResult.PACKET_NOT_DELIVERED,
}
# A claim's answer: its outcome, or the refusal that says why it could not be asked at all.
ClaimAnswer = ClaimOutcome | PacketError
# Brings a card-funded packet's share into escrow before it is paid (PacketService).
FundClaim = Callable[[UnitOfWork, Packet, Share, int], None]


def refuse(message: str, code: PacketCode, **details: object) -> PacketError:
    return PacketError(message, code=code, **details)


def claim_refusal(
    packet: Packet, user_id: str, now_us: int, *, is_member: bool, exhausted: bool
) -> ClaimResult | None:
    """Why ``user_id`` may not take a share of ``packet`` now, or None when they may."""
    closed = CLOSED_STATES.get(packet.state)
    if closed is not None:
        return closed
    if packet.state is PacketState.EXPIRED or is_due(packet.expires_at_us, now_us):
        return ClaimResult.PACKET_EXPIRED
    if packet.packet_type is PacketType.PERSONAL:
        if user_id == packet.sender_id:
            return ClaimResult.SENDER_CANNOT_CLAIM_PERSONAL
        if user_id != packet.recipient_id:
            return ClaimResult.NOT_THE_RECIPIENT
    elif not is_member:
        return ClaimResult.NOT_A_MEMBER
    return ClaimResult.PACKET_EMPTY if exhausted else None


@dataclass
class _Facts:
    """What the batch read, before it decides anything."""

    packets: dict[str, Packet]
    users: set[str]
    earlier: dict[tuple[str, str], Share]  # (packet, user) -> the share they claimed before
    members: set[tuple[str, str]]  # (group, user) pairs that are members now
    # Each packet stream's last event (sequence and chain hash), read under the packet's lock.
    heads: dict[str, ChainHead]
    next_shares: dict[tuple[str, int], Share]  # the shares the claims may take, ditto


@dataclass
class _Decisions:
    """Who takes a share (per packet, in order) and who repeats a claim of this batch."""

    answers: list[ClaimAnswer | None]
    takers: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    repeats: list[tuple[int, int]] = field(default_factory=list)  # (answer index, first claim)


@dataclass
class _Writes:
    transfers: list[TransferRequest] = field(default_factory=list)
    shares: list[Share] = field(default_factory=list)
    packets: list[Packet] = field(default_factory=list)
    events: list[PacketEvent] = field(default_factory=list)


def claim_batch(
    uow: UnitOfWork, requests: Sequence[ClaimRequest], now_us: int, fund_claim: FundClaim
) -> list[ClaimAnswer]:
    """Every claim of ``requests`` inside ``uow``, as if run one after another; one answer
    per request, in order."""
    invariant(
        0 < len(requests) <= MAX_CLAIMS_PER_BATCH,
        "a claim batch holds 1 to MAX_CLAIMS_PER_BATCH claims",
        size=len(requests),
    )
    facts = _read(uow, requests, now_us)
    decisions = _decide(requests, facts, now_us)
    writes = _Writes()
    for packet_id in sorted(decisions.takers):
        packet = facts.packets[packet_id]
        for index, user_id in decisions.takers[packet_id]:
            share, claimed = _next_share(packet, facts.next_shares, user_id, now_us)
            if packet.is_card_funded:
                # The card hold funds each share before it is paid, and a capture it triggers
                # is published between the claims, where a sequential run puts it; the stream
                # is looked up again for that reason.
                fund_claim(uow, packet, share, now_us)
                alone = _Writes(packets=[claimed])
                _take(alone, claimed, share)
                _write(uow, alone, now_us, None)
            else:
                _take(writes, claimed, share)
            decisions.answers[index] = ClaimOutcome(
                ClaimResult.CLAIMED, Money.of(share.amount_minor, packet.currency)
            )
            packet = claimed
        if not packet.is_card_funded:
            writes.packets.append(packet)
    _write(uow, writes, now_us, facts.heads)
    answers = decisions.answers
    for index, first in decisions.repeats:
        first_answer = instance(answers[first], ClaimOutcome, "a repeated claim follows a claim")
        answers[index] = ClaimOutcome(ClaimResult.ALREADY_CLAIMED, first_answer.amount)
    invariant(all(answer is not None for answer in answers), "every claim is answered")
    return [answer for answer in answers if answer is not None]


def _read(uow: UnitOfWork, requests: Sequence[ClaimRequest], now_us: int) -> _Facts:
    """Two round trips. First what no claim changes, before any lock is taken, so that
    the packets stay locked for as short a time as possible: the claimers, their group
    memberships and their earlier claims (a claim committed by someone else after this read
    and before the lock would collide on the one-claim-per-user index, and the unit would be
    retried). Then the packets, locked, their next free shares and their streams' last event
    sequences."""
    packet_ids = sorted({request.packet_id for request in requests})
    user_ids = sorted({request.user_id for request in requests})
    users = read_registered(uow.identity, user_ids)
    memberships = uow.social.read_memberships_of(user_ids, limit=MAX_LISTED * len(user_ids))
    earlier_shares = uow.packets.read_claims(
        packet_ids,
        user_ids,
        limit=len(packet_ids) * len(user_ids),  # one claim per user per packet
    )
    known_users = users()
    members = memberships()
    earlier = {
        (share.packet_id, share.claimed_by): share
        for share in earlier_shares()
        if share.claimed_by is not None
    }
    locked = uow.packets.packets.read_many([(packet_id,) for packet_id in packet_ids], lock=True)
    # Sent after the lock in the same round trip: PostgreSQL runs them once the lock is held,
    # so they see the shares taken and the events written by the claims that held it before.
    # As many next shares per packet as it has claims here, the most its claims can take.
    wanted = Counter(request.packet_id for request in requests)
    next_shares = uow.packets.free_shares.read_next(wanted)
    heads = uow.outbox.read_heads([packet_stream(p) for p in packet_ids])
    packets = {packet.id: packet for packet in locked().values()}
    group_ids = {packet.group_id for packet in packets.values() if packet.group_id is not None}
    members_now = _current_members(members, group_ids, now_us)
    return _Facts(packets, known_users, earlier, members_now, heads(), next_shares())


def _current_members(
    records: list[GroupMember], group_ids: set[str], now_us: int
) -> set[tuple[str, str]]:
    """The (group, user) pairs that are members now. Read through the users' memberships
    (few each), not the groups' (possibly thousands): a condition on both columns made
    PostgreSQL walk whole groups."""
    by_pair: dict[tuple[str, str], list[GroupMember]] = {}
    for record in records:
        if record.group_id in group_ids:
            by_pair.setdefault((record.group_id, record.user_id), []).append(record)
    return {pair for pair, history in by_pair.items() if is_member_at(history, pair[1], now_us)}


def _decide(requests: Sequence[ClaimRequest], facts: _Facts, now_us: int) -> _Decisions:
    """Each claim's fate in order; shares are only counted here, amounts come with them."""
    decisions = _Decisions(answers=[None] * len(requests))
    first_claim: dict[tuple[str, str], int] = {}
    for index, request in enumerate(requests):
        packet = facts.packets.get(request.packet_id)
        if packet is None:
            decisions.answers[index] = refuse(
                f"no packet {request.packet_id!r}", PacketCode.UNKNOWN_PACKET
            )
            continue
        user_id = request.user_id
        if user_id not in facts.users:
            decisions.answers[index] = refuse(f"no user {user_id!r}", PacketCode.UNKNOWN_USER)
            continue
        pair = (packet.id, user_id)
        before = facts.earlier.get(pair)
        if before is not None:
            amount = Money.of(before.amount_minor, packet.currency)
            decisions.answers[index] = ClaimOutcome(ClaimResult.ALREADY_CLAIMED, amount)
            continue
        if pair in first_claim:
            decisions.repeats.append((index, first_claim[pair]))
            continue
        taken = len(decisions.takers.get(packet.id, ()))
        exhausted = (
            packet.state is PacketState.EXHAUSTED
            or packet.claimed_count + taken >= packet.share_count
        )
        is_member = (packet.group_id, user_id) in facts.members
        refusal = claim_refusal(packet, user_id, now_us, is_member=is_member, exhausted=exhausted)
        if refusal is not None:
            decisions.answers[index] = ClaimOutcome(refusal)
            continue
        decisions.takers.setdefault(packet.id, []).append((index, user_id))
        first_claim[pair] = index
    return decisions


def _next_share(
    packet: Packet, shares: Mapping[tuple[str, int], Share], user_id: str, now_us: int
) -> tuple[Share, Packet]:
    """The packet's next free share, taken by ``user_id``, and the packet after it."""
    position = packet.claimed_count
    share = present(
        shares.get((packet.id, position)),
        "the next share exists",
        packet_id=packet.id,
        position=position,
    )
    invariant(
        share.claimed_by is None, "the next share is free", packet_id=packet.id, position=position
    )
    claimed = replace(
        packet,
        claimed_count=packet.claimed_count + 1,
        claimed_minor=packet.claimed_minor + share.amount_minor,
    )
    if claimed.claimed_count == claimed.share_count:
        claimed = replace(claimed, state=PacketState.EXHAUSTED)
    return replace(share, claimed_by=user_id, claimed_at_us=now_us), claimed


def _payment(packet: Packet, share: Share, user_id: str) -> TransferRequest:
    # Named by the share, not the user: a share is paid once, and the id stays short.
    return TransferRequest(
        f"claim:{packet.id}:{share.position}",
        TransferCode.CLAIM,
        share.amount_minor,
        packet.escrow_account_id,
        f"user:{user_id}:balance",
        packet.currency,
        reference=packet.id,
    )


def _claim_events(packet: Packet, user_id: str, share: Share) -> list[PacketEvent]:
    claimed = PacketClaimed(packet.id, user_id, share.amount_minor)
    if packet.state is PacketState.EXHAUSTED:
        return [claimed, PacketExhausted(packet.id)]
    return [claimed]


def _take(writes: _Writes, packet: Packet, share: Share) -> None:
    """The payment, the share and the events of one claim (``share`` as taken, ``packet`` as
    after it)."""
    user_id = present(share.claimed_by, "a taken share names its claimer", packet_id=packet.id)
    writes.transfers.append(_payment(packet, share, user_id))
    writes.shares.append(share)
    writes.events += _claim_events(packet, user_id, share)


def _write(
    uow: UnitOfWork, writes: _Writes, now_us: int, heads: dict[str, ChainHead] | None
) -> None:
    if writes.transfers:
        results = ledger_operations.create_transfers(uow.ledger, writes.transfers, now_us)
        for result in results:
            invariant(
                result.code is TransferResultCode.OK,
                "escrow pays a claimed share",
                transfer_id=result.id,
                result=result.code.value,
            )
    uow.packets.shares.replace_many(writes.shares, columns=SHARE_CLAIM_COLUMNS)
    uow.packets.packets.replace_many(writes.packets, columns=PACKET_CLAIM_COLUMNS)
    if writes.events:
        append(
            uow.outbox,
            new_events(writes.events),
            consumers=CONSUMERS,
            now_us=now_us,
            heads=heads,
        )
