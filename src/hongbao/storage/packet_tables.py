"""The packet context's tables, on SQL and in memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hongbao.packets.authorization import CardAuthorization
from hongbao.packets.model import Packet, Share
from hongbao.storage.records import InMemoryRecordTable, RecordTable, SqlRecordTable
from hongbao.storage.sql_ledger import SqlDialect


@dataclass(frozen=True)
class PacketTables:
    packets: RecordTable[Packet]
    shares: RecordTable[Share]
    authorizations: RecordTable[CardAuthorization]


def sql_packet_tables(dialect: SqlDialect) -> PacketTables:
    return PacketTables(
        packets=SqlRecordTable(dialect, "packets", Packet, ("id",)),
        shares=SqlRecordTable(dialect, "packet_shares", Share, ("packet_id", "position")),
        authorizations=SqlRecordTable(
            dialect, "packet_authorizations", CardAuthorization, ("packet_id",)
        ),
    )


def in_memory_packet_tables(store: dict[str, dict[tuple[Any, ...], Any]]) -> PacketTables:
    return PacketTables(
        packets=InMemoryRecordTable(store.setdefault("packets", {}), Packet, ("id",)),
        shares=InMemoryRecordTable(
            store.setdefault("packet_shares", {}), Share, ("packet_id", "position")
        ),
        authorizations=InMemoryRecordTable(
            store.setdefault("packet_authorizations", {}), CardAuthorization, ("packet_id",)
        ),
    )
