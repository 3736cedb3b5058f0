"""Risk control acting on real recalls, on every adapter (R-K1, R-K2, R-K5): the fifth attempt
in an hour asks for a face, a large cumulative amount holds the refund in the risk-hold account
until a reviewer or its release time, and a jump of hundreds of kilometres locks the device
for sends, claims and recalls until an operator unlocks it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hongbao.funding.service import open_balance
from hongbao.identity.devices import Device, DeviceFingerprint, FormFactor, Platform, VendorSkin
from hongbao.identity.exemptions import Exemption, ExemptionKind, SubjectKind
from hongbao.identity.service import IdentityService
from hongbao.identity.verification import ChallengeKind, SimulatedProvider
from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.errors import PacketCode
from hongbao.packets.model import PacketPurpose, PacketType
from hongbao.packets.service import PacketService, SendPacket
from hongbao.platform.errors import HongbaoError
from hongbao.platform.scheduler import Scheduler
from hongbao.policy.document import default_policy
from hongbao.policy.store import PolicyStore
from hongbao.recall.reasons import ReasonCode
from hongbao.recall.records import RecallState
from hongbao.recall.review import ReviewDesk
from hongbao.recall.service import RecallCommand, RecallOutcome, RecallService
from hongbao.refunds.records import RefundState
from hongbao.refunds.settlement import RECHECK_KIND, RISK_RELEASE_KIND, risk_hold_account
from hongbao.refunds.verification import verify_refunds
from hongbao.risk.cases import CaseKind, CaseState
from hongbao.risk.geo import parse_place
from hongbao.social.groups import Group, GroupType
from hongbao.social.service import SocialService
from tests.conftest import START_US

PHONE = DeviceFingerprint("alice-phone", "alice-sim")
MINUTE = 60


def policy(**risk: object) -> PolicyStore:
    """The default policy without the tier's SMS (these tests are about risk), with ``risk``."""
    base = default_policy()
    tier = base.recall.tiers.class_i.model_copy(update={"verification": ()})
    tiers = base.recall.tiers.model_copy(update={"class_i": tier})
    recall = base.recall.model_copy(update={"tiers": tiers})
    risk_policy = base.risk.model_copy(update=risk)
    return PolicyStore.fixed(
        base.model_copy(update={"recall": recall, "risk": risk_policy, "version": "risk@1"})
    )


@pytest.fixture
def identity(world: PacketService) -> IdentityService:
    service = IdentityService(
        world.database, world.clock, SimulatedProvider(b"p" * 32), on_register=(open_balance,)
    )
    service.register_device(
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
    return service


def recalls_with(world: PacketService, store: PolicyStore) -> RecallService:
    return RecallService(world.database, world.clock, world, store)


def send(world: PacketService, packet_id: str, amount_minor: int = 30_00) -> str:
    world.send(
        SendPacket(
            packet_id,
            PacketType.GROUP_NORMAL,
            "alice",
            Money.of(amount_minor, "CNY"),
            3,
            "alice-balance",
            group_id="friends",
            device=PHONE,
        )
    )
    return packet_id


def recall(
    service: RecallService, key: str, packet_id: str, place: str | None = None
) -> RecallOutcome:
    return service.recall(RecallCommand(key, packet_id, "alice", PHONE, place=parse_place(place)))


def balance(world: PacketService) -> int:
    return Ledger(world.database, world.clock).account("user:alice:balance").credit_balance


def test_the_fifth_attempt_in_an_hour_asks_for_a_face_and_a_vip_is_exempt(
    world: PacketService, identity: IdentityService
) -> None:
    recalls = recalls_with(world, policy())
    states = []
    for number in range(5):
        world.clock.advance(seconds=MINUTE)
        states.append(recall(recalls, f"k-{number}", send(world, f"p-{number}")).recall.state)
    assert states == [RecallState.DONE] * 4 + [RecallState.CHALLENGED]
    fifth = recalls.status("k-4").decision
    assert ReasonCode.RISK_CHALLENGE in fifth.reasons
    assert ChallengeKind.FACE in fifth.challenges
    identity.add_exemption(
        Exemption("vip-1", ExemptionKind.VIP, SubjectKind.USER, "alice", "vip", START_US, None)
    )
    assert recall(recalls, "k-5", send(world, "p-5")).recall.state is RecallState.DONE


def test_a_large_cumulative_amount_holds_the_refund_until_its_release_time(
    world: PacketService, identity: IdentityService
) -> None:
    del identity
    recalls = recalls_with(world, policy(hold_cumulative_amount_minor=50_00, hold_hours=24))
    before = balance(world)
    first = recall(recalls, "k-1", send(world, "p-1"))
    assert balance(world) == before  # 30.00 back, under the 50.00 threshold: not held
    second = recall(recalls, "k-2", send(world, "p-2"))
    assert (first.recall.state, second.recall.state) == (RecallState.DONE, RecallState.DONE)
    held = world.database.read(lambda uow: uow.refunds.get(second.recall.refund_id))
    assert held is not None
    assert held.state is RefundState.RISK_HELD
    assert balance(world) == before - 30_00
    hold = Ledger(world.database, world.clock).account(risk_hold_account("CNY"))
    assert hold.credit_balance == 30_00
    assert world.database.read(verify_refunds).ok
    cases = ReviewDesk(world.database, world.clock, world).queue()
    assert [(c.kind, c.refund_id) for c in cases] == [(CaseKind.HOLD, held.id)]
    scheduler = Scheduler(world.database, world.clock)
    scheduler.register(RECHECK_KIND, world.recheck_handler)
    scheduler.register(RISK_RELEASE_KIND, world.risk_release_handler)
    world.clock.advance(seconds=23 * 3600)
    scheduler.run_due()
    assert balance(world) == before - 30_00  # not yet
    world.clock.advance(seconds=3600)
    scheduler.run_due()
    scheduler.run_due()
    assert balance(world) == before
    released = ReviewDesk(world.database, world.clock, world).case(cases[0].id)
    assert (released.state, released.decided_by) == (CaseState.RELEASED, "release time")
    assert world.database.read(verify_refunds).ok


def test_a_reviewer_releases_a_hold_at_once_or_confirms_it_held(
    world: PacketService, identity: IdentityService
) -> None:
    del identity
    recalls = recalls_with(world, policy(hold_cumulative_amount_minor=10_00))
    desk = ReviewDesk(world.database, world.clock, world)
    before = balance(world)
    recall(recalls, "k-1", send(world, "p-1"))
    recall(recalls, "k-2", send(world, "p-2"))
    first, second = desk.queue()
    released = desk.release(first.id, "ops-1", "known customer")
    assert (released.state, released.decided_by, released.note) == (
        CaseState.RELEASED,
        "ops-1",
        "known customer",
    )
    assert balance(world) == before - 30_00  # one released, one still held
    confirmed = desk.confirm(second.id, "ops-1", "ring pattern", escalate=False)
    assert confirmed.state is CaseState.CONFIRMED
    with pytest.raises(HongbaoError):
        desk.confirm(second.id, "ops-2", "again", escalate=False)
    assert world.database.read(verify_refunds).ok


def test_a_jump_of_hundreds_of_kilometres_locks_the_device_until_an_operator_unlocks_it(
    world: PacketService, identity: IdentityService
) -> None:
    del identity
    recalls = recalls_with(world, policy())
    assert recall(recalls, "k-1", send(world, "p-1"), "31.2304,121.4737").recall.state is (
        RecallState.DONE
    )
    world.clock.advance(seconds=5 * MINUTE)
    jumped = recall(recalls, "k-2", send(world, "p-2"), "39.9042,116.4074")
    assert jumped.recall.state is RecallState.DENIED
    assert ReasonCode.RISK_LOCK in jumped.decision.reasons
    with pytest.raises(HongbaoError) as refused:
        send(world, "p-3")
    assert refused.value.code is PacketCode.DEVICE_LOCKED
    desk = ReviewDesk(world.database, world.clock, world)
    (case,) = desk.queue()
    assert (case.kind, case.device_id) == (CaseKind.LOCK, PHONE.device_id)
    desk.unlock(case.id, "ops-1", "customer on a flight, verified by phone")
    assert send(world, "p-3") == "p-3"


def test_the_travel_whitelist_and_an_unknown_place_never_lock(
    world: PacketService, identity: IdentityService
) -> None:
    recalls = recalls_with(world, policy())
    recall(recalls, "k-1", send(world, "p-1"), "31.2304,121.4737")
    assert recall(recalls, "k-2", send(world, "p-2")).recall.state is RecallState.DONE  # unknown
    identity.add_exemption(
        Exemption(
            "trip",
            ExemptionKind.TRAVEL_WHITELIST,
            SubjectKind.USER,
            "alice",
            "business trip",
            START_US,
            START_US + 7 * 24 * 3600 * 1_000_000,
        )
    )
    world.clock.advance(seconds=MINUTE)
    moved = recall(recalls, "k-3", send(world, "p-3"), "39.9042,116.4074")
    assert moved.recall.state is RecallState.DONE
    assert ReviewDesk(world.database, world.clock, world).queue() == []


def test_a_tuition_payment_to_an_education_group_is_never_held_and_only_goes_there(
    world: PacketService, identity: IdentityService
) -> None:
    """R-K4: the education green channel lifts the cumulative rule for tuition; a tuition
    payment to any other group, or to a person, is refused at send."""
    del identity
    SocialService(world.database, world.clock).create_group(
        Group("class-1", "三年二班", GroupType.EDUCATION, "alice", START_US)
    )
    recalls = recalls_with(world, policy(hold_cumulative_amount_minor=10_00))
    tuition = SendPacket(
        "p-tuition",
        PacketType.GROUP_NORMAL,
        "alice",
        Money.of(30_00, "CNY"),
        3,
        "alice-balance",
        group_id="class-1",
        device=PHONE,
        purpose=PacketPurpose.TUITION,
    )
    for wrong in (
        replace(tuition, packet_id="p-family", group_id="friends"),
        replace(
            tuition,
            packet_id="p-person",
            packet_type=PacketType.PERSONAL,
            shares=1,
            group_id=None,
            recipient_id="bob",
        ),
    ):
        with pytest.raises(HongbaoError) as refused:
            world.send(wrong)
        assert refused.value.code is PacketCode.TUITION_NOT_EDUCATION
    before = balance(world)
    assert world.send(tuition).purpose is PacketPurpose.TUITION
    done = recall(recalls, "k-1", "p-tuition")
    assert done.recall.state is RecallState.DONE
    assert balance(world) == before  # back at once, although over the hold threshold
    assert ReviewDesk(world.database, world.clock, world).queue() == []
