"""A budget-funded packet's unclaimed money clears back level by level (R-F5) when it expires:
through a closed sub-distributor budget to its open parent, every hop a ledger transfer in the
expiry's transaction, the whole path on the refund's trace."""

from __future__ import annotations

import pytest

from hongbao.distribution.service import DistributionService
from hongbao.funding.service import open_balance
from hongbao.identity.service import IdentityService
from hongbao.identity.users import AccountTier, RealNameStatus, User, UserType
from hongbao.identity.verification import SimulatedProvider
from hongbao.ledger.model import TransferRequest
from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.model import PacketState, PacketType
from hongbao.packets.service import EXPIRE_KIND, PacketService, SendPacket
from hongbao.platform.clock import ManualClock
from hongbao.platform.scheduler import Scheduler
from hongbao.refunds.desk import RefundDesk
from hongbao.refunds.records import RefundState, RefundTrigger
from hongbao.refunds.routes import RefundRoute
from hongbao.refunds.verification import verify_refunds
from tests.conftest import START_US


def cny(minor: int) -> Money:
    return Money.of(minor, "CNY")


@pytest.fixture
def budgets(world: PacketService) -> DistributionService:
    """acme (enterprise) -> b-1 held by alice (300.00) -> b-2 held by bob (100.00)."""
    identity = IdentityService(
        world.database, world.clock, SimulatedProvider(b"p" * 32), on_register=(open_balance,)
    )
    identity.register_user(
        User(
            "acme",
            "Acme Ltd",
            AccountTier.ENTERPRISE,
            UserType.ENTERPRISE,
            START_US,
            RealNameStatus.VERIFIED,
        )
    )
    Ledger(world.database, world.clock).transfer(
        TransferRequest("acme-top-up", 1, 5_000_00, "bank", "user:acme:balance", "CNY")
    )
    service = DistributionService(world.database, world.clock)
    service.open_root("b-0", "acme", cny(1_000_00))
    service.allocate("b-1", "b-0", "alice", cny(300_00))
    service.allocate("b-2", "b-1", "bob", cny(100_00))
    return service


def test_an_expired_budget_packet_clears_back_through_a_closed_budget_to_its_parent(
    world: PacketService, budgets: DistributionService, clock: ManualClock
) -> None:
    world.send(
        SendPacket(
            "p-b", PacketType.GROUP_NORMAL, "bob", cny(30_00), 3, "budget:b-2", group_id="friends"
        )
    )
    world.claim("p-b", "carol")
    budgets.close("b-2")  # its other 70.00 goes back to b-1 now; the packet's 20.00 later
    assert budgets.balance("b-1").minor == 270_00
    clock.advance(seconds=24 * 3600)
    scheduler = Scheduler(world.database, clock)
    scheduler.register(EXPIRE_KIND, world.expire_handler)
    assert scheduler.run_due().done == 1
    assert world.packet("p-b").state is PacketState.EXPIRED
    refund = RefundDesk(world.database, clock).refund("expiry:p-b")
    assert (refund.route, refund.state, refund.trigger) == (
        RefundRoute.DISTRIBUTION,
        RefundState.SETTLED,
        RefundTrigger.EXPIRY,
    )
    assert refund.destination_account_id == "budget:b-1"
    assert [(hop.from_account_id, hop.to_account_id, hop.amount_minor) for hop in refund.hops] == [
        ("escrow:p-b", "budget:b-2", 10_00 * 2),
        ("budget:b-2", "budget:b-1", 10_00 * 2),
    ]
    assert budgets.balance("b-2").minor == 0
    assert budgets.balance("b-1").minor == 290_00
    assert Ledger(world.database, clock).verify().ok
    assert world.verify().ok
    assert world.database.read(verify_refunds).ok
