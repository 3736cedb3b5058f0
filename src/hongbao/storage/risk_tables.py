"""Risk control's tables, on SQL and in memory, with their named reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hongbao.platform.records import RecordTable
from hongbao.risk.cases import DeviceLock, RiskCase
from hongbao.risk.profile import RiskProfile
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable
from hongbao.storage.sql_dialect import SqlDialect

TABLES: dict[str, tuple[str, type[Any], tuple[str, ...]]] = {
    "profiles": ("risk_profiles", RiskProfile, ("user_id",)),
    "locks": ("risk_device_locks", DeviceLock, ("device_id", "sim_id")),
    "cases": ("risk_cases", RiskCase, ("id",)),
}


@dataclass(frozen=True)
class StoredRiskTables:
    """:class:`hongbao.risk.ports.RiskTables` on SQL or in memory."""

    profiles: RecordTable[RiskProfile]
    locks: RecordTable[DeviceLock]
    cases: RecordTable[RiskCase]

    def read_profile(self, user_id: str) -> Callable[[], RiskProfile | None]:
        found = self.profiles.read_many([(user_id,)])
        return lambda: found().get((user_id,))

    def read_lock(self, device_id: str, sim_id: str) -> Callable[[], DeviceLock | None]:
        found = self.locks.read_many([(device_id, sim_id)])
        return lambda: found().get((device_id, sim_id))

    def cases_in(self, state: str, *, limit: int) -> list[RiskCase]:
        return self.cases.where("state", state, limit=limit, order_by="opened_at_us")


def sql_risk_tables(dialect: SqlDialect) -> StoredRiskTables:
    return StoredRiskTables(
        **{
            name: SqlRecordTable(dialect, table, cls, key)
            for name, (table, cls, key) in TABLES.items()
        }
    )


def in_memory_risk_tables(store: dict[str, dict[tuple[Any, ...], Any]]) -> StoredRiskTables:
    """Tables over ``store`` (one dict per table), which the caller copies per transaction."""
    return StoredRiskTables(
        **{
            name: InMemoryRecordTable(store.setdefault(f"risk_{name}", {}), cls, key)
            for name, (_table, cls, key) in TABLES.items()
        }
    )
