"""The refund desk: the scheduler's refund work, the operator's actions and the tracking view.

Settlement runs as a scheduler handler (at least once, each in its own transaction);
an operator credits a failed payout to the sender's balance; anyone may ask where their own
refunds stand (R-F6), including money frozen until a money-market confirmation (R-F3).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hongbao.fx import NoRates, RateProvider
from hongbao.platform.clock import Clock
from hongbao.policy.store import PolicyStore
from hongbao.refunds.errors import RefundCode
from hongbao.refunds.network import CardNetwork, SimulatedCardNetwork
from hongbao.refunds.ports import Database, UnitOfWork
from hongbao.refunds.records import Refund, RefundState
from hongbao.refunds.settlement import RefundRefused, credit_to_balance, settle

MAX_LISTED = 1_000


@dataclass
class RefundDesk:
    database: Database
    clock: Clock
    policies: PolicyStore = field(default_factory=PolicyStore.fixed)
    rates: RateProvider = field(default_factory=NoRates)
    network: CardNetwork = field(default_factory=SimulatedCardNetwork)

    # ------------------------------------------------------------------- scheduler work

    def settle_handler(self, uow: UnitOfWork, payload: dict[str, object], now_us: int) -> None:
        """A refund is due: pay it out (cards through the network) and let it arrive."""
        settle(uow, str(payload["refund_id"]), now_us, self.network, self.policies.active().refunds)

    # -------------------------------------------------------------------------- operator

    def credit_to_balance(self, refund_id: str, operator_id: str) -> Refund:
        """Turn a failed payout into a credit to the sender's balance (never lost, R-F6)."""
        return self.database.transact(
            lambda uow: credit_to_balance(uow, refund_id, operator_id, self.clock.now_us())
        )

    # --------------------------------------------------------------------------- queries

    def refund(self, refund_id: str) -> Refund:
        found = self.database.read(lambda uow: uow.refunds.get(refund_id))
        if found is None:
            raise RefundRefused(f"no refund {refund_id!r}", code=RefundCode.UNKNOWN_REFUND)
        return found

    def in_state(self, state: RefundState, limit: int = 100) -> list[Refund]:
        """Operators: refunds in one state, oldest first."""
        limit = max(1, min(limit, MAX_LISTED))
        return self.database.read(lambda uow: uow.refunds.in_state(state, limit=limit))

    def of_owner(self, owner_id: str, limit: int = 100) -> list[Refund]:
        """A sender's refunds, oldest first: where each one's money is and when it arrives."""
        limit = max(1, min(limit, MAX_LISTED))
        return self.database.read(lambda uow: uow.refunds.of_owner(owner_id, limit=limit))

    def of_packet(self, packet_id: str) -> list[Refund]:
        return self.database.read(lambda uow: uow.refunds.of_packet(packet_id, limit=2))
