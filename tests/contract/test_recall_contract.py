"""Recalls on every adapter: decided and executed in one transaction, exactly once per key."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hongbao.funding.service import FundingService, open_balance
from hongbao.funding.sources import DebitCardSource, mask_card_number
from hongbao.identity.devices import Device, DeviceFingerprint, FormFactor, Platform, VendorSkin
from hongbao.identity.service import IdentityService
from hongbao.identity.verification import (
    AnswerAttempt,
    ChallengeKind,
    ChallengeRequest,
    ChallengeState,
    OperatorContext,
    SimulatedProvider,
)
from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.authorization import AuthorizationState
from hongbao.packets.model import PacketState, PacketType
from hongbao.packets.service import ClaimResult, PacketService, SendPacket
from hongbao.platform.clock import ManualClock
from hongbao.policy.document import default_policy
from hongbao.policy.store import PolicyStore
from hongbao.recall.gather import recall_purpose
from hongbao.recall.model import DecisionResult
from hongbao.recall.reasons import ReasonCode
from hongbao.recall.records import RecallRoute, RecallState
from hongbao.recall.service import RecallCommand, RecallService
from hongbao.refunds.verification import verify_refunds
from tests.conftest import START_US

PHONE = DeviceFingerprint("alice-phone", "alice-sim")
OTHER_PHONE = DeviceFingerprint("alice-old-phone", "alice-sim-2")
PROVIDER_KEY = b"p" * 32
OPERATOR = OperatorContext("ops", is_operator=True)


def without_tier_verification(**class_i: object) -> PolicyStore:
    """The default policy, except class I asks for no SMS (for tests about money, not SMS) and
    takes any other ``class_i`` settings given."""
    policy = default_policy()
    tier = policy.recall.tiers.class_i.model_copy(update={"verification": (), **class_i})
    tiers = policy.recall.tiers.model_copy(update={"class_i": tier})
    recall = policy.recall.model_copy(update={"tiers": tiers})
    return PolicyStore.fixed(policy.model_copy(update={"recall": recall, "version": "test@1"}))


@pytest.fixture
def identity(world: PacketService) -> IdentityService:
    service = IdentityService(
        world.database, world.clock, SimulatedProvider(PROVIDER_KEY), on_register=(open_balance,)
    )
    funding = FundingService(world.database, world.clock)
    for fingerprint in (PHONE, OTHER_PHONE):
        service.register_device(
            Device(
                fingerprint.device_id,
                "alice",
                fingerprint.sim_id,
                Platform.IOS,
                "17.1",
                VendorSkin.NONE,
                "iPhone 15",
                FormFactor.PHONE,
                START_US,
            )
        )
    funding.add_funding_source(
        DebitCardSource("alice-debit", "alice", "ICBC", mask_card_number("4111111111111111"))
    )
    return service


@pytest.fixture
def recalls(world: PacketService, identity: IdentityService) -> RecallService:
    del identity
    return RecallService(world.database, world.clock, world, without_tier_verification())


def send(world: PacketService, packet_id: str = "p-1", source: str = "alice-balance") -> str:
    world.send(
        SendPacket(
            packet_id,
            PacketType.GROUP_NORMAL,
            "alice",
            Money.of(30_00, "CNY"),
            3,
            source,
            group_id="friends",
            device=PHONE,
        )
    )
    return packet_id


def recall(
    service: RecallService,
    key: str,
    packet_id: str = "p-1",
    *,
    device: DeviceFingerprint = PHONE,
    user: str = "alice",
    challenges: tuple[str, ...] = (),
):
    return service.recall(RecallCommand(key, packet_id, user, device, challenges))


def balance(world: PacketService, user: str) -> int:
    return Ledger(world.database, world.clock).account(f"user:{user}:balance").credit_balance


def all_invariants_hold(world: PacketService) -> bool:
    refunds = world.database.read(verify_refunds)
    return Ledger(world.database, world.clock).verify().ok and world.verify().ok and refunds.ok


def test_an_allowed_recall_returns_the_remainder_and_stops_claims(
    world: PacketService, recalls: RecallService
) -> None:
    send(world)
    world.claim("p-1", "bob")
    before = balance(world, "alice")
    outcome = recall(recalls, "k-1")
    assert outcome.decision.result is DecisionResult.ALLOW
    assert (outcome.recall.state, outcome.recall.route) == (RecallState.DONE, RecallRoute.REFUND)
    assert outcome.recall.recalled_minor == 20_00
    assert balance(world, "alice") == before + 20_00
    assert world.packet("p-1").state is PacketState.RECALLED
    assert world.claim("p-1", "carol").result is ClaimResult.PACKET_RECALLED
    assert all_invariants_hold(world)


def test_a_repeated_key_returns_the_first_outcome_and_moves_money_once(
    world: PacketService, recalls: RecallService
) -> None:
    send(world)
    first = recall(recalls, "k-1")
    after = balance(world, "alice")
    again = recall(recalls, "k-1")
    assert again == first
    assert balance(world, "alice") == after
    assert recalls.status("k-1") == first


def test_a_second_key_for_the_same_packet_is_told_it_was_already_recalled(
    world: PacketService, recalls: RecallService
) -> None:
    send(world)
    recall(recalls, "k-1")
    second = recall(recalls, "k-2")
    assert second.recall.state is RecallState.DENIED
    assert ReasonCode.ALREADY_RECALLED in second.decision.reasons
    assert all_invariants_hold(world)


def test_a_key_reused_for_another_packet_is_refused(
    world: PacketService, recalls: RecallService
) -> None:
    send(world)
    send(world, "p-2")
    recall(recalls, "k-1")
    with pytest.raises(Exception, match="another recall") as refused:
        recall(recalls, "k-1", "p-2")
    assert getattr(refused.value, "code", None) == "recalls.key_reused"


def test_only_the_sender_from_the_sending_device_may_recall(
    world: PacketService, recalls: RecallService
) -> None:
    send(world)
    by_bob = recall(recalls, "k-bob", user="bob")
    from_other_phone = recall(recalls, "k-other", device=OTHER_PHONE)
    assert ReasonCode.NOT_SENDER in by_bob.decision.reasons
    assert ReasonCode.NOT_SENDING_DEVICE in from_other_phone.decision.reasons
    assert world.packet("p-1").state is PacketState.OPEN


def test_inside_the_card_window_a_recall_voids_the_hold_and_charges_only_claims(
    world: PacketService, recalls: RecallService
) -> None:
    send(world, source="alice-debit")
    world.claim("p-1", "bob")
    outcome = recall(recalls, "k-1")
    assert outcome.recall.route is RecallRoute.VOID_HOLD
    card = Ledger(world.database, world.clock).account("card:alice-debit")
    assert (card.debits_pending, card.debits_posted) == (0, 10_00)
    hold = world.authorization("p-1")
    assert hold is not None
    assert hold.state is AuthorizationState.RELEASED
    assert all_invariants_hold(world)


def test_after_the_card_window_a_recall_is_a_refund_back_to_the_card(
    world: PacketService, recalls: RecallService, clock: ManualClock
) -> None:
    """R-F1: the card was charged at the capture, so the money goes back to it (through
    refund clearing, see the refund routes contract)."""
    send(world, source="alice-debit")
    clock.advance(seconds=15 * 60)
    before = balance(world, "alice")
    outcome = recall(recalls, "k-1")
    assert outcome.recall.route is RecallRoute.REFUND
    assert outcome.recall.refund_id == "recall:p-1"
    assert Ledger(world.database, world.clock).account("card:alice-debit").debits_posted == 30_00
    assert Ledger(world.database, world.clock).account("clearing:CNY").credit_balance == 30_00
    assert balance(world, "alice") == before
    assert all_invariants_hold(world)


def lagging_recalls(world: PacketService, lag_seconds: int) -> RecallService:
    """The recall service of another process on the same database, whose clock is
    ``lag_seconds`` behind the clock that stamped the sends."""
    behind = ManualClock(world.clock.now_us() - lag_seconds * 1_000_000)
    packets = PacketService(world.database, behind, world.policies, world.rates)
    return RecallService(world.database, behind, packets, without_tier_verification())


def test_a_recall_decided_before_the_send_time_by_a_lagging_clock_refunds_and_never_faults(
    world: PacketService, recalls: RecallService
) -> None:
    """A process whose clock is 2 s behind the sender's used to find no refund plan (the
    packet was not sent yet by its clock), allow the recall, then fail carrying it out with
    ``a recall after the card window has its refund plan`` and roll back."""
    del recalls
    send(world)
    before = balance(world, "alice")
    outcome = recall(lagging_recalls(world, 2), "k-1")
    assert outcome.decision.result is DecisionResult.ALLOW
    assert outcome.recall.route is RecallRoute.REFUND
    assert balance(world, "alice") == before + 30_00
    assert all_invariants_hold(world)


@pytest.mark.parametrize(
    ("offset_us", "route"),
    [
        (-1, RecallRoute.VOID_HOLD),
        (0, RecallRoute.REFUND),
        (1, RecallRoute.REFUND),
    ],
)
def test_at_the_card_window_boundary_the_plan_and_the_execution_agree(
    world: PacketService, recalls: RecallService, offset_us: int, route: RecallRoute
) -> None:
    """The window closes at its end's first microsecond: one microsecond before it the hold is
    voided, from it on the charge is refunded; the decision's plan and what is carried out
    follow the one moment the recall read."""
    del recalls
    send(world, source="alice-debit")
    hold = world.authorization("p-1")
    assert hold is not None
    clock_at = ManualClock(hold.window_ends_at_us + offset_us)
    packets = PacketService(world.database, clock_at, world.policies, world.rates)
    at_boundary = RecallService(world.database, clock_at, packets, without_tier_verification())
    outcome = recall(at_boundary, "k-1")
    assert outcome.decision.result is DecisionResult.ALLOW
    assert outcome.recall.route is route
    assert (outcome.recall.refund_id is not None) is (route is RecallRoute.REFUND)
    assert all_invariants_hold(world)


def test_a_card_recall_by_a_clock_behind_the_send_voids_the_hold(
    world: PacketService, recalls: RecallService
) -> None:
    del recalls
    send(world, source="alice-debit")
    outcome = recall(lagging_recalls(world, 2), "k-1")
    assert outcome.recall.route is RecallRoute.VOID_HOLD
    assert all_invariants_hold(world)


def test_a_class_i_recall_asks_for_an_sms_code_and_executes_once_it_is_given(
    world: PacketService, identity: IdentityService
) -> None:
    recalls = RecallService(world.database, world.clock, world)  # the default policy
    send(world)
    asked = recall(recalls, "k-1")
    assert asked.recall.state is RecallState.CHALLENGED
    assert asked.decision.challenges == (ChallengeKind.SMS_CODE,)
    purpose = recall_purpose("p-1", world.packet("p-1").remainder_minor)
    challenge = identity.open_challenge(
        ChallengeRequest("ch-1", ChallengeKind.SMS_CODE, "alice", PHONE, purpose)
    )
    code = identity.operator_reveal_code(challenge.challenge_id, OPERATOR)
    identity.answer_challenge(challenge.challenge_id, AnswerAttempt("alice", PHONE, purpose, code))
    done = recall(recalls, "k-1", challenges=("ch-1",))
    assert done.recall.state is RecallState.DONE
    assert identity.challenge("ch-1").state is ChallengeState.CONSUMED
    assert recall(recalls, "k-1", challenges=("ch-1",)) == done
    assert all_invariants_hold(world)


def test_the_sixth_recall_of_a_day_for_class_i_is_denied_until_tomorrow(
    world: PacketService, recalls: RecallService
) -> None:
    for number in range(6):
        world.send(
            SendPacket(
                f"p-{number}",
                PacketType.PERSONAL,
                "alice",
                Money.of(1_00, "CNY"),
                1,
                "alice-balance",
                recipient_id="bob",
                device=PHONE,
            )
        )
    results = []
    for n in range(6):
        # 16 minutes apart: never 5 attempts in one hour, which would ask for a face (R-K2).
        world.clock.advance(seconds=16 * 60)  # type: ignore[attr-defined]
        results.append(recall(recalls, f"k-{n}", f"p-{n}").recall.state)
    assert results == [RecallState.DONE] * 5 + [RecallState.DENIED]
    denied = recalls.status("k-5")
    assert ReasonCode.DAILY_COUNT_REACHED in denied.decision.reasons


def test_every_evaluation_is_recorded_and_replays_to_the_same_decision(
    world: PacketService, recalls: RecallService
) -> None:
    send(world)
    asked = recalls.eligibility("p-1", "alice", PHONE)
    record, stored = recalls.decision(asked.decision_id)
    assert stored == asked
    assert record.policy_version == "test@1"
    replayed = recalls.replay(asked.decision_id)
    assert (replayed.result, replayed.outcomes) == (asked.result, asked.outcomes)


def test_a_packet_whose_escrow_disagrees_is_denied_and_opens_one_incident(
    world: PacketService, recalls: RecallService
) -> None:
    send(world)

    def tamper(uow: object) -> None:
        packets = uow.packets  # type: ignore[attr-defined]
        packet = packets.packets.get("p-1")
        packets.packets.replace(replace(packet, total_minor=packet.total_minor + 1))

    world.database.transact(tamper)
    first = recall(recalls, "k-1")
    recall(recalls, "k-2")
    assert ReasonCode.ESCROW_MISMATCH in first.decision.reasons
    incidents = world.database.read(lambda uow: uow.recalls.incidents.get("escrow:p-1"))
    assert incidents is not None
    assert incidents.state == "open"
    assert incidents.decision_id == first.decision.decision_id


def test_a_challenged_recall_opens_its_checks_and_a_repeat_after_answering_executes(
    world: PacketService, identity: IdentityService
) -> None:
    """The lossy-device flow: the recall opens the SMS check itself; the client answers it and
    repeats the same request (same key, no ids needed), which executes once."""
    recalls = RecallService(
        world.database, world.clock, world, provider=SimulatedProvider(PROVIDER_KEY)
    )
    send(world)
    asked = recall(recalls, "k-1")
    assert asked.recall.state is RecallState.CHALLENGED
    (challenge_id,) = asked.recall.challenge_ids
    assert recall(recalls, "k-1").recall.challenge_ids == (challenge_id,)  # kept, not reopened
    purpose = asked.recall.challenge_purpose
    assert purpose == recall_purpose("p-1", 30_00)
    code = identity.operator_reveal_code(challenge_id, OPERATOR)
    identity.answer_challenge(challenge_id, AnswerAttempt("alice", PHONE, purpose, code))
    done = recall(recalls, "k-1")
    assert done.recall.state is RecallState.DONE
    assert identity.challenge(challenge_id).state is ChallengeState.CONSUMED
    assert all_invariants_hold(world)


def test_a_shadow_policy_is_evaluated_and_recorded_but_never_acted_on(
    world: PacketService, identity: IdentityService
) -> None:
    """The active policy allows; a stricter shadow (no recalls for class I) denies: the recall
    executes, and the shadow's denial is on record beside it."""
    del identity  # registers the sending device
    active = without_tier_verification().active()
    stricter = (
        without_tier_verification(daily_count=0)
        .active()
        .model_copy(update={"version": "stricter@1"})
    )
    recalls = RecallService(
        world.database, world.clock, world, PolicyStore.fixed(active, shadow=stricter)
    )
    send(world)
    outcome = recall(recalls, "k-1")
    assert outcome.recall.state is RecallState.DONE

    def records(uow: object) -> list[tuple[str, bool, str]]:
        decisions = uow.recalls.decisions  # type: ignore[attr-defined]
        found = decisions.where("packet_id", "p-1", limit=10)
        return sorted((d.policy_version, d.shadow, d.result.value) for d in found)

    assert world.database.read(records) == [
        ("stricter@1", True, "deny"),
        ("test@1", False, "allow"),
    ]
