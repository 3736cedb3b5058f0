"""The distribution context's tables (budgets), on SQL and in memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hongbao.distribution.model import Budget, BudgetState
from hongbao.platform.records import RecordTable
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable
from hongbao.storage.sql_dialect import SqlDialect


@dataclass(frozen=True)
class StoredDistributionTables:
    """:class:`hongbao.distribution.ports.DistributionTables` on SQL or in memory."""

    budgets: RecordTable[Budget]

    def children_of(self, budget_id: str, *, limit: int) -> list[Budget]:
        return self.budgets.where("parent_id", budget_id, limit=limit, order_by="created_at_us")

    def open_children_of(self, budget_id: str, *, limit: int) -> list[Budget]:
        return self.budgets.find({"parent_id": budget_id, "state": BudgetState.OPEN}, limit=limit)


def sql_distribution_tables(dialect: SqlDialect) -> StoredDistributionTables:
    return StoredDistributionTables(budgets=SqlRecordTable(dialect, "budgets", Budget, ("id",)))


def in_memory_distribution_tables(
    store: dict[str, dict[tuple[Any, ...], Any]],
) -> StoredDistributionTables:
    return StoredDistributionTables(
        budgets=InMemoryRecordTable(store.setdefault("budgets", {}), Budget, ("id",))
    )
