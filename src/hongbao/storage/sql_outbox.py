"""The outbox tables on SQL engines, and in memory for tests."""

from __future__ import annotations

from typing import Any

from hongbao.platform.errors import StorageError
from hongbao.platform.outbox import MAX_EVENTS_PER_READ, Delivery, DeliveryState, OutboxEvent
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable, codec_for
from hongbao.storage.sql_ledger import SqlDialect

EVENTS = "platform_outbox_events"
DELIVERIES = "platform_outbox_deliveries"


class SqlOutboxRepository:
    def __init__(self, dialect: SqlDialect, *, skip_locked: bool) -> None:
        self._dialect = dialect
        self._events = SqlRecordTable(dialect, EVENTS, OutboxEvent, ("id",))
        self._deliveries = SqlRecordTable(dialect, DELIVERIES, Delivery, ("consumer", "event_id"))
        self._claim_suffix = f"{dialect.lock_clause} SKIP LOCKED" if skip_locked else ""

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

    def insert_event(self, event: OutboxEvent) -> None:
        self._events.insert(event)

    def insert_delivery(self, delivery: Delivery) -> None:
        self._deliveries.insert(delivery)

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

    def claim_next(self, now_us: int) -> Delivery | None:
        codec = codec_for(Delivery)
        columns = ", ".join(f"d.{column}" for column in codec.columns)
        statement = (
            f"SELECT {columns} FROM {DELIVERIES} AS d "
            "WHERE d.state = 'pending' AND d.next_attempt_at_us <= %s "
            f"AND NOT EXISTS (SELECT 1 FROM {DELIVERIES} AS e WHERE e.consumer = d.consumer "
            "AND e.stream = d.stream AND e.stream_sequence < d.stream_sequence "
            "AND e.state <> 'delivered') "
            "ORDER BY d.next_attempt_at_us, d.stream, d.stream_sequence LIMIT 1"
            f"{self._claim_suffix}"
        )
        cursor = self._dialect.cursor()
        cursor.execute(self._dialect.sql(statement), (now_us,))
        rows = cursor.fetchall()
        return codec.decode(rows[0]) if rows else None

    def deliveries_in_state(self, state: DeliveryState, limit: int) -> list[Delivery]:
        return self._deliveries.where("state", state, limit=limit, order_by="next_attempt_at_us")


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

    def insert_event(self, event: OutboxEvent) -> None:
        taken = any(
            (e.stream, e.stream_sequence) == (event.stream, event.stream_sequence)
            for e in self._event_rows.values()
        )
        if taken:
            raise StorageError(
                f"{event.stream} already has event {event.stream_sequence}",
                code="storage.duplicate_key",
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

    def claim_next(self, now_us: int) -> Delivery | None:
        open_ = [d for d in self._delivery_rows.values() if d.state is not DeliveryState.DELIVERED]

        def blocked(delivery: Delivery) -> bool:
            return any(
                (other.consumer, other.stream) == (delivery.consumer, delivery.stream)
                and other.stream_sequence < delivery.stream_sequence
                for other in open_
            )

        ready = [
            d
            for d in open_
            if d.state is DeliveryState.PENDING
            and d.next_attempt_at_us <= now_us
            and not blocked(d)
        ]
        ready.sort(key=lambda d: (d.next_attempt_at_us, d.stream, d.stream_sequence))
        return ready[0] if ready else None

    def deliveries_in_state(self, state: DeliveryState, limit: int) -> list[Delivery]:
        return self._deliveries.where("state", state, limit=limit, order_by="next_attempt_at_us")


def _bounded(limit: int) -> int:
    return max(1, min(limit, MAX_EVENTS_PER_READ))
