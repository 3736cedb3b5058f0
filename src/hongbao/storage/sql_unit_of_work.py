"""One unit of work for every SQL engine: the repositories of each context over one dialect.

The engines differ only in the dialect, the ledger repository (PostgreSQL writes a unit in one
statement) and whether claims may skip rows other workers hold; a new context is added here
once, not per engine.
"""

from __future__ import annotations

import functools

from hongbao.storage.api_tables import ApiTables, sql_api_tables
from hongbao.storage.distribution_tables import StoredDistributionTables, sql_distribution_tables
from hongbao.storage.funding_tables import StoredFundingTables, sql_funding_tables
from hongbao.storage.identity_tables import IdentityTables, sql_identity_tables
from hongbao.storage.measure_tables import StoredMeasureTables, sql_measure_tables
from hongbao.storage.packet_tables import StoredPacketTables, sql_packet_tables
from hongbao.storage.recall_tables import StoredRecallTables, sql_recall_tables
from hongbao.storage.refund_tables import RecordRefunds, sql_refunds
from hongbao.storage.risk_tables import StoredRiskTables, sql_risk_tables
from hongbao.storage.social_tables import StoredSocialTables, sql_social_tables
from hongbao.storage.sql_dialect import SqlDialect
from hongbao.storage.sql_ledger import SqlLedgerRepository
from hongbao.storage.sql_outbox import SqlOutboxRepository
from hongbao.storage.sql_scheduler import SqlDueWorkRepository
from hongbao.storage.support_tables import StoredSupportTables, sql_support_tables


class SqlUnitOfWork:
    def __init__(
        self, dialect: SqlDialect, ledger: SqlLedgerRepository, *, skip_locked: bool
    ) -> None:
        self._dialect = dialect
        self._skip_locked = skip_locked
        self.ledger = ledger

    @functools.cached_property
    def identity(self) -> IdentityTables:
        return sql_identity_tables(self._dialect)

    @functools.cached_property
    def funding(self) -> StoredFundingTables:
        return sql_funding_tables(self._dialect)

    @functools.cached_property
    def social(self) -> StoredSocialTables:
        return sql_social_tables(self._dialect)

    @functools.cached_property
    def risk(self) -> StoredRiskTables:
        return sql_risk_tables(self._dialect)

    @functools.cached_property
    def packets(self) -> StoredPacketTables:
        return sql_packet_tables(self._dialect)

    @functools.cached_property
    def recalls(self) -> StoredRecallTables:
        return sql_recall_tables(self._dialect)

    @functools.cached_property
    def refunds(self) -> RecordRefunds:
        return sql_refunds(self._dialect)

    @functools.cached_property
    def distribution(self) -> StoredDistributionTables:
        return sql_distribution_tables(self._dialect)

    @functools.cached_property
    def api(self) -> ApiTables:
        return sql_api_tables(self._dialect)

    @functools.cached_property
    def support(self) -> StoredSupportTables:
        return sql_support_tables(self._dialect)

    @functools.cached_property
    def measures(self) -> StoredMeasureTables:
        return sql_measure_tables(self._dialect)

    @functools.cached_property
    def outbox(self) -> SqlOutboxRepository:
        return SqlOutboxRepository(self._dialect, skip_locked=self._skip_locked)

    @functools.cached_property
    def scheduler(self) -> SqlDueWorkRepository:
        return SqlDueWorkRepository(self._dialect, skip_locked=self._skip_locked)
