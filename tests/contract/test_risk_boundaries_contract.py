"""Risk rules at their boundaries on real recalls, on every adapter (R-K1, R-K2, R-K5): the
cumulative rule at 9,999.99 against 10,000.00 yuan with the money held until a reviewer
releases it, the travel rule at 299 against 301 km, a travel whitelist valid against expired,
and the risk decision's exemptions and policy version in the recorded explanation."""

from __future__ import annotations

import json

import pytest

from hongbao.identity.exemptions import Exemption, ExemptionKind, SubjectKind
from hongbao.identity.service import IdentityService
from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import PacketService, SendPacket
from hongbao.recall.reasons import ReasonCode
from hongbao.recall.records import RecallState
from hongbao.recall.review import ReviewDesk
from hongbao.refunds.records import RefundState
from hongbao.refunds.settlement import risk_hold_account
from hongbao.refunds.verification import verify_refunds
from hongbao.risk.profile import MICROSECONDS_PER_DAY, RiskProfile
from tests.conftest import START_US
from tests.contract.test_risk_contract import (
    PHONE,
    balance,
    identity,
    policy,
    recall,
    recalls_with,
    send,
)

__all__ = ["identity"]  # the fixture, shared with the rules' other contract tests
HOUR_US = 3_600_000_000
START = "30.000000,120.000000"
KM_299 = "32.693464,120.000000"  # 299.5 km due north of START
KM_301 = "32.711451,120.000000"  # 301.5 km due north of START


def recalled_yesterday(world: PacketService, minor: int) -> None:
    """Alice recalled ``minor`` yesterday (UTC), as her risk profile keeps it."""
    yesterday = world.clock.now_us() // MICROSECONDS_PER_DAY - 1
    profile = RiskProfile("alice", recalled=json.dumps({str(yesterday): minor}))
    world.database.transact(lambda uow: uow.risk.profiles.insert(profile))


def send_to_bob(world: PacketService, packet_id: str, amount_minor: int) -> str:
    world.send(
        SendPacket(
            packet_id,
            PacketType.PERSONAL,
            "alice",
            Money.of(amount_minor, "CNY"),
            1,
            "alice-balance",
            recipient_id="bob",
            device=PHONE,
        )
    )
    return packet_id


def test_recalls_reaching_ten_thousand_yuan_are_held_and_one_cent_less_is_not(
    world: PacketService, identity: IdentityService
) -> None:
    """9,999.99 yuan in 30 days goes back at once; the cent that makes 10,000.00 waits in the
    risk-hold account, the ledger balanced, until a reviewer releases it."""
    del identity
    recalls = recalls_with(world, policy())
    recalled_yesterday(world, 10_000_00 - 1 - 30_00)
    before = balance(world)
    under = recall(recalls, "k-1", send(world, "p-1", 30_00))
    assert under.recall.state is RecallState.DONE
    assert balance(world) == before  # 9,999.99: back at once
    at = recall(recalls, "k-2", send_to_bob(world, "p-2", 1))
    assert at.recall.state is RecallState.DONE
    assert ReasonCode.RISK_HOLD not in at.decision.reasons
    refund = world.database.read(lambda uow: uow.refunds.get(at.recall.refund_id))
    assert refund is not None
    assert refund.state is RefundState.RISK_HELD
    assert balance(world) == before - 1  # 10,000.00: the cent waits
    ledger = Ledger(world.database, world.clock)
    assert ledger.account(risk_hold_account("CNY")).credit_balance == 1
    assert ledger.verify().ok
    assert world.database.read(verify_refunds).ok
    desk = ReviewDesk(world.database, world.clock, world)
    (case,) = desk.queue()
    desk.release(case.id, "ops-1", "known customer")
    assert balance(world) == before
    assert ledger.account(risk_hold_account("CNY")).credit_balance == 0
    assert ledger.verify().ok
    assert world.database.read(verify_refunds).ok


@pytest.mark.parametrize(("place", "locked"), [(KM_299, False), (KM_301, True)])
def test_a_jump_locks_the_device_from_300_km_and_not_below(
    world: PacketService, identity: IdentityService, place: str, locked: bool
) -> None:
    """Two requests five minutes apart, 299.5 km apart (299 whole km) or 301.5 km (301)."""
    del identity
    recalls = recalls_with(world, policy())
    recall(recalls, "k-1", send(world, "p-1"), START)
    world.clock.advance(seconds=5 * 60)
    moved = recall(recalls, "k-2", send(world, "p-2"), place)
    assert (moved.recall.state is RecallState.DENIED) is locked
    assert (ReasonCode.RISK_LOCK in moved.decision.reasons) is locked
    assert len(ReviewDesk(world.database, world.clock, world).queue()) == int(locked)


@pytest.mark.parametrize(("valid_hours", "locked"), [(48, False), (1, True)])
def test_a_travel_whitelist_lifts_the_lock_only_while_it_is_valid(
    world: PacketService, identity: IdentityService, valid_hours: int, locked: bool
) -> None:
    """A whitelist valid for two days lifts the lock a day later; one that ended an hour
    after it began does not."""
    identity.add_exemption(
        Exemption(
            "trip",
            ExemptionKind.TRAVEL_WHITELIST,
            SubjectKind.USER,
            "alice",
            "business trip",
            START_US,
            START_US + valid_hours * HOUR_US,
        )
    )
    world.clock.advance(seconds=24 * 3600)
    recalls = recalls_with(world, policy())
    recall(recalls, "k-1", send(world, "p-1"), START)
    world.clock.advance(seconds=5 * 60)
    moved = recall(recalls, "k-2", send(world, "p-2"), KM_301)
    assert (moved.recall.state is RecallState.DENIED) is locked
    signals = {
        signal["name"]: signal
        for signal in world.database.read(
            lambda uow: json.loads(uow.recalls.decisions.get(moved.decision.decision_id).facts)
        )["risk"]["signals"]
    }
    travel = signals["travel_km"]
    assert (travel["fired"], travel["exempted_by"]) == (
        (True, None) if locked else (False, "travel_whitelist")
    )


def test_the_recorded_risk_decision_names_its_exemptions_and_policy_version(
    world: PacketService, identity: IdentityService
) -> None:
    """The risk rule's facts, as explanations show them: level, actions, signals that fired,
    the exemption that lifted one, and the policy version."""
    identity.add_exemption(
        Exemption("vip-1", ExemptionKind.VIP, SubjectKind.USER, "alice", "vip", START_US, None)
    )
    recalls = recalls_with(world, policy())
    for number in range(5):
        world.clock.advance(seconds=60)
        fifth = recall(recalls, f"k-{number}", send(world, f"p-{number}"))
    assert fifth.recall.state is RecallState.DONE
    _, decision = recalls.decision(fifth.decision.decision_id)
    (risk,) = (outcome for outcome in decision.outcomes if outcome.rule == "risk_assessment")
    facts = dict(risk.facts)
    assert facts["level"] == 0
    assert facts["exemptions"] == "recall_attempts 5 >= 5 lifted by vip"
    assert facts["risk_policy"] == "risk@1"
