"""The behaviour analysis on real recalls, on every adapter (R-K3): the ``risk-analysis``
consumer links accounts that share a SIM, flags the members of a ring once it has enough of
them, and the flag raises the next recall's level (its refund is held, the case shows the
ring); an event delivered twice is applied once."""

from __future__ import annotations

import json

from hongbao.funding.service import open_balance
from hongbao.identity.devices import Device, DeviceFingerprint, FormFactor, Platform, VendorSkin
from hongbao.identity.service import IdentityService
from hongbao.identity.users import AccountTier, RealNameStatus, User, UserType
from hongbao.identity.verification import SimulatedProvider
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import PacketService, SendPacket
from hongbao.platform.clock import ManualClock
from hongbao.platform.outbox import OutboxEvent, Relay
from hongbao.recall.risk_analysis import RISK_ANALYSIS, RiskAnalysis
from hongbao.recall.service import RecallCommand, RecallOutcome, RecallService
from hongbao.risk.cases import CaseKind
from hongbao.risk.flags import Detector
from hongbao.social.groups import Group, GroupMember, GroupType
from hongbao.social.service import SocialService
from hongbao.storage.unit_of_work import Database, UnitOfWork
from tests.contract.test_risk_contract import policy

SHARED_SIM = "farm-sim"
MINUTE_US = 60_000_000


class Farm:
    """Accounts with phones of their own sharing one SIM, in one group, with money."""

    def __init__(self, database: Database, clock: ManualClock, accounts: int) -> None:
        self.database, self.clock = database, clock
        self.store = policy()
        since = clock.now_us() - 10 * 24 * 60 * MINUTE_US
        identity = IdentityService(
            database, clock, SimulatedProvider(b"f" * 32), on_register=(open_balance,)
        )
        social = SocialService(database, clock)
        ledger = Ledger(database, clock)
        ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
        self.users = [f"farm-{n}" for n in range(accounts)]
        for n, user in enumerate(self.users):
            identity.register_user(
                User(
                    user, user, AccountTier.CLASS_I, UserType.NORMAL, since, RealNameStatus.VERIFIED
                )
            )
            identity.register_device(
                Device(
                    f"{user}-phone",
                    user,
                    SHARED_SIM,
                    Platform.ANDROID,
                    "14",
                    VendorSkin.MIUI,
                    "Xiaomi 13",
                    FormFactor.PHONE,
                    since,
                )
            )
            ledger.transfer(
                TransferRequest(f"top-up-{n}", 1, 1_000_00, "bank", f"user:{user}:balance", "CNY")
            )
        social.create_group(Group("farm", "Farm", GroupType.WORK, self.users[0], since))
        for user in self.users[1:]:
            social.add_member(GroupMember("farm", user, since))
        self.packets = PacketService(database, clock)
        self.recalls = RecallService(database, clock, self.packets, self.store)
        self.relay: Relay[UnitOfWork] = Relay(database, clock)
        self.relay.register(RISK_ANALYSIS, RiskAnalysis(self.store))
        self.sent = 0

    def send_and_recall(self, user: str) -> RecallOutcome:
        self.sent += 1
        packet_id = f"p-{self.sent}"
        device = DeviceFingerprint(f"{user}-phone", SHARED_SIM)
        self.packets.send(
            SendPacket(
                packet_id,
                PacketType.GROUP_NORMAL,
                user,
                Money.of(20_00, "CNY"),
                2,
                f"{user}-balance",
                group_id="farm",
                device=device,
            )
        )
        self.clock.advance(microseconds=20 * MINUTE_US)
        return self.recalls.recall(RecallCommand(f"r-{self.sent}", packet_id, user, device))


def ring_flags(database: Database, users: list[str]) -> dict[str, int]:
    def read(uow: UnitOfWork) -> dict[str, int]:
        found = uow.risk.flags.get_many([(user, Detector.RING.value) for user in users])
        return {key[0]: flag.level for key, flag in found.items()}

    return database.read(read)


def test_four_accounts_sharing_a_sim_are_not_yet_a_ring(
    database: Database, clock: ManualClock
) -> None:
    farm = Farm(database, clock, accounts=4)
    for user in farm.users:
        farm.send_and_recall(user)
    farm.relay.deliver_due()
    assert ring_flags(database, farm.users) == {}


def test_the_fifth_account_makes_a_ring_and_the_flag_holds_the_next_recall(
    database: Database, clock: ManualClock
) -> None:
    farm = Farm(database, clock, accounts=5)
    for user in farm.users:
        assert farm.send_and_recall(user).decision.result.value == "allow"
    assert farm.relay.deliver_due().delivered == 5
    assert ring_flags(database, farm.users) == dict.fromkeys(farm.users, 2)

    held = farm.send_and_recall("farm-0")
    facts = database.read(lambda uow: uow.recalls.decisions.get(held.decision.decision_id))
    assert facts is not None
    risk = json.loads(facts.facts)["risk"]
    assert risk["level"] == 2
    assert [s["name"] for s in risk["signals"] if s["fired"]] == ["ring"]
    cases = database.read(lambda uow: uow.risk.cases_in("open", limit=10))
    (case,) = (c for c in cases if c.kind is CaseKind.HOLD)
    (evidence,) = json.loads(case.evidence)
    assert evidence["name"] == "ring"
    assert evidence["evidence"]["linked_accounts"] == 5


def test_an_event_delivered_twice_is_applied_once(database: Database, clock: ManualClock) -> None:
    farm = Farm(database, clock, accounts=1)
    farm.send_and_recall("farm-0")
    event = database.read(
        lambda uow: next(
            e
            for e in uow.outbox.events_after("recall:r-1", 0, 10)
            if e.event_type == "RecallDecided"
        )
    )
    analysis = RiskAnalysis(farm.store)

    def deliver(uow: UnitOfWork, delivered: OutboxEvent = event) -> None:
        analysis(uow, delivered)

    database.transact(deliver)
    once = database.read(
        lambda uow: (uow.risk.behaviour.get("farm-0"), uow.risk.daily.page(None, limit=5))
    )
    database.transact(deliver)
    twice = database.read(
        lambda uow: (uow.risk.behaviour.get("farm-0"), uow.risk.daily.page(None, limit=5))
    )
    assert once == twice
    behaviour, (tally,) = twice
    assert behaviour is not None
    assert (behaviour.samples, tally.decisions) == (1, 1)
