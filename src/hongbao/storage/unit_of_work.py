"""The unit of work storage hands out: every context's tables in one transaction.

Each context types its services against a protocol of just the tables it uses
(``hongbao.packets.ports.UnitOfWork`` and so on); this one has them all, so a database that
hands it out serves every context. Entry points, the wiring and tests name it.
"""

from __future__ import annotations

from typing import Protocol, TypeAlias

from hongbao.distribution.ports import DistributionTables
from hongbao.funding.ports import FundingTables
from hongbao.identity.ports import IdentityRepository
from hongbao.ledger.ports import LedgerRepository
from hongbao.packets.ports import PacketTables
from hongbao.platform.outbox import OutboxRepository
from hongbao.platform.scheduler import DueWorkRepository
from hongbao.platform.unit_of_work import Database as DatabasePort
from hongbao.recall.ports import RecallTables
from hongbao.refunds.ports import RefundRepository
from hongbao.risk.ports import RiskTables
from hongbao.social.ports import SocialTables
from hongbao.storage.api_tables import ApiTables
from hongbao.storage.measure_tables import StoredMeasureTables
from hongbao.support.ports import SupportTables


class UnitOfWork(Protocol):
    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def identity(self) -> IdentityRepository: ...

    @property
    def funding(self) -> FundingTables: ...

    @property
    def social(self) -> SocialTables: ...

    @property
    def risk(self) -> RiskTables: ...

    @property
    def scheduler(self) -> DueWorkRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def packets(self) -> PacketTables: ...

    @property
    def recalls(self) -> RecallTables: ...

    @property
    def refunds(self) -> RefundRepository: ...

    @property
    def distribution(self) -> DistributionTables: ...

    @property
    def api(self) -> ApiTables: ...

    @property
    def support(self) -> SupportTables: ...

    @property
    def measures(self) -> StoredMeasureTables: ...


Database: TypeAlias = DatabasePort[UnitOfWork]
