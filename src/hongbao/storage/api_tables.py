"""The HTTP API's tables (idempotency keys, revoked tokens, the guidance hints people met),
on SQL and in memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hongbao.identity.hints import HintSeen
from hongbao.identity.tokens import RevokedToken
from hongbao.platform.idempotency import IdempotencyRecord
from hongbao.platform.records import RecordTable
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable
from hongbao.storage.sql_dialect import SqlDialect


@dataclass(frozen=True)
class ApiTables:
    idempotency: RecordTable[IdempotencyRecord]
    revoked: RecordTable[RevokedToken]
    hints: RecordTable[HintSeen]


def sql_api_tables(dialect: SqlDialect) -> ApiTables:
    return ApiTables(
        idempotency=SqlRecordTable(
            dialect, "api_idempotency", IdempotencyRecord, ("principal", "idempotency_key")
        ),
        revoked=SqlRecordTable(dialect, "api_revoked_tokens", RevokedToken, ("token_id",)),
        hints=SqlRecordTable(dialect, "api_hints_seen", HintSeen, ("user_id", "hint")),
    )


def in_memory_api_tables(store: dict[str, dict[tuple[Any, ...], Any]]) -> ApiTables:
    return ApiTables(
        idempotency=InMemoryRecordTable(
            store.setdefault("api_idempotency", {}),
            IdempotencyRecord,
            ("principal", "idempotency_key"),
        ),
        revoked=InMemoryRecordTable(
            store.setdefault("api_revoked_tokens", {}), RevokedToken, ("token_id",)
        ),
        hints=InMemoryRecordTable(
            store.setdefault("api_hints_seen", {}), HintSeen, ("user_id", "hint")
        ),
    )
