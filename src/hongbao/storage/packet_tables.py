"""The packet context's tables, on SQL and in memory."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from hongbao.packets.authorization import CardAuthorization
from hongbao.packets.guard import GuardDecision
from hongbao.packets.history_roots import HistoryRoot
from hongbao.packets.model import Packet, Share
from hongbao.packets.ports import FreeShares, NextShares
from hongbao.packets.regret import SendHabits
from hongbao.platform.invariants import invariant
from hongbao.platform.records import RecordTable
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable, codec_for
from hongbao.storage.sql_dialect import SqlDialect


@dataclass(frozen=True)
class StoredPacketTables:
    """:class:`hongbao.packets.ports.PacketTables` on SQL or in memory."""

    packets: RecordTable[Packet]
    shares: RecordTable[Share]
    authorizations: RecordTable[CardAuthorization]
    free_shares: FreeShares
    habits: RecordTable[SendHabits]
    guard_decisions: RecordTable[GuardDecision]
    habit_counter: HabitCounter
    history_roots: RecordTable[HistoryRoot]

    def count_habits(self, increments: Sequence[SendHabits]) -> None:
        self.habit_counter.add(increments)

    def remainder_of(self, packet_id: str) -> int | None:
        packet = self.packets.get(packet_id)
        return None if packet is None else packet.remainder_minor

    def shares_of(self, packet_id: str, *, limit: int) -> list[Share]:
        return self.shares.where("packet_id", packet_id, limit=limit)

    def read_shares_of(self, packet_id: str, *, limit: int) -> Callable[[], list[Share]]:
        return self.shares.read_find_in({"packet_id": [packet_id]}, limit=limit)

    def sent_by(self, user_id: str, *, limit: int) -> list[Packet]:
        return self.packets.where("sender_id", user_id, limit=limit, order_by="created_at_us")

    def sent_to_group(self, group_id: str, *, limit: int) -> list[Packet]:
        return self.packets.where("group_id", group_id, limit=limit, order_by="created_at_us")

    def claimed_by(self, user_id: str, *, limit: int) -> list[Share]:
        return self.shares.where("claimed_by", user_id, limit=limit, order_by="claimed_at_us")

    def read_claims(
        self, packet_ids: Collection[str], user_ids: Collection[str], *, limit: int
    ) -> Callable[[], list[Share]]:
        return self.shares.read_find_in(
            {"packet_id": packet_ids, "claimed_by": user_ids}, limit=limit
        )


class HabitCounter(Protocol):
    def add(self, increments: Sequence[SendHabits]) -> None: ...


class SqlHabitCounter:
    """Counters added to in the statement that writes them (``ON CONFLICT DO UPDATE``, on
    SQLite and PostgreSQL alike), so two sends of one sender both count."""

    def __init__(self, dialect: SqlDialect) -> None:
        self._dialect = dialect

    def add(self, increments: Sequence[SendHabits]) -> None:
        if not increments:
            return
        # In key order, so two sends of one sender lock the rows in the same order.
        rows = sorted(increments, key=lambda row: (row.sender_id, row.audience_id))
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
        statement = self._dialect.sql(
            "INSERT INTO send_habits (sender_id, audience_id, sends, recalls, amount_sum_minor, "
            f"updated_at_us) VALUES {values} "
            "ON CONFLICT (sender_id, audience_id) DO UPDATE SET "
            "sends = send_habits.sends + excluded.sends, "
            "recalls = send_habits.recalls + excluded.recalls, "
            "amount_sum_minor = send_habits.amount_sum_minor + excluded.amount_sum_minor, "
            "updated_at_us = excluded.updated_at_us"
        )
        parameters = [
            value
            for row in rows
            for value in (
                row.sender_id,
                row.audience_id,
                row.sends,
                row.recalls,
                row.amount_sum_minor,
                row.updated_at_us,
            )
        ]
        self._dialect.cursor().execute(statement, parameters)


class InMemoryHabitCounter:
    def __init__(self, habits: RecordTable[SendHabits]) -> None:
        self._habits = habits

    def add(self, increments: Sequence[SendHabits]) -> None:
        for row in increments:
            found = self._habits.get(row.sender_id, row.audience_id)
            if found is None:
                self._habits.insert(row)
                continue
            self._habits.replace(
                replace(
                    found,
                    sends=found.sends + row.sends,
                    recalls=found.recalls + row.recalls,
                    amount_sum_minor=found.amount_sum_minor + row.amount_sum_minor,
                    updated_at_us=row.updated_at_us,
                )
            )


class SqlFreeShares:
    def __init__(self, dialect: SqlDialect) -> None:
        self._dialect = dialect
        self._codec = codec_for(Share)

    def read_next(self, wanted: Mapping[str, int]) -> Callable[[], NextShares]:
        if not wanted:
            return dict
        invariant(all(count > 0 for count in wanted.values()), "each packet wants a share")
        ids = sorted(wanted)
        values, parameters = self._dialect.rows_table(
            ("packet_id", "wanted"), ("text", "bigint"), [(i, wanted[i]) for i in ids]
        )
        # The list of ids again steers the planner to the packets' index (see replace_many).
        steer, steer_parameters = self._dialect.in_list("p.id", ids)
        columns = ", ".join(f"s.{column}" for column in self._codec.columns)
        statement = (
            f"SELECT {columns} FROM {values} JOIN packets AS p ON p.id = v.packet_id "
            "JOIN packet_shares AS s ON s.packet_id = p.id "
            "AND s.position >= p.claimed_count AND s.position < p.claimed_count + v.wanted "
            f"WHERE {steer}"
        )
        cursor = self._dialect.cursor()
        cursor.execute(self._dialect.sql(statement), [*parameters, *steer_parameters])

        def read() -> NextShares:
            shares = [self._codec.decode(row) for row in cursor.fetchall()]
            return {(share.packet_id, share.position): share for share in shares}

        return read


class InMemoryFreeShares:
    def __init__(self, packets: RecordTable[Packet], shares: RecordTable[Share]) -> None:
        self._packets = packets
        self._shares = shares

    def read_next(self, wanted: Mapping[str, int]) -> Callable[[], NextShares]:
        packets = self._packets.get_many([(packet_id,) for packet_id in wanted])
        keys = [
            (packet.id, packet.claimed_count + offset)
            for packet in packets.values()
            for offset in range(wanted[packet.id])
        ]
        found = {(key[0], key[1]): share for key, share in self._shares.get_many(keys).items()}
        return lambda: found


def sql_packet_tables(dialect: SqlDialect) -> StoredPacketTables:
    return StoredPacketTables(
        habits=SqlRecordTable(dialect, "send_habits", SendHabits, ("sender_id", "audience_id")),
        guard_decisions=SqlRecordTable(dialect, "guard_decisions", GuardDecision, ("decision_id",)),
        habit_counter=SqlHabitCounter(dialect),
        free_shares=SqlFreeShares(dialect),
        packets=SqlRecordTable(dialect, "packets", Packet, ("id",)),
        shares=SqlRecordTable(dialect, "packet_shares", Share, ("packet_id", "position")),
        authorizations=SqlRecordTable(
            dialect, "packet_authorizations", CardAuthorization, ("packet_id",)
        ),
        history_roots=SqlRecordTable(dialect, "packet_history_roots", HistoryRoot, ("day",)),
    )


def in_memory_packet_tables(store: dict[str, dict[tuple[Any, ...], Any]]) -> StoredPacketTables:
    packets = InMemoryRecordTable(store.setdefault("packets", {}), Packet, ("id",))
    shares = InMemoryRecordTable(
        store.setdefault("packet_shares", {}), Share, ("packet_id", "position")
    )
    habits = InMemoryRecordTable(
        store.setdefault("send_habits", {}), SendHabits, ("sender_id", "audience_id")
    )
    return StoredPacketTables(
        habits=habits,
        guard_decisions=InMemoryRecordTable(
            store.setdefault("guard_decisions", {}), GuardDecision, ("decision_id",)
        ),
        habit_counter=InMemoryHabitCounter(habits),
        packets=packets,
        shares=shares,
        free_shares=InMemoryFreeShares(packets, shares),
        authorizations=InMemoryRecordTable(
            store.setdefault("packet_authorizations", {}), CardAuthorization, ("packet_id",)
        ),
        history_roots=InMemoryRecordTable(
            store.setdefault("packet_history_roots", {}), HistoryRoot, ("day",)
        ),
    )
