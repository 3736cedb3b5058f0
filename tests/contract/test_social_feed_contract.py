"""Recalls reach the social context through the outbox (R-S7) on every adapter, exactly once,
and the send path refuses what their consequences forbid (R-S2, R-S3)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest

from hongbao.bootstrap import Services, services_for
from hongbao.entrypoints.ops.backlog import read_backlog
from hongbao.entrypoints.worker import build_relay, build_scheduler, run_pass
from hongbao.identity.devices import Device, DeviceFingerprint, FormFactor, Platform, VendorSkin
from hongbao.identity.users import AccountTier, RealNameStatus, User, UserType
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import SendPacket
from hongbao.packets.social_feed import SOCIAL_FEED, SocialFeed
from hongbao.platform.clock import ManualClock
from hongbao.platform.outbox import OutboxEvent, Relay
from hongbao.policy.document import default_policy
from hongbao.policy.store import PolicyStore
from hongbao.recall.model import DecisionResult
from hongbao.recall.service import RecallCommand
from hongbao.social.consequences import MICROSECONDS_PER_HOUR, ChangeKind
from hongbao.social.errors import SocialCode, SocialError
from hongbao.social.groups import Group, GroupMember, GroupType
from hongbao.storage.unit_of_work import Database, UnitOfWork
from tests.conftest import START_US

PHONE = DeviceFingerprint("alice-phone", "alice-sim")


def quiet_recalls() -> PolicyStore:
    """The default policy, except class I asks for no SMS: these tests are about what a recall
    costs afterwards, not about verifying it."""
    policy = default_policy()
    tier = policy.recall.tiers.class_i.model_copy(update={"verification": ()})
    tiers = policy.recall.tiers.model_copy(update={"class_i": tier})
    recall = policy.recall.model_copy(update={"tiers": tiers})
    return PolicyStore.fixed(policy.model_copy(update={"recall": recall, "version": "test@1"}))


@pytest.fixture
def services(database: Database, clock: ManualClock) -> Services:
    built = services_for(database, clock, policies=quiet_recalls())
    for name in ("alice", "bob", "carol"):
        built.identity.register_user(
            User(
                name,
                name.title(),
                AccountTier.CLASS_I,
                UserType.NORMAL,
                START_US,
                RealNameStatus.VERIFIED,
            )
        )
    built.identity.register_device(
        Device(
            PHONE.device_id,
            "alice",
            PHONE.sim_id,
            Platform.IOS,
            "17.1",
            VendorSkin.NONE,
            "iPhone 15",
            FormFactor.PHONE,
            START_US,
        )
    )
    built.social.create_group(Group("fun", "Fun", GroupType.ENTERTAINMENT, "alice", START_US))
    built.social.add_member(GroupMember("fun", "bob", START_US))
    built.ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    built.ledger.transfer(
        TransferRequest("top-up", 1, 10_000_00, "bank", "user:alice:balance", "CNY")
    )
    return built


_serial = iter(range(1_000_000))


def send(services: Services, minor: int, *, to: str | None = None) -> str:
    packet_id = f"p-{next(_serial)}"
    services.packets.send(
        SendPacket(
            packet_id,
            PacketType.PERSONAL if to else PacketType.GROUP_NORMAL,
            "alice",
            Money.of(minor, "CNY"),
            1 if to else 2,
            "alice-balance",
            recipient_id=to,
            group_id=None if to else "fun",
            device=PHONE,
        )
    )
    return packet_id


def recall(services: Services, packet_id: str) -> None:
    outcome = services.recalls.recall(RecallCommand(f"k-{packet_id}", packet_id, "alice", PHONE))
    assert outcome.decision.result is DecisionResult.ALLOW


def deliver(services: Services, relay: Relay[UnitOfWork] | None = None) -> None:
    (relay or build_relay(services)).deliver_due()


def move_to(clock: ManualClock, moment_us: int) -> None:
    clock.advance(microseconds=moment_us - clock.now_us())


def refusal(services: Services, minor: int, *, to: str | None = None) -> SocialError:
    with pytest.raises(SocialError) as refused:
        send(services, minor, to=to)
    return refused.value


def changes_of(services: Services, user: str) -> list[tuple[ChangeKind, str]]:
    log = services.database.read(lambda uow: uow.social.changes_of(user, limit=100))
    return [(change.kind, change.event_id) for change in log]


def test_group_sends_are_refused_while_banned_and_allowed_when_the_ban_lifts(
    services: Services, clock: ManualClock
) -> None:
    for _ in range(3):
        recall(services, send(services, 2_00))
    send(services, 2_00)  # the consequences are not applied yet: the send goes through
    deliver(services)
    refused = refusal(services, 2_00)
    assert refused.code is SocialCode.GROUP_SEND_BANNED
    lifts_us = START_US + 24 * MICROSECONDS_PER_HOUR
    assert refused.details["banned_until_us"] == lifts_us
    assert refused.details["lifts_at"].startswith("2026-12-01T")
    assert "3" in refused.details["cause_zh"]
    assert "resume at" in refused.details["cause_en"]
    assert refusal(services, 2_00, to=None).code is SocialCode.GROUP_SEND_BANNED
    send(services, 2_00, to="bob")  # a personal packet is not a group packet
    move_to(clock, lifts_us - 1)
    assert refusal(services, 2_00).code is SocialCode.GROUP_SEND_BANNED
    move_to(clock, lifts_us)
    send(services, 2_00)


def test_a_personal_send_above_the_pair_cap_is_refused_and_explained(
    services: Services, clock: ManualClock
) -> None:
    recall(services, send(services, 10_00, to="bob"))
    deliver(services)
    send(services, 150_00, to="bob")  # 200.00 x 750 per mille
    refused = refusal(services, 150_01, to="bob")
    assert refused.code is SocialCode.PAIR_CAP_EXCEEDED
    assert (refused.details["weight_permille"], refused.details["cap"]) == (750, "150.00")
    send(services, 200_00, to="carol")  # another person: full trust
    move_to(clock, clock.now_us() + 7 * 24 * MICROSECONDS_PER_HOUR)  # normal users: 7 days
    send(services, 200_00, to="bob")


def test_deferred_delivery_catches_up_without_loss(services: Services) -> None:
    """Degrade mode defers the relay (``deliver=False``); sends and recalls go on, and the
    consequences arrive once the relay runs again, the same as if delivered at once."""
    scheduler, relay = build_scheduler(services), build_relay(services)
    packets = [send(services, 2_00) for _ in range(3)]
    for packet_id in packets:
        recall(services, packet_id)
    deferred = run_pass(services, scheduler, relay, deliver=False)
    assert deferred.events_delivered == 0
    assert changes_of(services, "alice") == []
    send(services, 2_00)  # not banned yet: the consumer is behind, the money path is not
    caught_up = run_pass(services, scheduler, relay)
    assert caught_up.events_delivered > 0
    assert refusal(services, 2_00).code is SocialCode.GROUP_SEND_BANNED
    kinds = {kind for kind, _event in changes_of(services, "alice")}
    assert kinds == {ChangeKind.SCORE, ChangeKind.GROUP_BAN}  # the third recall of the day


class _DiesMidBatch:
    """The social consumer, except that the first batch of several dies after applying its
    first event (as a worker killed mid-batch): its transaction never commits."""

    def __init__(self, feed: SocialFeed) -> None:
        self.feed = feed
        self.died = False

    def __call__(self, uow: UnitOfWork, event: OutboxEvent) -> None:
        self.feed(uow, event)

    def deliver_batch(self, uow: UnitOfWork, events: Sequence[OutboxEvent]) -> None:
        if not self.died and len(events) > 1:
            self.feed.deliver_batch(uow, events[:1])
            self.died = True
            raise RuntimeError("worker killed mid-batch")
        self.feed.deliver_batch(uow, events)


def test_a_consumer_killed_mid_batch_applies_every_event_exactly_once(
    services: Services,
) -> None:
    for _ in range(3):
        recall(services, send(services, 2_00))
    recall(services, send(services, 10_00, to="bob"))
    relay: Relay[UnitOfWork] = Relay(services.database, services.clock)
    dies = _DiesMidBatch(SocialFeed(services.policies, services.clock))
    relay.register(SOCIAL_FEED, dies)
    for name, consumer in build_relay(services).consumers.items():
        if name != SOCIAL_FEED:  # every other consumer as the worker has it
            relay.register(name, consumer)
    relay.deliver_due()
    assert dies.died
    kinds = Counter(kind for kind, _event in changes_of(services, "alice"))
    # The ban, the pair's weight, and the score: the third recall of the day, and the fourth
    # of the day and of the month.
    assert kinds == {ChangeKind.GROUP_BAN: 1, ChangeKind.PAIR_WEIGHT: 1, ChangeKind.SCORE: 3}
    applied = services.database.read(lambda uow: uow.social.recall_counts.page(None, limit=10))
    assert sorted((count.period, count.count) for count in applied) == [
        ("day:2026-11-30", 4),
        ("month:2026-11", 4),
    ]


def test_a_redelivered_event_changes_nothing(services: Services) -> None:
    recall(services, send(services, 10_00, to="bob"))
    deliver(services)
    event_id = changes_of(services, "alice")[0][1]
    event = services.database.read(lambda uow: uow.outbox.get_event(event_id))
    assert event is not None
    feed = SocialFeed(services.policies, services.clock)
    services.database.transact(lambda uow: feed(uow, event))
    assert changes_of(services, "alice") == [(ChangeKind.PAIR_WEIGHT, event_id)]
    pair = services.database.read(lambda uow: uow.social.pair_weights.get("alice", "bob"))
    assert pair is not None
    assert len(pair.penalties) == 1


def test_the_social_consumers_lag_is_measured_until_it_catches_up(
    services: Services, clock: ManualClock
) -> None:
    recall(services, send(services, 10_00, to="bob"))
    clock.advance(seconds=45)

    def lags() -> dict[str, float]:
        backlog = services.database.read(
            lambda uow: read_backlog(uow, clock.now_us(), cap=100, overdue_after_seconds=60)
        )
        return backlog.consumer_lag_seconds

    assert lags()[SOCIAL_FEED] == 45
    deliver(services)
    assert SOCIAL_FEED not in lags()
