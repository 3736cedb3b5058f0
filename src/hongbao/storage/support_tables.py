"""Support's tables (cases and their notes) on SQL and in memory, with the named reads: the
queue, a person's cases, a case's notes and the person's recent recall attempts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from hongbao.platform.records import RecordTable
from hongbao.recall.records import DecisionPurpose, DecisionRecord
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable
from hongbao.storage.sql_dialect import SqlDialect
from hongbao.support.cases import Attempt, CaseState, SupportCase, SupportNote

# A packet's decisions read to find one person's attempts: buttons' queries are many.
MAX_DECISIONS_READ: Final = 500
FLAGGED: Final = frozenset({"fail", "challenge", "error"})


@dataclass(frozen=True)
class StoredSupportTables:
    """:class:`hongbao.support.ports.SupportTables` on SQL or in memory."""

    cases: RecordTable[SupportCase]
    notes: RecordTable[SupportNote]
    decisions: RecordTable[DecisionRecord]
    dialect: SqlDialect | None = None

    def cases_in(self, state: CaseState, *, limit: int) -> list[SupportCase]:
        return self.cases.where("state", state.value, limit=limit, order_by="opened_at_us")

    def cases_of(self, user_id: str, *, limit: int) -> list[SupportCase]:
        return self.cases.where("user_id", user_id, limit=limit, order_by="opened_at_us")

    def notes_of(self, case_id: str, *, limit: int) -> list[SupportNote]:
        return self.notes.where("case_id", case_id, limit=limit, order_by="number")

    def count_in(self, state: CaseState, *, cap: int) -> int:
        if self.dialect is None:
            return len(self.cases_in(state, limit=cap))
        cursor = self.dialect.cursor()
        cursor.execute(
            self.dialect.sql(
                "SELECT count(*) FROM (SELECT 1 FROM support_cases WHERE state = %s LIMIT %s) q"
            ),
            [state.value, cap],
        )
        (row,) = cursor.fetchall()
        return int(row[0])

    def recall_attempts(self, user_id: str, packet_id: str, *, limit: int) -> list[Attempt]:
        decisions = self.decisions.where(
            "packet_id", packet_id, limit=MAX_DECISIONS_READ, order_by="created_at_us"
        )
        attempts = [
            Attempt(
                decision.decision_id,
                decision.result.value,
                _failed_reasons(decision.outcomes),
                decision.created_at_us,
            )
            for decision in decisions
            if decision.requester_id == user_id and decision.purpose is DecisionPurpose.RECALL
        ]
        return attempts[-limit:]


def _failed_reasons(outcomes: str) -> tuple[str, ...]:
    """The reasons of the rules that failed or asked for a check, in the policy's order."""
    return tuple(
        str(item["reason"])
        for item in json.loads(outcomes)["items"]
        if item.get("reason") is not None and item["verdict"] in FLAGGED
    )


def sql_support_tables(dialect: SqlDialect) -> StoredSupportTables:
    return StoredSupportTables(
        cases=SqlRecordTable(dialect, "support_cases", SupportCase, ("id",)),
        notes=SqlRecordTable(dialect, "support_notes", SupportNote, ("case_id", "number")),
        decisions=SqlRecordTable(dialect, "recall_decisions", DecisionRecord, ("decision_id",)),
        dialect=dialect,
    )


def in_memory_support_tables(store: dict[str, dict[tuple[Any, ...], Any]]) -> StoredSupportTables:
    return StoredSupportTables(
        cases=InMemoryRecordTable(store.setdefault("support_cases", {}), SupportCase, ("id",)),
        notes=InMemoryRecordTable(
            store.setdefault("support_notes", {}), SupportNote, ("case_id", "number")
        ),
        decisions=InMemoryRecordTable(
            store.setdefault("recall_decisions", {}), DecisionRecord, ("decision_id",)
        ),
    )
