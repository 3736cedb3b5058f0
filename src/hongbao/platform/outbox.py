"""The transactional outbox: events written with the change that caused them, delivered later.

A state change appends its events in its own transaction (``append``), one delivery row per
registered consumer beside each event, so an event exists exactly when its change committed.
The relay (``Relay.deliver_due``) hands each delivery to its consumer at least once and in
order per stream (a packet's events reach a consumer in the order they happened): a delivery
is claimed only when every earlier event of its stream has been delivered to that consumer.
As with the scheduler, a consumer runs inside the claiming transaction, so its own database
effects and the ``delivered`` mark commit together; a consumer that raises is rolled back and
retried with backoff; after ``max_attempts`` the delivery is dead — listed for operators,
holding back the later events of its stream for that consumer until it is replayed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from hongbao.ledger.model import is_valid_id
from hongbao.platform.clock import Clock
from hongbao.platform.errors import InvalidInput
from hongbao.platform.invariants import invariant
from hongbao.platform.retries import next_try, run_claimed, run_handler
from hongbao.platform.unit_of_work import Database, UnitOfWork

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 10
MAX_EVENTS_PER_APPEND = 100
MAX_PAYLOAD_BYTES = 16_384
MAX_DELIVERIES_PER_PASS = 500
MAX_EVENTS_PER_READ = 1_000


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class NewEvent:
    stream: str  # e.g. "packet:p-123": the unit of ordering
    event_type: str  # past tense: PacketSent, PacketClaimed…
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    id: str
    stream: str
    stream_sequence: int
    event_type: str
    payload: str  # JSON object
    created_at_us: int

    def payload_object(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.payload)
        return decoded


@dataclass(frozen=True, slots=True)
class Delivery:
    consumer: str
    event_id: str
    stream: str
    stream_sequence: int
    state: DeliveryState
    attempts: int
    max_attempts: int
    next_attempt_at_us: int
    last_error: str | None
    delivered_at_us: int | None


class OutboxError(InvalidInput):
    code = "outbox.invalid"


class OutboxRepository(Protocol):
    def last_sequence(self, stream: str) -> int:
        """The highest sequence of ``stream`` so far, 0 for a new stream."""
        ...

    def insert_event(self, event: OutboxEvent) -> None: ...

    def insert_delivery(self, delivery: Delivery) -> None: ...

    def get_event(self, event_id: str) -> OutboxEvent | None: ...

    def events_after(self, stream: str, after: int, limit: int) -> list[OutboxEvent]:
        """``stream``'s events with a sequence above ``after``, in order, at most ``limit``
        (callers keep ``limit`` within ``MAX_EVENTS_PER_READ``)."""
        ...

    def get_delivery(self, consumer: str, event_id: str) -> Delivery | None: ...

    def replace_delivery(self, delivery: Delivery) -> None: ...

    def claim_next(self, now_us: int) -> Delivery | None:
        """A due pending delivery whose earlier stream events are all delivered, locked."""
        ...

    def deliveries_in_state(self, state: DeliveryState, limit: int) -> list[Delivery]: ...


Consumer = Callable[[UnitOfWork, OutboxEvent], None]


def append(
    outbox: OutboxRepository,
    events: Sequence[NewEvent],
    *,
    consumers: Sequence[str],
    now_us: int,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> list[OutboxEvent]:
    """Write ``events`` and a delivery per consumer, inside the caller's unit of work.

    Callers append under the lock that orders their stream (a packet's row, say); a race that
    slips past it collides on the unique (stream, sequence) key and the unit is retried.
    """
    if len(events) > MAX_EVENTS_PER_APPEND:
        raise OutboxError("too many events in one append", code="outbox.too_many_events")
    written: list[OutboxEvent] = []
    next_by_stream: dict[str, int] = {}
    for event in events:
        _check(event)
        sequence = next_by_stream.get(event.stream) or outbox.last_sequence(event.stream) + 1
        next_by_stream[event.stream] = sequence + 1
        stored = OutboxEvent(
            id=f"{event.stream}#{sequence}",
            stream=event.stream,
            stream_sequence=sequence,
            event_type=event.event_type,
            payload=json.dumps(dict(event.payload), sort_keys=True, separators=(",", ":")),
            created_at_us=now_us,
        )
        outbox.insert_event(stored)
        for consumer in consumers:
            outbox.insert_delivery(
                Delivery(consumer, stored.id, stored.stream, sequence, DeliveryState.PENDING,
                         0, max_attempts, now_us, None, None)
            )  # fmt: skip
        written.append(stored)
    return written


def _check(event: NewEvent) -> None:
    if not is_valid_id(event.stream) or not is_valid_id(event.event_type):
        raise OutboxError(
            "streams and event types are short printable ids", code="outbox.id_invalid"
        )
    if len(json.dumps(dict(event.payload)).encode()) > MAX_PAYLOAD_BYTES:
        raise OutboxError(
            f"payload over {MAX_PAYLOAD_BYTES} bytes", code="outbox.payload_too_large"
        )


@dataclass
class RelayReport:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Relay:
    """Delivers outbox events to the consumers registered here."""

    database: Database
    clock: Clock
    consumers: dict[str, Consumer] = field(default_factory=dict)

    def register(self, name: str, consumer: Consumer) -> None:
        invariant(name not in self.consumers, "one consumer per name", consumer=name)
        self.consumers[name] = consumer

    @property
    def names(self) -> list[str]:
        return sorted(self.consumers)

    def deliver_due(self, limit: int = MAX_DELIVERIES_PER_PASS) -> RelayReport:
        report = RelayReport()
        for _ in range(max(1, min(limit, MAX_DELIVERIES_PER_PASS))):
            outcome = self._deliver_one()
            if outcome is None:
                break
            delivery, error = outcome
            if error is None:
                report.delivered += 1
                continue
            report.failures.append((delivery.consumer, delivery.event_id, error))
            if delivery.state is DeliveryState.DEAD:
                report.dead += 1
            else:
                report.failed += 1
        return report

    def _deliver_one(self) -> tuple[Delivery, str | None] | None:
        def attempt(uow: UnitOfWork) -> Delivery | None:
            now_us = self.clock.now_us()
            delivery = uow.outbox.claim_next(now_us)
            if delivery is None:
                return None
            event = uow.outbox.get_event(delivery.event_id)
            invariant(event is not None, "a delivery's event exists", event_id=delivery.event_id)
            assert event is not None  # noqa: S101 - narrows the type; invariant() enforces
            run_handler(delivery, lambda: self._consumer(delivery.consumer)(uow, event))
            done = replace(
                delivery,
                state=DeliveryState.DELIVERED,
                attempts=delivery.attempts + 1,
                delivered_at_us=now_us,
            )
            uow.outbox.replace_delivery(done)
            return done

        done, failed = run_claimed(self.database, attempt)
        if failed is not None:
            return self._record_failure(failed.item, failed.message), failed.message
        return None if done is None else (done, None)

    def _consumer(self, name: str) -> Consumer:
        consumer = self.consumers.get(name)
        if consumer is None:
            raise LookupError(f"no consumer registered as {name!r}")
        return consumer

    def _record_failure(self, delivery: Delivery, message: str) -> Delivery:
        def record(uow: UnitOfWork) -> Delivery:
            now_us = self.clock.now_us()
            current = uow.outbox.get_delivery(delivery.consumer, delivery.event_id)
            invariant(current is not None, "a failed delivery exists", event_id=delivery.event_id)
            assert current is not None  # noqa: S101 - narrows the type; invariant() enforces
            retry = next_try(current.attempts, current.max_attempts, now_us)
            updated = replace(
                current,
                attempts=retry.attempts,
                last_error=message,
                state=DeliveryState.DEAD if retry.dead else DeliveryState.PENDING,
                next_attempt_at_us=retry.at_us,
            )
            uow.outbox.replace_delivery(updated)
            return updated

        updated = self.database.transact(record)
        logger.warning(
            "outbox delivery failed",
            extra={"consumer": delivery.consumer, "event_id": delivery.event_id},
        )
        return updated

    def replay(self, consumer: str, event_id: str) -> Delivery:
        """Operator action: a dead delivery becomes pending again, due now, attempts reset."""

        def revive(uow: UnitOfWork) -> Delivery:
            current = uow.outbox.get_delivery(consumer, event_id)
            if current is None or current.state is not DeliveryState.DEAD:
                raise OutboxError(
                    f"no dead delivery of {event_id!r} to {consumer!r}", code="outbox.not_dead"
                )
            revived = replace(
                current,
                state=DeliveryState.PENDING,
                attempts=0,
                next_attempt_at_us=self.clock.now_us(),
            )
            uow.outbox.replace_delivery(revived)
            return revived

        return self.database.transact(revive)


class _RollBack(Exception):
    pass
