"""The refunds context's table, on SQL and in memory, behind its named reads."""

from __future__ import annotations

from typing import Any

from hongbao.platform.records import RecordTable
from hongbao.refunds.records import Refund, RefundState
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable
from hongbao.storage.sql_dialect import SqlDialect


class RecordRefunds:
    """:class:`hongbao.refunds.ports.RefundRepository` over one record table."""

    def __init__(self, table: RecordTable[Refund]) -> None:
        self._table = table

    def insert(self, refund: Refund) -> None:
        self._table.insert(refund)

    def get(self, refund_id: str) -> Refund | None:
        return self._table.get(refund_id)

    def lock(self, refund_id: str) -> Refund | None:
        return self._table.lock(refund_id)

    def replace(self, refund: Refund) -> None:
        self._table.replace(refund)

    def page(self, after_id: str | None, *, limit: int) -> list[Refund]:
        return self._table.page(None if after_id is None else (after_id,), limit=limit)

    def in_state(self, state: RefundState, *, limit: int) -> list[Refund]:
        return self._table.where("state", state.value, limit=limit, order_by="created_at_us")

    def of_owner(self, owner_id: str, *, limit: int) -> list[Refund]:
        return self._table.where("owner_id", owner_id, limit=limit, order_by="created_at_us")

    def of_packet(self, packet_id: str, *, limit: int) -> list[Refund]:
        return self._table.where("packet_id", packet_id, limit=limit)


def sql_refunds(dialect: SqlDialect) -> RecordRefunds:
    return RecordRefunds(SqlRecordTable(dialect, "refunds", Refund, ("id",)))


def in_memory_refunds(store: dict[str, dict[tuple[Any, ...], Any]]) -> RecordRefunds:
    return RecordRefunds(InMemoryRecordTable(store.setdefault("refunds", {}), Refund, ("id",)))
