"""Shared setting for the packet contract tests: four people, a group and a funded sender."""

from __future__ import annotations

import pytest

from hongbao.funding.service import open_balance
from hongbao.identity.service import IdentityService
from hongbao.identity.users import AccountTier, RealNameStatus, User, UserType
from hongbao.identity.verification import SimulatedProvider
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.service import Ledger
from hongbao.packets.service import PacketService
from hongbao.platform.clock import ManualClock
from hongbao.social.groups import Group, GroupMember, GroupType
from hongbao.social.service import SocialService
from hongbao.storage.unit_of_work import Database
from tests.conftest import START_US

PEOPLE = ("alice", "bob", "carol", "dave")


@pytest.fixture
def world(database: Database, clock: ManualClock) -> PacketService:
    identity = IdentityService(
        database, clock, SimulatedProvider(b"p" * 32), on_register=(open_balance,)
    )
    social = SocialService(database, clock)
    for name in PEOPLE:
        identity.register_user(
            User(
                name,
                name.title(),
                AccountTier.CLASS_I,
                UserType.NORMAL,
                START_US,
                RealNameStatus.VERIFIED,
            )
        )
    social.create_group(Group("friends", "Friends", GroupType.FAMILY, "alice", START_US))
    for name in ("bob", "carol"):
        social.add_member(GroupMember("friends", name, START_US))
    ledger = Ledger(database, clock)
    ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    ledger.transfer(TransferRequest("top-up", 1, 1_000_00, "bank", "user:alice:balance", "CNY"))
    return PacketService(database, clock)
