"""The funding context's table, on SQL and in memory, with its named reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hongbao.funding.ports import StoredFunding
from hongbao.platform.records import RecordTable
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable
from hongbao.storage.sql_dialect import SqlDialect

TABLE = "identity_funding_sources"  # the name it was born with, in identity


@dataclass(frozen=True)
class StoredFundingTables:
    """:class:`hongbao.funding.ports.FundingTables` on SQL or in memory."""

    sources: RecordTable[StoredFunding]

    def sources_of(self, user_id: str, *, limit: int) -> list[StoredFunding]:
        return self.sources.where("user_id", user_id, limit=limit)


def sql_funding_tables(dialect: SqlDialect) -> StoredFundingTables:
    return StoredFundingTables(SqlRecordTable(dialect, TABLE, StoredFunding, ("id",)))


def in_memory_funding_tables(store: dict[str, dict[tuple[Any, ...], Any]]) -> StoredFundingTables:
    """Over ``store`` (one dict per table), which the caller copies per transaction."""
    return StoredFundingTables(
        InMemoryRecordTable(store.setdefault("funding", {}), StoredFunding, ("id",))
    )
