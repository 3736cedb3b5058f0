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

A chained stream's events (a packet's, ``platform.chain``) each carry the previous event's
hash and their own, computed here as they are numbered, so whatever writes an event to such a
stream extends its hash chain in the same transaction.

The relay works in batches: one transaction claims up to ``BATCH_SIZE`` deliveries — the
first open delivery of each of several streams (oldest due first) and the pending, due ones
that follow it in its stream — runs each consumer once over its share in stream order (a
``BatchConsumer`` takes them in one call), and marks them delivered in one statement per
consumer. If any consumer raises, the batch rolls back and its deliveries are run one
transaction each, so the failure is recorded against the delivery that caused it. On
PostgreSQL a stream's first open delivery is claimed with ``SKIP LOCKED``; whoever holds it
holds the rest of its stream, so several relays share the streams, never a stream.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from hongbao.platform.chain import (
    EMPTY,
    ChainHead,
    StreamHead,
    entry_hash,
    is_chained,
    payload_digest,
)
from hongbao.platform.clock import Clock
from hongbao.platform.errors import ErrorCode, InvalidInput, Outcome
from hongbao.platform.ids import is_valid_id
from hongbao.platform.invariants import invariant, present
from hongbao.platform.retries import HandlerFailed, next_try, run_claimed, run_handler
from hongbao.platform.unit_of_work import Database

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 10
MAX_EVENTS_PER_APPEND = 500  # a batch of claims, each with its event or two
MAX_PAYLOAD_BYTES = 16_384
MAX_DELIVERIES_PER_PASS = 500
# Deliveries per transaction when all goes well: fewer commits, claims and reads per event.
BATCH_SIZE = 100
# Streams whose heads a batch looks up first; each further page asks for twice as many.
FIRST_HEADS = 4
MAX_HEAD_PAGES = 6
MAX_EVENTS_PER_READ = 1_000


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event's wire form, as it is written: contexts build their typed events (``Event``)
    and turn them into this with :func:`new_event`."""

    stream: str  # e.g. "packet:p-123": the unit of ordering
    event_type: str  # past tense: PacketSent, PacketClaimed…
    payload: Mapping[str, Any]


class Event(Protocol):
    """A context's event: a frozen dataclass named in the past tense, declared in the
    context's ``events`` module. Its type name and payload are what stored events and SSE
    clients read, so neither may change once written."""

    @property
    def stream(self) -> str:
        """The stream it is ordered in, computed from its fields (e.g. ``packet:{id}``)."""
        ...

    @property
    def event_type(self) -> str:
        """Its type name: a class constant, e.g. ``PacketClaimed``."""
        ...

    def payload(self) -> dict[str, object]:
        """Its fields as the JSON object stored with it."""
        ...


def new_event(event: Event) -> NewEvent:
    """``event`` in its wire form, ready to append."""
    return NewEvent(event.stream, event.event_type, event.payload())


def new_events(events: Iterable[Event]) -> list[NewEvent]:
    return [new_event(event) for event in events]


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    id: str
    stream: str
    stream_sequence: int
    event_type: str
    payload: str  # JSON object
    created_at_us: int
    # Set on a chained stream's events (a packet's, see ``platform.chain``), None elsewhere.
    previous_hash: str | None = None
    entry_hash: str | None = None

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


@dataclass(frozen=True, slots=True)
class Head:
    """A claimed delivery that is first in line in its (consumer, stream); ``followed`` when
    later deliveries of that stream to that consumer are waiting too."""

    delivery: Delivery
    followed: bool


class OutboxCode(ErrorCode):
    """Codes of the errors the outbox raises; operators switch on their wire values."""

    INVALID = "outbox.invalid", Outcome.REFUSED, "事件有误。", "The event is invalid."
    ID_INVALID = "outbox.id_invalid", Outcome.REFUSED, "事件编号无效。", "The event id is invalid."
    PAYLOAD_TOO_LARGE = (
        "outbox.payload_too_large",
        Outcome.REFUSED,
        "事件的内容太大。",
        "The event's payload is too large.",
    )
    TOO_MANY_EVENTS = (
        "outbox.too_many_events",
        Outcome.REFUSED,
        "一次追加的事件太多。",
        "Too many events at once.",
    )
    NOT_DEAD = (
        "outbox.not_dead",
        Outcome.REFUSED,
        "只有已放弃的投递才能重新投递。",
        "Only a dead delivery can be retried.",
    )


class OutboxError(InvalidInput):
    code = OutboxCode.INVALID


class OutboxRepository(Protocol):
    def last_sequence(self, stream: str) -> int:
        """The highest sequence of ``stream`` so far, 0 for a new stream."""
        ...

    def read_heads(self, streams: Sequence[str]) -> Callable[[], dict[str, ChainHead]]:
        """Each stream's last event: its sequence and its hash (``EMPTY`` for a new stream,
        ``GENESIS`` as the hash of an unchained one), sent now, read later."""
        ...

    def chain_heads_between(
        self, start_us: int, end_us: int, *, after_stream: str, limit: int
    ) -> list[StreamHead]:
        """The chained streams that gained an event in [``start_us``, ``end_us``), each with
        its last event before ``end_us``, in stream order after ``after_stream``, at most
        ``limit``."""
        ...

    def insert_event(self, event: OutboxEvent) -> None: ...

    def insert_events(self, events: Sequence[OutboxEvent]) -> None: ...

    def insert_delivery(self, delivery: Delivery) -> None: ...

    def insert_deliveries(self, deliveries: Sequence[Delivery]) -> None: ...

    def insert_numbered(
        self,
        events: Sequence[tuple[NewEvent, Sequence[str]]],
        *,
        now_us: int,
        max_attempts: int,
    ) -> None:
        """Insert ``events`` (each with its consumers' deliveries), each stream numbered on
        from its last event as the store finds it when writing: no look-up first (one
        statement where the engine allows). Callers hold the lock that orders each stream."""
        ...

    def get_event(self, event_id: str) -> OutboxEvent | None: ...

    def events_after(self, stream: str, after: int, limit: int) -> list[OutboxEvent]:
        """``stream``'s events with a sequence above ``after``, in order, at most ``limit``
        (callers keep ``limit`` within ``MAX_EVENTS_PER_READ``)."""
        ...

    def get_delivery(self, consumer: str, event_id: str) -> Delivery | None: ...

    def replace_delivery(self, delivery: Delivery) -> None: ...

    def lock_delivery(self, consumer: str, event_id: str) -> Delivery | None:
        """The delivery, its row held until the unit of work ends."""
        ...

    def get_events(self, event_ids: Sequence[str]) -> dict[str, OutboxEvent]:
        """The listed events that exist, by id, in one read (at most ``MAX_EVENTS_PER_READ``)."""
        ...

    def claim_heads(self, now_us: int, limit: int, after: Delivery | None = None) -> list[Head]:
        """Up to ``limit`` due pending deliveries whose earlier stream events are all delivered
        to their consumer, oldest due first (then by consumer, stream and sequence), locked;
        rows other workers hold are skipped. With ``after``: those that come after it."""
        ...

    def followers(self, head: Delivery, limit: int) -> list[Delivery]:
        """The deliveries after ``head`` in its consumer's stream not yet delivered, in order,
        at most ``limit``, locked (waiting for rows others hold, so the run has no gaps)."""
        ...

    def mark_delivered(self, consumer: str, event_ids: Sequence[str], now_us: int) -> None:
        """Each listed delivery of ``consumer``, pending, becomes delivered: one attempt more."""
        ...

    def deliveries_in_state(self, state: DeliveryState, limit: int) -> list[Delivery]:
        """Up to ``limit`` deliveries in ``state``, in claim order (delivered ones are history:
        no index serves listing them)."""
        ...


class OutboxUnitOfWork(Protocol):
    """What the relay needs of a unit of work; the units of work consumers run in have it."""

    @property
    def outbox(self) -> OutboxRepository: ...


U = TypeVar("U", bound=OutboxUnitOfWork)
U_contra = TypeVar("U_contra", contravariant=True)

Consumer = Callable[[U, OutboxEvent], None]


@runtime_checkable
class BatchConsumer(Protocol[U_contra]):
    """A consumer that also takes several events in one call, to share work among them."""

    def __call__(self, uow: U_contra, event: OutboxEvent) -> None: ...

    def deliver_batch(self, uow: U_contra, events: Sequence[OutboxEvent]) -> None:
        """``events`` hold each stream's events in stream order; streams may interleave."""
        ...


def append(
    outbox: OutboxRepository,
    events: Sequence[NewEvent],
    *,
    consumers: Sequence[str],
    now_us: int,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    last_sequences: Mapping[str, int] | None = None,
    heads: Mapping[str, ChainHead] | None = None,
) -> list[OutboxEvent]:
    """Write ``events`` and a delivery per consumer, inside the caller's unit of work.

    Callers append under the lock that orders their stream (a packet's row, say); a race that
    slips past it collides on the unique (stream, sequence) key and the unit is retried.
    ``last_sequences``: the streams' last sequences, when the caller read them already under
    that lock (with its other reads, in one round trip); ``heads``: the same with the chained
    streams' last hashes (``OutboxRepository.read_heads``).
    """
    return append_timed(
        outbox,
        [(event, now_us) for event in events],
        consumers=consumers,
        max_attempts=max_attempts,
        last_sequences=last_sequences,
        heads=heads,
    )


def append_timed(
    outbox: OutboxRepository,
    events: Sequence[tuple[NewEvent, int]],
    *,
    consumers: Sequence[str],
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    last_sequences: Mapping[str, int] | None = None,
    heads: Mapping[str, ChainHead] | None = None,
) -> list[OutboxEvent]:
    """``append`` for events that each carry the time they happened (``created_at_us``, and
    when their deliveries fall due): a copy of an event keeps its source's time, and a batch of
    copies made at different times is written in one look-up and one insert per table.
    """
    if len(events) > MAX_EVENTS_PER_APPEND:
        raise OutboxError("too many events in one append", code=OutboxCode.TOO_MANY_EVENTS)
    for event, _at_us in events:
        _check(event)
    # One look-up for every stream's last sequence (and a chained stream's last hash) and one
    # bulk insert per table: a batch of claims on many packets appends all its events in a
    # fixed number of statements.
    streams = sorted({event.stream for event, _at_us in events})
    known = _known_heads(outbox, streams, last_sequences, heads)
    written, deliveries = number_events(
        [(event, at_us, consumers) for event, at_us in events], known, max_attempts
    )
    outbox.insert_events(written)
    outbox.insert_deliveries(deliveries)
    return written


def _known_heads(
    outbox: OutboxRepository,
    streams: Sequence[str],
    last_sequences: Mapping[str, int] | None,
    heads: Mapping[str, ChainHead] | None,
) -> dict[str, ChainHead]:
    """Each stream's head: from ``heads``; from ``last_sequences`` for an unchained stream or
    a new one (whose previous hash is ``GENESIS``); read, in one look-up, for the rest."""
    known: dict[str, ChainHead] = {}
    for stream in streams:
        if heads is not None and stream in heads:
            known[stream] = heads[stream]
        elif last_sequences is not None and stream in last_sequences:
            last = last_sequences[stream]
            if last == 0 or not is_chained(stream):
                known[stream] = ChainHead(last, EMPTY.hash)
    missing = [stream for stream in streams if stream not in known]
    if missing:
        known.update(outbox.read_heads(missing)())
    return known


@dataclass
class EventBatch:
    """Events of one unit of work gathered from its parts, each part with its consumers, to
    be written together by :func:`append_batch`."""

    items: list[tuple[NewEvent, tuple[str, ...]]] = field(default_factory=list)

    def add(self, events: Sequence[NewEvent], consumers: Sequence[str]) -> None:
        self.items.extend((event, tuple(consumers)) for event in events)


def append_batch(
    outbox: OutboxRepository,
    batch: EventBatch,
    *,
    now_us: int,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> None:
    """``append`` for a batch gathered across a unit of work, numbered by the store as it
    writes (see ``OutboxRepository.insert_numbered``): one write, no sequence look-up. A batch
    with a chained stream's events looks its heads up first, to hash them as they are numbered.
    """
    if len(batch.items) > MAX_EVENTS_PER_APPEND:
        raise OutboxError("too many events in one append", code=OutboxCode.TOO_MANY_EVENTS)
    for event, _consumers in batch.items:
        _check(event)
    if not batch.items:
        return
    streams = sorted({event.stream for event, _consumers in batch.items})
    if not any(is_chained(stream) for stream in streams):
        outbox.insert_numbered(batch.items, now_us=now_us, max_attempts=max_attempts)
        return
    written, deliveries = number_events(
        [(event, now_us, consumers) for event, consumers in batch.items],
        outbox.read_heads(streams)(),
        max_attempts,
    )
    outbox.insert_events(written)
    outbox.insert_deliveries(deliveries)


def number_events(
    events: Sequence[tuple[NewEvent, int, Sequence[str]]],
    heads: Mapping[str, ChainHead],
    max_attempts: int,
) -> tuple[list[OutboxEvent], list[Delivery]]:
    """The rows of ``events`` (each with the time it happened and its consumers), each stream
    numbered on from its head, a chained stream's events each hashing the one before."""
    streams = {event.stream for event, _at_us, _consumers in events}
    invariant(streams <= set(heads), "every stream's head is known")
    next_heads = dict(heads)
    written: list[OutboxEvent] = []
    deliveries: list[Delivery] = []
    for event, at_us, consumers in events:
        head = next_heads[event.stream]
        stored = _numbered(event, head, at_us)
        next_heads[event.stream] = ChainHead(stored.stream_sequence, stored.entry_hash or head.hash)
        deliveries += [
            Delivery(
                consumer,
                stored.id,
                stored.stream,
                stored.stream_sequence,
                DeliveryState.PENDING,
                0,
                max_attempts,
                at_us,
                None,
                None,
            )
            for consumer in consumers
        ]
        written.append(stored)
    return written, deliveries


def _numbered(event: NewEvent, head: ChainHead, at_us: int) -> OutboxEvent:
    sequence = head.sequence + 1
    payload = encode_payload(event)
    chained = is_chained(event.stream)
    own_hash = (
        entry_hash(
            event.stream,
            sequence,
            event.event_type,
            at_us,
            head.hash,
            payload_digest(payload),
        )
        if chained
        else None
    )
    return OutboxEvent(
        id=f"{event.stream}#{sequence}",
        stream=event.stream,
        stream_sequence=sequence,
        event_type=event.event_type,
        payload=payload,
        created_at_us=at_us,
        previous_hash=head.hash if chained else None,
        entry_hash=own_hash,
    )


def encode_payload(event: NewEvent) -> str:
    return json.dumps(dict(event.payload), sort_keys=True, separators=(",", ":"))


def _check(event: NewEvent) -> None:
    if not is_valid_id(event.stream) or not is_valid_id(event.event_type):
        raise OutboxError(
            "streams and event types are short printable ids", code=OutboxCode.ID_INVALID
        )
    if len(json.dumps(dict(event.payload)).encode()) > MAX_PAYLOAD_BYTES:
        raise OutboxError(
            f"payload over {MAX_PAYLOAD_BYTES} bytes", code=OutboxCode.PAYLOAD_TOO_LARGE
        )


@dataclass
class RelayReport:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, delivery: Delivery, error: str | None) -> None:
        if error is None:
            self.delivered += 1
            return
        self.failures.append((delivery.consumer, delivery.event_id, error))
        if delivery.state is DeliveryState.DEAD:
            self.dead += 1
        else:
            self.failed += 1


class _BatchFailed(Exception):
    """Raised out of a batch's transaction, so that it rolls back, when a consumer failed."""

    def __init__(self, failed: HandlerFailed[Delivery], claimed: int) -> None:
        super().__init__(failed.message)
        self.failed = failed
        self.claimed = claimed


@dataclass
class Relay(Generic[U]):
    """Delivers outbox events to the consumers registered here."""

    database: Database[U]
    clock: Clock
    consumers: dict[str, Consumer[U]] = field(default_factory=dict)

    def register(self, name: str, consumer: Consumer[U]) -> None:
        invariant(name not in self.consumers, "one consumer per name", consumer=name)
        self.consumers[name] = consumer

    @property
    def names(self) -> list[str]:
        return sorted(self.consumers)

    def deliver_due(self, limit: int = MAX_DELIVERIES_PER_PASS) -> RelayReport:
        """Deliver up to ``limit`` due deliveries, a batch per transaction.

        A batch commits only if every consumer in it succeeds. When one raises, the batch
        rolls back whole and as many deliveries as it held are run again one transaction each,
        so the failure is recorded against its own delivery and the others are delivered.
        """
        report = RelayReport()
        remaining = max(1, min(limit, MAX_DELIVERIES_PER_PASS))
        while remaining > 0:
            size = min(BATCH_SIZE, remaining)
            remaining -= size
            try:
                delivered = self.database.transact(partial(self._deliver_batch, size=size))
            except _BatchFailed as batch:
                logger.warning(
                    "outbox batch failed; delivering its events one at a time",
                    extra={"consumer": batch.failed.item.consumer, "error": batch.failed.message},
                )
                if not self._deliver_singly(batch.claimed, report):
                    break
                continue
            report.delivered += delivered
            if delivered < size:
                break
        return report

    def _deliver_batch(self, uow: U, size: int) -> int:
        """Claim up to ``size`` deliverable deliveries, run their consumers, mark them."""
        now_us = self.clock.now_us()
        claimed = claim_batch(uow.outbox, now_us, size)
        events = uow.outbox.get_events([delivery.event_id for delivery in claimed])
        for name, deliveries in _by_consumer(claimed).items():
            batch = [_event_of(events, delivery) for delivery in deliveries]
            try:
                run_handler(deliveries[0], partial(self._run_consumer, name, uow, batch))
            except HandlerFailed as failed:
                raise _BatchFailed(failed, len(claimed)) from failed
            uow.outbox.mark_delivered(name, [d.event_id for d in deliveries], now_us)
        return len(claimed)

    def _run_consumer(self, name: str, uow: U, events: Sequence[OutboxEvent]) -> None:
        consumer = self._consumer(name)
        if isinstance(consumer, BatchConsumer):
            consumer.deliver_batch(uow, events)
            return
        for event in events:
            consumer(uow, event)

    def _deliver_singly(self, count: int, report: RelayReport) -> bool:
        """Up to ``count`` deliveries one transaction each; False when nothing more is due."""
        for _ in range(count):
            outcome = self._deliver_one()
            if outcome is None:
                return False
            report.add(*outcome)
        return True

    def _deliver_one(self) -> tuple[Delivery, str | None] | None:
        def attempt(uow: U) -> Delivery | None:
            now_us = self.clock.now_us()
            heads = uow.outbox.claim_heads(now_us, 1)
            if not heads:
                return None
            delivery = heads[0].delivery
            event = _event_of(uow.outbox.get_events([delivery.event_id]), delivery)
            run_handler(delivery, lambda: self._consumer(delivery.consumer)(uow, event))
            uow.outbox.mark_delivered(delivery.consumer, [delivery.event_id], now_us)
            return replace(
                delivery,
                state=DeliveryState.DELIVERED,
                attempts=delivery.attempts + 1,
                delivered_at_us=now_us,
            )

        done, failed = run_claimed(self.database, attempt)
        if failed is not None:
            return self._record_failure(failed.item, failed.message), failed.message
        return None if done is None else (done, None)

    def _consumer(self, name: str) -> Consumer[U]:
        consumer = self.consumers.get(name)
        if consumer is None:
            raise LookupError(f"no consumer registered as {name!r}")
        return consumer

    def _record_failure(self, delivery: Delivery, message: str) -> Delivery:
        def record(uow: U) -> Delivery:
            now_us = self.clock.now_us()
            current = present(
                uow.outbox.lock_delivery(delivery.consumer, delivery.event_id),
                "a failed delivery exists",
                event_id=delivery.event_id,
            )
            if current.state is not DeliveryState.PENDING or current.attempts != delivery.attempts:
                # Between the rollback and this lock another worker delivered it, or recorded
                # an attempt of its own: writing this older outcome over it would undo that.
                return current
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

        def revive(uow: U) -> Delivery:
            current = uow.outbox.lock_delivery(consumer, event_id)
            if current is None or current.state is not DeliveryState.DEAD:
                raise OutboxError(
                    f"no dead delivery of {event_id!r} to {consumer!r}", code=OutboxCode.NOT_DEAD
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


def claim_batch(outbox: OutboxRepository, now_us: int, size: int) -> list[Delivery]:
    """Up to ``size`` deliveries that may be delivered now, locked, in the order to run them.

    Streams are taken oldest due first: each one's first open delivery (its head), then the
    pending, due deliveries that follow it, up to the first one that is not (retrying, dead).
    Heads are looked up a page at a time, the page doubling while room remains, so a backlog
    of long streams costs a few heads, and one of short streams a few statements.
    """
    claimed: list[Delivery] = []
    after: Delivery | None = None
    wanted = FIRST_HEADS
    for _ in range(MAX_HEAD_PAGES):
        room = size - len(claimed)
        if room <= 0:
            break
        asked = min(wanted, room)
        heads = outbox.claim_heads(now_us, asked, after)
        claimed += _with_followers(outbox, heads, now_us, room)
        if len(heads) < asked:
            break
        after = heads[-1].delivery
        wanted *= 2
    return claimed


def _with_followers(
    outbox: OutboxRepository, heads: Sequence[Head], now_us: int, room: int
) -> list[Delivery]:
    """Every head, each with as many of its followers as the room left by the heads allows,
    earlier heads first. Whoever holds a head is the only one to read its followers."""
    spare = room - len(heads)
    taken: list[Delivery] = []
    for head in heads:
        taken.append(head.delivery)
        if head.followed and spare > 0:
            run = _due_run(outbox.followers(head.delivery, spare), now_us)
            spare -= len(run)
            taken += run
    return taken


def _due_run(followers: Sequence[Delivery], now_us: int) -> list[Delivery]:
    """The followers up to the first one not pending and due (it holds back the rest)."""
    run: list[Delivery] = []
    for delivery in followers:
        if delivery.state is not DeliveryState.PENDING or delivery.next_attempt_at_us > now_us:
            break
        run.append(delivery)
    return run


def _by_consumer(deliveries: Sequence[Delivery]) -> dict[str, list[Delivery]]:
    grouped: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        grouped.setdefault(delivery.consumer, []).append(delivery)
    return grouped


def _event_of(events: Mapping[str, OutboxEvent], delivery: Delivery) -> OutboxEvent:
    event = present(
        events.get(delivery.event_id), "a delivery's event exists", event_id=delivery.event_id
    )
    return event


class _RollBack(Exception):
    pass
