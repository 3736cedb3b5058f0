"""The outbox tables on SQL engines, and in memory for tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from hongbao.platform.chain import EMPTY, GENESIS, ChainHead, StreamHead, is_chained
from hongbao.platform.errors import StorageCode, StorageError
from hongbao.platform.invariants import invariant, present
from hongbao.platform.outbox import (
    MAX_EVENTS_PER_READ,
    Delivery,
    DeliveryState,
    Head,
    NewEvent,
    OutboxEvent,
    encode_payload,
    number_events,
)
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable, codec_for
from hongbao.storage.sql_dialect import SqlDialect

EVENTS = "platform_outbox_events"
DELIVERIES = "platform_outbox_deliveries"


class SqlOutboxRepository:
    def __init__(self, dialect: SqlDialect, *, skip_locked: bool) -> None:
        self._dialect = dialect
        self._events = SqlRecordTable(dialect, EVENTS, OutboxEvent, ("id",))
        self._deliveries = SqlRecordTable(dialect, DELIVERIES, Delivery, ("consumer", "event_id"))
        self._claim_suffix = f"{dialect.lock_clause} SKIP LOCKED" if skip_locked else ""
        # The chained streams' heads this unit of work wrote: no other writer can extend such
        # a stream before it commits (the next place is its own, uncommitted), so a second
        # append to the stream in the same unit (a refund's progress, then the recall's own
        # events) needs no look-up. A repository lives for one unit of work.
        self._written_heads: dict[str, ChainHead] = {}

    def last_sequence(self, stream: str) -> int:
        cursor = self._dialect.cursor()
        # ORDER BY … LIMIT 1 walks the (stream, stream_sequence) index from its end; MAX() under
        # PostgreSQL's generic plan read every event of the stream (a hot packet: hundreds).
        cursor.execute(
            self._dialect.sql(
                f"SELECT stream_sequence FROM {EVENTS} WHERE stream = %s"
                " ORDER BY stream_sequence DESC LIMIT 1"
            ),
            (stream,),
        )
        rows = cursor.fetchall()
        return int(rows[0][0]) if rows else 0

    def read_heads(self, streams: Sequence[str]) -> Callable[[], dict[str, ChainHead]]:
        known = {
            stream: self._written_heads[stream]
            for stream in streams
            if stream in self._written_heads
        }
        wanted = sorted(set(streams) - set(known))
        if not wanted:
            return lambda: known
        table, parameters = self._dialect.id_table(wanted)
        # One correlated ORDER BY … LIMIT 1 per stream, as for the last sequences: the last
        # event's sequence and hash travel as one text, so the index is walked once.
        statement = (
            "SELECT ids.id, (SELECT CAST(e.stream_sequence AS TEXT) || ' ' ||"
            f" COALESCE(e.entry_hash, '') FROM {EVENTS} AS e WHERE e.stream = ids.id"
            f" ORDER BY e.stream_sequence DESC LIMIT 1) FROM {table}"
        )
        cursor = self._dialect.cursor()
        cursor.execute(self._dialect.sql(statement), parameters)
        return lambda: {
            **{str(stream): _head(last) for stream, last in cursor.fetchall()},
            **known,
        }

    def chain_heads_between(
        self, start_us: int, end_us: int, *, after_stream: str, limit: int
    ) -> list[StreamHead]:
        # The day's chained events through their partial index; an event is its stream's head
        # when no later event of the stream was written before the day's end.
        # Streams in code point order, whatever the database's collation: the root's rule
        # sorts them so, and every engine must give one day the same root.
        stream = 'e.stream COLLATE "C"' if self._dialect.name == "postgresql" else "e.stream"
        statement = (
            f"SELECT e.stream, e.stream_sequence, e.entry_hash FROM {EVENTS} AS e"
            " WHERE e.entry_hash IS NOT NULL AND e.created_at_us >= %s AND e.created_at_us < %s"
            f" AND {stream} > %s AND NOT EXISTS (SELECT 1 FROM {EVENTS} AS f"
            " WHERE f.stream = e.stream AND f.stream_sequence > e.stream_sequence"
            f" AND f.created_at_us < %s) ORDER BY {stream} LIMIT %s"
        )
        rows = self._fetch(statement, [start_us, end_us, after_stream, end_us, _bounded(limit)])
        return [
            StreamHead(str(stream), int(sequence), str(hash_text))
            for stream, sequence, hash_text in rows
        ]

    def insert_event(self, event: OutboxEvent) -> None:
        self.insert_events([event])

    def insert_events(self, events: Sequence[OutboxEvent]) -> None:
        self._events.insert_many(events)
        for event in events:
            if event.entry_hash is not None:
                self._written_heads[event.stream] = ChainHead(
                    event.stream_sequence, event.entry_hash
                )

    def insert_delivery(self, delivery: Delivery) -> None:
        self._deliveries.insert(delivery)

    def insert_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        self._deliveries.insert_many(deliveries)

    def insert_numbered(
        self,
        events: Sequence[tuple[NewEvent, Sequence[str]]],
        *,
        now_us: int,
        max_attempts: int,
    ) -> None:
        if not events:
            return
        if self._dialect.name != "postgresql":
            # No data-modifying CTEs: look the sequences up, then insert both tables.
            streams = sorted({event.stream for event, _consumers in events})
            timed = [(event, now_us, consumers) for event, consumers in events]
            written, deliveries = number_events(timed, self.read_heads(streams)(), max_attempts)
            self.insert_events(written)
            self.insert_deliveries(deliveries)
            return
        invariant(
            not any(is_chained(event.stream) for event, _consumers in events),
            "a chained stream's events are hashed as they are numbered, never in one statement",
        )
        rows = [
            {
                "position": position,
                "stream": event.stream,
                "event_type": event.event_type,
                "payload": encode_payload(event),
                "consumers": list(consumers),
            }
            for position, (event, consumers) in enumerate(events)
        ]
        # One statement: each stream's last sequence is read as the rows are written (under
        # the caller's lock that orders the stream), the events and their deliveries inserted.
        statement = (
            "WITH new AS MATERIALIZED ("
            " SELECT v.*, COALESCE((SELECT e.stream_sequence FROM "
            f"{EVENTS} AS e WHERE e.stream = v.stream ORDER BY e.stream_sequence DESC LIMIT 1),"
            " 0) + row_number() OVER (PARTITION BY v.stream ORDER BY v.position)"
            " AS stream_sequence"
            " FROM json_to_recordset(%s::json) AS v(position bigint, stream text,"
            " event_type text, payload text, consumers json)"
            "), events AS ("
            f" INSERT INTO {EVENTS} (id, stream, stream_sequence, event_type, payload,"
            " created_at_us) SELECT stream || '#' || stream_sequence, stream, stream_sequence,"
            " event_type, payload, %s FROM new"
            f") INSERT INTO {DELIVERIES} (consumer, event_id, stream, stream_sequence, state,"
            " attempts, max_attempts, next_attempt_at_us, last_error, delivered_at_us)"
            " SELECT c.consumer, new.stream || '#' || new.stream_sequence, new.stream,"
            " new.stream_sequence, 'pending', 0, %s, %s, NULL, NULL"
            " FROM new CROSS JOIN LATERAL json_array_elements_text(new.consumers) AS c(consumer)"
        )
        self._dialect.cursor().execute(statement, [json.dumps(rows), now_us, max_attempts, now_us])

    def get_event(self, event_id: str) -> OutboxEvent | None:
        return self._events.get(event_id)

    def get_delivery(self, consumer: str, event_id: str) -> Delivery | None:
        return self._deliveries.get(consumer, event_id)

    def events_after(self, stream: str, after: int, limit: int) -> list[OutboxEvent]:
        codec = codec_for(OutboxEvent)
        statement = (
            f"SELECT {', '.join(codec.columns)} FROM {EVENTS} "
            "WHERE stream = %s AND stream_sequence > %s ORDER BY stream_sequence LIMIT %s"
        )
        cursor = self._dialect.cursor()
        cursor.execute(self._dialect.sql(statement), (stream, after, _bounded(limit)))
        return [codec.decode(row) for row in cursor.fetchall()]

    def replace_delivery(self, delivery: Delivery) -> None:
        self._deliveries.replace(delivery)

    def lock_delivery(self, consumer: str, event_id: str) -> Delivery | None:
        return self._deliveries.lock(consumer, event_id)

    def get_events(self, event_ids: Sequence[str]) -> dict[str, OutboxEvent]:
        if not event_ids:
            return {}
        codec = codec_for(OutboxEvent)
        condition, parameters = self._dialect.in_list("id", _bounded_ids(event_ids))
        statement = f"SELECT {', '.join(codec.columns)} FROM {EVENTS} WHERE {condition}"
        events = [codec.decode(row) for row in self._fetch(statement, parameters)]
        return {event.id: event for event in events}

    def claim_heads(self, now_us: int, limit: int, after: Delivery | None = None) -> list[Head]:
        codec = codec_for(Delivery)
        columns = ", ".join(f"d.{column}" for column in codec.columns)
        parameters: list[Any] = [now_us]
        resume = ""
        if after is not None:
            # Row values compare column by column, in the due index's order: the next page
            # starts where the last one ended instead of reading it again.
            resume = f"AND ({_CLAIM_ORDER.format(table='d')}) > (%s, %s, %s, %s) "
            parameters += _claim_key(after)
        statement = (
            f"SELECT {columns}, EXISTS (SELECT 1 FROM {DELIVERIES} AS f "
            "WHERE f.consumer = d.consumer AND f.stream = d.stream "
            "AND f.stream_sequence > d.stream_sequence AND f.state <> 'delivered') "
            f"FROM {DELIVERIES} AS d "
            f"WHERE d.state = 'pending' AND d.next_attempt_at_us <= %s {resume}"
            f"AND NOT EXISTS (SELECT 1 FROM {DELIVERIES} AS e WHERE e.consumer = d.consumer "
            "AND e.stream = d.stream AND e.stream_sequence < d.stream_sequence "
            "AND e.state <> 'delivered') "
            f"ORDER BY {_CLAIM_ORDER.format(table='d')} LIMIT %s{self._claim_suffix}"
        )
        rows = self._fetch(statement, [*parameters, _bounded(limit)])
        return [Head(codec.decode(row[:-1]), bool(row[-1])) for row in rows]

    def followers(self, head: Delivery, limit: int) -> list[Delivery]:
        codec = codec_for(Delivery)
        # No SKIP LOCKED: a row skipped here would be a gap in its stream, delivered past.
        statement = (
            f"SELECT {', '.join(codec.columns)} FROM {DELIVERIES} "
            "WHERE consumer = %s AND stream = %s AND stream_sequence > %s "
            "AND state <> 'delivered' "
            f"ORDER BY stream_sequence LIMIT %s{self._dialect.lock_clause}"
        )
        parameters = [head.consumer, head.stream, head.stream_sequence, _bounded(limit)]
        return [codec.decode(row) for row in self._fetch(statement, parameters)]

    def mark_delivered(self, consumer: str, event_ids: Sequence[str], now_us: int) -> None:
        if not event_ids:
            return
        wanted = _bounded_ids(event_ids)
        condition, parameters = self._dialect.in_list("event_id", wanted)
        # RETURNING, not rowcount: on a pipelined connection only fetched results are final.
        statement = (
            f"UPDATE {DELIVERIES} SET state = 'delivered', attempts = attempts + 1, "
            f"delivered_at_us = %s WHERE consumer = %s AND {condition} AND state = 'pending' "
            "RETURNING event_id"
        )
        marked = self._fetch(statement, [now_us, consumer, *parameters])
        invariant(
            len(marked) == len(wanted),
            "every claimed delivery is pending until it is marked delivered",
            consumer=consumer,
            marked=len(marked),
            claimed=len(wanted),
        )

    def deliveries_in_state(self, state: DeliveryState, limit: int) -> list[Delivery]:
        codec = codec_for(Delivery)
        # The state is written into the statement, not bound: a generic plan can use the
        # partial index of a state only when the statement itself names that state.
        statement = (
            f"SELECT {', '.join(codec.columns)} FROM {DELIVERIES} AS d "
            f"WHERE d.state = '{DeliveryState(state).value}' "
            f"ORDER BY {_CLAIM_ORDER.format(table='d')} LIMIT %s"
        )
        return [codec.decode(row) for row in self._fetch(statement, [limit])]

    def _fetch(self, statement: str, parameters: Sequence[Any]) -> list[Any]:
        cursor = self._dialect.cursor()
        cursor.execute(self._dialect.sql(statement), list(parameters))
        return list(cursor.fetchall())


class InMemoryOutboxRepository:
    def __init__(self, store: dict[str, dict[tuple[Any, ...], Any]]) -> None:
        self._event_rows: dict[tuple[Any, ...], OutboxEvent] = store.setdefault("outbox_events", {})
        self._delivery_rows: dict[tuple[Any, ...], Delivery] = store.setdefault(
            "outbox_deliveries", {}
        )
        self._events = InMemoryRecordTable(self._event_rows, OutboxEvent, ("id",))
        self._deliveries = InMemoryRecordTable(
            self._delivery_rows, Delivery, ("consumer", "event_id")
        )

    def last_sequence(self, stream: str) -> int:
        sequences = [e.stream_sequence for e in self._event_rows.values() if e.stream == stream]
        return max(sequences, default=0)

    def read_heads(self, streams: Sequence[str]) -> Callable[[], dict[str, ChainHead]]:
        wanted = set(streams)
        last: dict[str, OutboxEvent] = {}
        for event in self._event_rows.values():
            if event.stream in wanted and (
                event.stream not in last
                or event.stream_sequence > last[event.stream].stream_sequence
            ):
                last[event.stream] = event
        found = {
            stream: ChainHead(last[stream].stream_sequence, last[stream].entry_hash or GENESIS)
            if stream in last
            else EMPTY
            for stream in wanted
        }
        return lambda: found

    def chain_heads_between(
        self, start_us: int, end_us: int, *, after_stream: str, limit: int
    ) -> list[StreamHead]:
        last: dict[str, OutboxEvent] = {}
        grew: set[str] = set()
        for event in self._event_rows.values():
            if event.entry_hash is None or event.created_at_us >= end_us:
                continue
            if event.created_at_us >= start_us:
                grew.add(event.stream)
            known = last.get(event.stream)
            if known is None or event.stream_sequence > known.stream_sequence:
                last[event.stream] = event
        heads = [
            StreamHead(stream, last[stream].stream_sequence, last[stream].entry_hash or GENESIS)
            for stream in sorted(grew)
            if stream > after_stream
        ]
        return heads[: _bounded(limit)]

    def insert_events(self, events: Sequence[OutboxEvent]) -> None:
        for event in events:
            self.insert_event(event)

    def insert_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            self.insert_delivery(delivery)

    def insert_numbered(
        self,
        events: Sequence[tuple[NewEvent, Sequence[str]]],
        *,
        now_us: int,
        max_attempts: int,
    ) -> None:
        streams = sorted({event.stream for event, _consumers in events})
        timed = [(event, now_us, consumers) for event, consumers in events]
        written, deliveries = number_events(timed, self.read_heads(streams)(), max_attempts)
        self.insert_events(written)
        self.insert_deliveries(deliveries)

    def insert_event(self, event: OutboxEvent) -> None:
        taken = any(
            (e.stream, e.stream_sequence) == (event.stream, event.stream_sequence)
            for e in self._event_rows.values()
        )
        if taken:
            raise StorageError(
                f"{event.stream} already has event {event.stream_sequence}",
                code=StorageCode.DUPLICATE_KEY,
            )
        self._events.insert(event)

    def insert_delivery(self, delivery: Delivery) -> None:
        self._deliveries.insert(delivery)

    def get_event(self, event_id: str) -> OutboxEvent | None:
        return self._events.get(event_id)

    def get_delivery(self, consumer: str, event_id: str) -> Delivery | None:
        return self._deliveries.get(consumer, event_id)

    def events_after(self, stream: str, after: int, limit: int) -> list[OutboxEvent]:
        found = [
            e for e in self._event_rows.values() if e.stream == stream and e.stream_sequence > after
        ]
        found.sort(key=lambda e: e.stream_sequence)
        return found[: _bounded(limit)]

    def replace_delivery(self, delivery: Delivery) -> None:
        self._deliveries.replace(delivery)

    def lock_delivery(self, consumer: str, event_id: str) -> Delivery | None:
        return self._deliveries.lock(consumer, event_id)

    def get_events(self, event_ids: Sequence[str]) -> dict[str, OutboxEvent]:
        wanted = _bounded_ids(event_ids) if event_ids else []
        found = (self._event_rows.get((event_id,)) for event_id in wanted)
        return {event.id: event for event in found if event is not None}

    def claim_heads(self, now_us: int, limit: int, after: Delivery | None = None) -> list[Head]:
        open_counts: dict[tuple[str, str], int] = {}
        first_open: dict[tuple[str, str], int] = {}
        for delivery in self._delivery_rows.values():
            if delivery.state is not DeliveryState.DELIVERED:
                group = (delivery.consumer, delivery.stream)
                open_counts[group] = open_counts.get(group, 0) + 1
                first_open[group] = min(
                    first_open.get(group, delivery.stream_sequence), delivery.stream_sequence
                )
        heads = [
            d
            for d in self._delivery_rows.values()
            if d.state is DeliveryState.PENDING
            and d.next_attempt_at_us <= now_us
            and first_open[(d.consumer, d.stream)] == d.stream_sequence
            and (after is None or _claim_key(d) > _claim_key(after))
        ]
        heads.sort(key=_claim_key)
        return [Head(d, open_counts[(d.consumer, d.stream)] > 1) for d in heads[: _bounded(limit)]]

    def followers(self, head: Delivery, limit: int) -> list[Delivery]:
        found = [
            d
            for d in self._delivery_rows.values()
            if (d.consumer, d.stream) == (head.consumer, head.stream)
            and d.stream_sequence > head.stream_sequence
            and d.state is not DeliveryState.DELIVERED
        ]
        found.sort(key=lambda d: d.stream_sequence)
        return found[: _bounded(limit)]

    def mark_delivered(self, consumer: str, event_ids: Sequence[str], now_us: int) -> None:
        for event_id in _bounded_ids(event_ids) if event_ids else []:
            current = present(
                self._delivery_rows.get((consumer, event_id)),
                "every claimed delivery exists until it is marked delivered",
                consumer=consumer,
                event_id=event_id,
            )
            invariant(
                current.state is DeliveryState.PENDING,
                "every claimed delivery is pending until it is marked delivered",
                consumer=consumer,
                event_id=event_id,
            )
            self._deliveries.replace(
                replace(
                    current,
                    state=DeliveryState.DELIVERED,
                    attempts=current.attempts + 1,
                    delivered_at_us=now_us,
                )
            )

    def deliveries_in_state(self, state: DeliveryState, limit: int) -> list[Delivery]:
        found = [d for d in self._delivery_rows.values() if d.state is state]
        found.sort(key=_claim_key)
        return found[:limit]


# The relay's claim order: oldest due first, then stream by stream in sequence order.
_CLAIM_ORDER = (
    "{table}.next_attempt_at_us, {table}.consumer, {table}.stream, {table}.stream_sequence"
)


def _claim_key(delivery: Delivery) -> list[Any]:
    return [
        delivery.next_attempt_at_us,
        delivery.consumer,
        delivery.stream,
        delivery.stream_sequence,
    ]


def _head(last: str | None) -> ChainHead:
    """A head from its ``"sequence hash"`` text (None: the stream has no event yet)."""
    if last is None:
        return EMPTY
    sequence, _blank, hash_text = last.partition(" ")
    return ChainHead(int(sequence), hash_text or GENESIS)


def _bounded(limit: int) -> int:
    return max(1, min(limit, MAX_EVENTS_PER_READ))


def _bounded_ids(values: Sequence[str]) -> list[str]:
    """Distinct ids in order, at most ``MAX_EVENTS_PER_READ`` of them (one statement's list)."""
    distinct = sorted(set(values))
    invariant(
        len(distinct) <= MAX_EVENTS_PER_READ,
        "a bulk read stays within its limit",
        size=len(distinct),
    )
    return distinct
