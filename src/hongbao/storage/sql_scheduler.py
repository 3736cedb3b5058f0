"""The due-work table on SQL engines, and in memory for tests."""

from __future__ import annotations

from typing import Any

from hongbao.platform.clock import is_due
from hongbao.platform.scheduler import DueWork, DueWorkState
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable, codec_for
from hongbao.storage.sql_dialect import SqlDialect

TABLE = "platform_due_work"


class SqlDueWorkRepository(SqlRecordTable[DueWork]):
    def __init__(self, dialect: SqlDialect, *, skip_locked: bool) -> None:
        super().__init__(dialect, TABLE, DueWork, ("id",))
        self._claim_dialect = dialect
        # PostgreSQL: skip rows another worker holds. SQLite has one writer at a time anyway.
        self._claim_suffix = f"{dialect.lock_clause} SKIP LOCKED" if skip_locked else ""

    def claim_due(self, now_us: int, limit: int) -> list[DueWork]:
        codec = codec_for(DueWork)
        statement = (
            f"SELECT {', '.join(codec.columns)} FROM {TABLE} "
            "WHERE state = 'pending' AND due_at_us <= %s ORDER BY due_at_us, id LIMIT %s"
            f"{self._claim_suffix}"
        )
        cursor = self._claim_dialect.cursor()
        cursor.execute(self._claim_dialect.sql(statement), (now_us, limit))
        return [codec.decode(row) for row in cursor.fetchall()]

    def count_by_state(self) -> dict[DueWorkState, int]:
        cursor = self._claim_dialect.cursor()
        cursor.execute(f"SELECT state, COUNT(*) FROM {TABLE} GROUP BY state")
        counts = dict.fromkeys(DueWorkState, 0)
        for state, count in cursor.fetchall():
            counts[DueWorkState(state)] = count
        return counts

    def list_state(self, state: DueWorkState, limit: int) -> list[DueWork]:
        codec = codec_for(DueWork)
        # The state is written into the statement, not bound: a generic plan can use the
        # partial index of a state (pending, dead) only when the statement itself names it.
        statement = (
            f"SELECT {', '.join(codec.columns)} FROM {TABLE} "
            f"WHERE state = '{DueWorkState(state).value}' ORDER BY due_at_us, id LIMIT %s"
        )
        cursor = self._claim_dialect.cursor()
        cursor.execute(self._claim_dialect.sql(statement), (limit,))
        return [codec.decode(row) for row in cursor.fetchall()]


class InMemoryDueWorkRepository(InMemoryRecordTable[DueWork]):
    def __init__(self, rows: dict[tuple[Any, ...], DueWork]) -> None:
        super().__init__(rows, DueWork, ("id",))
        self._all = rows

    def claim_due(self, now_us: int, limit: int) -> list[DueWork]:
        due = [
            work
            for work in self._all.values()
            if work.state is DueWorkState.PENDING and is_due(work.due_at_us, now_us)
        ]
        return sorted(due, key=lambda work: (work.due_at_us, work.id))[:limit]

    def count_by_state(self) -> dict[DueWorkState, int]:
        counts = dict.fromkeys(DueWorkState, 0)
        for work in self._all.values():
            counts[work.state] += 1
        return counts

    def list_state(self, state: DueWorkState, limit: int) -> list[DueWork]:
        return self.where("state", state, limit=limit, order_by="due_at_us")
