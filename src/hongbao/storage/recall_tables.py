"""The recall context's tables, on SQL and in memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hongbao.platform.records import RecordTable
from hongbao.recall.records import DecisionRecord, Incident, Recall
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable
from hongbao.storage.sql_dialect import SqlDialect


@dataclass(frozen=True)
class StoredRecallTables:
    """:class:`hongbao.recall.ports.RecallTables` on SQL or in memory."""

    decisions: RecordTable[DecisionRecord]
    recalls: RecordTable[Recall]
    incidents: RecordTable[Incident]
    # Where writers run one at a time (SQLite's BEGIN IMMEDIATE, the in-memory store's lock)
    # a requester's turn is already theirs; PostgreSQL takes a transaction-scoped advisory
    # lock named after the requester.
    dialect: SqlDialect | None = None

    def take_turn(self, requester_id: str) -> None:
        if self.dialect is None or self.dialect.name != "postgresql":
            return
        self.dialect.cursor().execute(
            self.dialect.sql("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"),
            [f"recall-requester:{requester_id}"],
        )

    def read_recalls_counted_on(self, usage_key: str, *, limit: int) -> Callable[[], list[Recall]]:
        return self.recalls.read_find_in({"usage_key": [usage_key]}, limit=limit)


def sql_recall_tables(dialect: SqlDialect) -> StoredRecallTables:
    return StoredRecallTables(
        decisions=SqlRecordTable(dialect, "recall_decisions", DecisionRecord, ("decision_id",)),
        recalls=SqlRecordTable(dialect, "recalls", Recall, ("idempotency_key",)),
        incidents=SqlRecordTable(dialect, "reconciliation_incidents", Incident, ("id",)),
        dialect=dialect,
    )


def in_memory_recall_tables(store: dict[str, dict[tuple[Any, ...], Any]]) -> StoredRecallTables:
    return StoredRecallTables(
        decisions=InMemoryRecordTable(
            store.setdefault("recall_decisions", {}), DecisionRecord, ("decision_id",)
        ),
        recalls=InMemoryRecordTable(store.setdefault("recalls", {}), Recall, ("idempotency_key",)),
        incidents=InMemoryRecordTable(
            store.setdefault("reconciliation_incidents", {}), Incident, ("id",)
        ),
    )
