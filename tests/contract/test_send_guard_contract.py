"""The send-time guard and delayed sends on every adapter (R-B1): a late-night large packet to
a work group asks for confirmation and moves nothing; confirmed it is sent, delayed it is
reserved, delivered by the scheduler, or cancelled for free before that."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hongbao.funding.service import FundingService
from hongbao.funding.sources import DebitCardSource, mask_card_number
from hongbao.ledger.model import Account
from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.authorization import AuthorizationState
from hongbao.packets.errors import PacketCode
from hongbao.packets.guard import GuardOutcome, GuardReason
from hongbao.packets.guarding import GuardStop
from hongbao.packets.model import Packet, PacketState, PacketType
from hongbao.packets.regret import EVERYONE, SendHabits, person_audience
from hongbao.packets.scheduled_sends import DELIVER_KIND
from hongbao.packets.service import (
    CAPTURE_KIND,
    EXPIRE_KIND,
    ClaimResult,
    PacketService,
    SendPacket,
)
from hongbao.packets.split import PacketError
from hongbao.platform.clock import ManualClock, from_datetime
from hongbao.platform.scheduler import Scheduler
from hongbao.social.groups import Group, GroupMember, GroupType
from hongbao.social.service import SocialService
from tests.conftest import START_US

BEIJING = ZoneInfo("Asia/Shanghai")
HOUR = 3600


def beijing(day: int, hour: int, minute: int) -> int:
    """A moment in Beijing time, ``day`` counted in November 2026 (31 is December 1st); the
    test clock starts on November 30th, 08:53."""
    start = datetime(2026, 11, 30, hour, minute, tzinfo=BEIJING)
    return from_datetime(start + timedelta(days=day - 30))


def move_to(clock: ManualClock, moment_us: int) -> None:
    clock.advance(microseconds=moment_us - clock.now_us())


@pytest.fixture
def office(world: PacketService) -> PacketService:
    """Alice's work group and her entertainment group, each with bob and carol."""
    social = SocialService(world.database, world.clock)
    for group_id, group_type in (("office", GroupType.WORK), ("games", GroupType.ENTERTAINMENT)):
        social.create_group(Group(group_id, group_id.title(), group_type, "alice", START_US))
        for name in ("bob", "carol"):
            social.add_member(GroupMember(group_id, name, START_US))
    return world


def to_group(packet_id: str, amount: str, group: str = "office", **options: object) -> SendPacket:
    return SendPacket(
        packet_id,
        PacketType.GROUP_NORMAL,
        "alice",
        Money.parse(amount, "CNY"),
        3,
        "alice-balance",
        group_id=group,
        **options,  # type: ignore[arg-type]
    )


def account(service: PacketService, account_id: str) -> Account:
    return Ledger(service.database, service.clock).account(account_id)


def scheduler_for(service: PacketService) -> Scheduler:
    scheduler = Scheduler(service.database, service.clock)
    scheduler.register(EXPIRE_KIND, service.expire_handler)
    scheduler.register(CAPTURE_KIND, service.capture_handler)
    scheduler.register(DELIVER_KIND, service.deliver_handler)
    return scheduler


def event_types(service: PacketService, packet_id: str) -> list[str]:
    def read(uow: object) -> list[str]:
        outbox = uow.outbox  # type: ignore[attr-defined]
        count = outbox.last_sequence(f"packet:{packet_id}")
        return [outbox.get_event(f"packet:{packet_id}#{n}").event_type for n in range(1, count + 1)]

    return service.database.read(read)


def all_verified(service: PacketService) -> bool:
    return Ledger(service.database, service.clock).verify().ok and service.verify().ok


@pytest.mark.parametrize(
    ("case", "stopped"),
    [
        (((30, 21, 59), "200.00", "office"), False),
        (((30, 22, 0), "200.00", "office"), True),
        (((30, 22, 0), "199.99", "office"), False),
        (((30, 22, 0), "200.00", "games"), False),
        (((30, 23, 59), "500.00", "office"), True),
    ],
    ids=["21:59", "22:00", "199.99", "entertainment", "23:59-500"],
)
def test_the_guard_stops_exactly_the_late_large_sends_to_a_work_group(
    office: PacketService,
    clock: ManualClock,
    case: tuple[tuple[int, int, int], str, str],
    stopped: bool,
) -> None:
    moment, amount, group = case
    move_to(clock, beijing(*moment))
    outcome = office.send_guarded(to_group("p-1", amount, group))
    assert isinstance(outcome, GuardStop) is stopped
    if stopped:
        assert account(office, "user:alice:balance").credit_balance == 1_000_00
    else:
        assert isinstance(outcome, Packet)
        assert outcome.state is PacketState.OPEN


def test_a_stopped_send_moves_nothing_and_keeps_an_explainable_decision(
    office: PacketService, clock: ManualClock
) -> None:
    move_to(clock, beijing(30, 22, 30))
    stop = office.send_guarded(to_group("p-late", "250.00"))
    assert isinstance(stop, GuardStop)
    decision = office.guard_decision(stop.decision.decision_id)
    assert decision.outcome == GuardOutcome.CONFIRMATION_NEEDED
    assert decision.reason_list() == [
        GuardReason.LATE_NIGHT,
        GuardReason.LARGE_AMOUNT,
        GuardReason.GUARDED_GROUP,
    ]
    assert decision.policy_version.startswith("default@")
    assert decision.offered_at_us == beijing(31, 8, 0)  # the next 08:00 Beijing time
    checks = {check["reason"]: check for check in decision.signal_map()["checks"]}
    assert checks["late_night"] == {
        "reason": "late_night",
        "value": "22:30",
        "threshold": "22:00-06:00",
        "hit": True,
    }
    assert checks["large_amount"]["value"] == "250.00"
    error = stop.error()
    assert error.code is PacketCode.CONFIRMATION_NEEDED
    assert error.details["offered_deliver_at"] == "2026-12-01T08:00:00+08:00"
    with pytest.raises(PacketError) as refused:
        office.send(to_group("p-late", "250.00"))
    assert refused.value.code is PacketCode.CONFIRMATION_NEEDED
    assert office.sent_by("alice") == []
    assert account(office, "user:alice:balance").credit_balance == 1_000_00


def test_the_night_window_ends_at_six(office: PacketService, clock: ManualClock) -> None:
    """05:59 is still night, 06:00 is morning."""
    move_to(clock, beijing(31, 5, 59))
    assert isinstance(office.send_guarded(to_group("p-1", "200.00")), GuardStop)
    clock.advance(seconds=60)
    assert isinstance(office.send_guarded(to_group("p-1", "200.00")), Packet)


def test_a_confirmed_send_goes_at_once_and_is_recorded_as_confirmed(
    office: PacketService, clock: ManualClock
) -> None:
    move_to(clock, beijing(30, 23, 0))
    packet = office.send(to_group("p-yes", "300.00", confirm=True))
    assert packet.state is PacketState.OPEN
    assert account(office, packet.escrow_account_id).credit_balance == 300_00
    decisions = office.database.read(lambda uow: uow.packets.guard_decisions.page(None, limit=9))
    assert [(d.packet_id, d.outcome) for d in decisions] == [("p-yes", GuardOutcome.CONFIRMED)]
    assert all_verified(office)


def test_a_delayed_send_reserves_the_money_and_is_delivered_at_its_time(
    office: PacketService, clock: ManualClock
) -> None:
    move_to(clock, beijing(30, 23, 0))
    deliver_at = beijing(31, 8, 0)
    packet = office.send(to_group("p-later", "300.00", deliver_at_us=deliver_at))
    assert (packet.state, packet.deliver_at_us) == (PacketState.SCHEDULED, deliver_at)
    balance = account(office, "user:alice:balance")
    assert (balance.debits_pending, balance.debits_posted) == (300_00, 0)
    assert account(office, packet.escrow_account_id).credit_balance == 0
    assert office.claim(packet.id, "bob").result is ClaimResult.PACKET_NOT_DELIVERED
    assert all_verified(office)

    scheduler = scheduler_for(office)
    move_to(clock, deliver_at - 1)
    assert scheduler.run_due().ran == 0
    clock.advance(microseconds=1)
    assert scheduler.run_due().done == 1
    delivered = office.packet(packet.id)
    assert delivered.state is PacketState.OPEN
    assert delivered.expires_at_us == deliver_at + 24 * HOUR * 1_000_000
    assert account(office, packet.escrow_account_id).credit_balance == 300_00
    assert office.claim(packet.id, "bob").result is ClaimResult.CLAIMED
    assert event_types(office, packet.id) == [
        "PacketScheduled",
        "PacketDelivered",
        "PacketSent",
        "PacketClaimed",
    ]
    assert all_verified(office)


def test_cancelling_before_delivery_gives_everything_back_without_a_fee(
    office: PacketService, clock: ManualClock
) -> None:
    move_to(clock, beijing(30, 23, 0))
    packet = office.send(to_group("p-undo", "300.00", deliver_at_us=beijing(31, 8, 0)))
    cancelled = office.cancel_scheduled(packet.id, "alice")
    assert cancelled.state is PacketState.CANCELLED
    balance = account(office, "user:alice:balance")
    assert (balance.credit_balance, balance.debits_pending) == (1_000_00, 0)
    move_to(clock, beijing(31, 8, 0))
    assert scheduler_for(office).run_due().done == 1  # the delivery finds it cancelled
    assert office.packet(packet.id).state is PacketState.CANCELLED
    assert account(office, "user:alice:balance").credit_balance == 1_000_00
    assert event_types(office, packet.id) == ["PacketScheduled", "ScheduledSendCancelled"]
    assert all_verified(office)


def test_only_the_sender_cancels_and_only_before_delivery(
    office: PacketService, clock: ManualClock
) -> None:
    move_to(clock, beijing(30, 23, 0))
    packet = office.send(to_group("p-mine", "300.00", deliver_at_us=beijing(31, 8, 0)))
    with pytest.raises(PacketError) as stranger:
        office.cancel_scheduled(packet.id, "bob")
    assert stranger.value.code is PacketCode.NOT_THE_SENDER
    move_to(clock, beijing(31, 8, 0))
    scheduler_for(office).run_due()
    with pytest.raises(PacketError) as late:
        office.cancel_scheduled(packet.id, "alice")
    assert late.value.code is PacketCode.NOT_SCHEDULED
    assert office.packet(packet.id).state is PacketState.OPEN


@pytest.mark.parametrize(
    ("offset_seconds", "code"),
    [
        (-1, PacketCode.DELIVER_AT_PAST),
        (0, PacketCode.DELIVER_AT_PAST),
        (72 * HOUR + 1, PacketCode.DELIVER_AT_TOO_FAR),
        (72 * HOUR, None),
    ],
    ids=["past", "now", "beyond-72h", "72h"],
)
def test_a_delivery_time_is_after_now_and_at_most_the_policys_delay_ahead(
    office: PacketService, offset_seconds: int, code: PacketCode | None
) -> None:
    deliver_at = office.clock.now_us() + offset_seconds * 1_000_000
    command = to_group("p-when", "10.00", deliver_at_us=deliver_at)
    if code is None:
        assert office.send(command).state is PacketState.SCHEDULED
        return
    with pytest.raises(PacketError) as refused:
        office.send(command)
    assert refused.value.code is code


def test_a_delayed_card_send_holds_the_card_until_its_window_after_delivery(
    office: PacketService, clock: ManualClock
) -> None:
    funding = FundingService(office.database, office.clock)
    masked = mask_card_number("4111111111111111")
    funding.add_funding_source(DebitCardSource("alice-debit", "alice", "ICBC", masked))
    move_to(clock, beijing(30, 23, 0))
    deliver_at = beijing(31, 8, 0)
    command = SendPacket(
        "p-card",
        PacketType.GROUP_NORMAL,
        "alice",
        Money.parse("300.00", "CNY"),
        2,
        "alice-debit",
        group_id="office",
        deliver_at_us=deliver_at,
    )
    packet = office.send(command)
    hold = office.authorization(packet.id)
    assert hold is not None
    assert hold.window_ends_at_us == deliver_at + 15 * 60 * 1_000_000
    assert hold.backstop_at_us == beijing(30, 23, 0) + 168 * HOUR * 1_000_000
    card = account(office, "card:alice-debit")
    assert (card.debits_pending, card.debits_posted) == (300_00, 0)

    cancelled = office.cancel_scheduled(packet.id, "alice")
    assert cancelled.state is PacketState.CANCELLED
    card = account(office, "card:alice-debit")
    assert (card.debits_pending, card.debits_posted) == (0, 0)  # voided: nothing charged
    released = office.authorization(packet.id)
    assert released is not None
    assert released.state is AuthorizationState.RELEASED
    move_to(clock, deliver_at + 16 * 60 * 1_000_000)
    scheduler_for(office).run_due()
    assert account(office, "card:alice-debit").debits_posted == 0
    assert all_verified(office)


def test_a_high_regret_score_stops_a_send_whatever_the_hour(
    office: PacketService, clock: ManualClock
) -> None:
    """Bob recalled 9 of the 10 packets he sent, all to carol, 10 yuan each: 50 yuan to her at
    noon asks for confirmation, for its regret score alone (2 x 224 for the rates, 150 for
    five times his usual amount: 598 of 1000)."""
    move_to(clock, beijing(30, 12, 0))
    office.database.transact(
        lambda uow: uow.packets.count_habits(
            [
                SendHabits("bob", EVERYONE, 10, 9, 100_00, clock.now_us()),
                SendHabits("bob", person_audience("carol"), 10, 9, 100_00, clock.now_us()),
            ]
        )
    )
    command = SendPacket(
        "p-again", PacketType.PERSONAL, "bob", Money.parse("50.00", "CNY"), 1, "bob-balance",
        recipient_id="carol",
    )  # fmt: skip # the command's fields, grouped as a send names them
    stop = office.send_guarded(command)
    assert isinstance(stop, GuardStop)
    assert stop.decision.reason_list() == [GuardReason.REGRET_SCORE]
    regret = stop.decision.signal_map()["regret"]
    assert (regret["score"], regret["threshold"]) == (598, 500)
    assert {term["term"] for term in regret["terms"]} == {
        "recall_rate",
        "audience_recall_rate",
        "night",
        "unusual_amount",
    }


def test_sends_and_recalls_count_in_the_senders_habits(
    office: PacketService, clock: ManualClock
) -> None:
    """The counters the score reads are kept by the sends and the recalls themselves."""
    office.send(to_group("p-a", "10.00"))
    packet = office.send(to_group("p-b", "30.00", group="games"))

    def recall(uow: object) -> None:
        locked = uow.packets.packets.lock(packet.id)  # type: ignore[attr-defined]
        plan = office.refund_plan(uow, locked, clock.now_us())  # type: ignore[arg-type]
        office.close_for_recall(uow, locked, plan, clock.now_us())  # type: ignore[arg-type]

    office.database.transact(recall)
    habits = office.database.read(
        lambda uow: uow.packets.habits.get_many(
            [("alice", EVERYONE), ("alice", "group:office"), ("alice", "group:games")]
        )
    )
    counted = {
        key[1]: (row.sends, row.recalls, row.amount_sum_minor) for key, row in habits.items()
    }
    assert counted == {
        EVERYONE: (2, 1, 40_00),
        "group:office": (1, 0, 10_00),
        "group:games": (1, 1, 30_00),
    }
