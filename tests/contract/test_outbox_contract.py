"""The outbox on every adapter: events commit with their change, reach consumers in order."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from hongbao.platform.clock import ManualClock, SystemClock
from hongbao.platform.outbox import (
    Consumer,
    DeliveryState,
    EventBatch,
    NewEvent,
    OutboxError,
    OutboxEvent,
    Relay,
    append,
    append_batch,
)
from hongbao.platform.retries import retry_delay_seconds
from hongbao.storage.unit_of_work import Database, UnitOfWork

CONSUMERS = ("feed", "score")


@pytest.fixture
def seen() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def repaired() -> set[str]:
    """Event ids the score consumer has been fixed for (it fails on ``fail`` until then)."""
    return set()


@pytest.fixture
def relay(
    database: Database, clock: ManualClock, seen: list[tuple[str, str]], repaired: set[str]
) -> Relay:
    relay = Relay(database, clock)

    def feed(uow: UnitOfWork, event: OutboxEvent) -> None:
        seen.append(("feed", event.id))

    def score(uow: UnitOfWork, event: OutboxEvent) -> None:
        if event.payload_object().get("fail") and event.id not in repaired:
            raise RuntimeError("score service down")
        seen.append(("score", event.id))

    relay.register("feed", feed)
    relay.register("score", score)
    return relay


def publish(database: Database, clock: ManualClock, *events: NewEvent) -> list[OutboxEvent]:
    return database.transact(
        lambda uow: append(uow.outbox, list(events), consumers=CONSUMERS, now_us=clock.now_us())
    )


def event(stream: str, kind: str, **payload: Any) -> NewEvent:
    return NewEvent(stream, kind, payload)


def test_events_are_numbered_per_stream_and_delivered_to_every_consumer_in_order(
    database: Database, clock: ManualClock, relay: Relay, seen: list[tuple[str, str]]
) -> None:
    publish(database, clock, event("packet:p-1", "PacketSent"), event("packet:p-2", "PacketSent"))
    written = publish(database, clock, event("packet:p-1", "PacketClaimed", user="bob"))
    assert [e.id for e in written] == ["packet:p-1#2"]
    assert relay.deliver_due().delivered == 6
    assert relay.deliver_due().delivered == 0
    for consumer in CONSUMERS:
        order = [event_id for name, event_id in seen if name == consumer and "p-1" in event_id]
        assert order == ["packet:p-1#1", "packet:p-1#2"]


def test_a_batch_numbers_each_stream_on_from_its_last_event_as_it_writes(
    database: Database, clock: ManualClock, relay: Relay, seen: list[tuple[str, str]]
) -> None:
    publish(database, clock, event("packet:p-1", "PacketSent"))
    batch = EventBatch()
    batch.add([event("recall:k-1", "RecallRequested"), event("recall:k-1", "RecallDecided")], ())
    batch.add([event("packet:p-1", "PacketRecalled", returned=5)], CONSUMERS)
    database.transact(lambda uow: append_batch(uow.outbox, batch, now_us=clock.now_us()))

    def stored(uow: UnitOfWork) -> list[OutboxEvent]:
        return [
            *uow.outbox.events_after("recall:k-1", 0, 10),
            *uow.outbox.events_after("packet:p-1", 0, 10),
        ]

    events = database.read(stored)
    assert [(e.id, e.event_type) for e in events] == [
        ("recall:k-1#1", "RecallRequested"),
        ("recall:k-1#2", "RecallDecided"),
        ("packet:p-1#1", "PacketSent"),
        ("packet:p-1#2", "PacketRecalled"),
    ]
    assert events[3].payload_object() == {"returned": 5}
    assert events[3].created_at_us == clock.now_us()
    assert relay.deliver_due().delivered == 4  # the packet's two events, to each consumer
    assert sorted(event_id for _name, event_id in seen) == sorted(
        ["packet:p-1#1", "packet:p-1#2"] * len(CONSUMERS)
    )


def test_an_event_is_written_only_if_its_change_commits(
    database: Database, clock: ManualClock, relay: Relay
) -> None:
    def change_that_fails(uow: UnitOfWork) -> None:
        append(uow.outbox, [event("packet:p-9", "PacketSent")], consumers=CONSUMERS, now_us=1)
        raise RuntimeError("the change itself failed")

    with pytest.raises(RuntimeError):
        database.transact(change_that_fails)
    assert relay.deliver_due().delivered == 0


def test_a_failing_consumer_holds_back_later_events_of_its_stream_only(
    database: Database, clock: ManualClock, relay: Relay, seen: list[tuple[str, str]]
) -> None:
    publish(
        database,
        clock,
        event("packet:p-1", "PacketSent", fail=True),
        event("packet:p-1", "PacketClaimed"),
        event("packet:p-2", "PacketSent"),
    )
    report = relay.deliver_due()
    assert report.failed == 1
    assert ("score", "packet:p-1#2") not in seen  # waits behind the failed p-1#1
    assert ("score", "packet:p-2#1") in seen  # another stream is not held up
    assert ("feed", "packet:p-1#2") in seen  # another consumer is not held up
    for attempt in range(1, 10):
        clock.advance(seconds=retry_delay_seconds(attempt))
        relay.deliver_due()
    (dead,) = database.read(lambda uow: uow.outbox.deliveries_in_state(DeliveryState.DEAD, 10))
    assert (dead.consumer, dead.event_id, dead.attempts) == ("score", "packet:p-1#1", 10)
    assert dead.last_error == "RuntimeError: score service down"


def test_a_dead_delivery_can_be_replayed_by_an_operator(
    database: Database,
    clock: ManualClock,
    relay: Relay,
    seen: list[tuple[str, str]],
    repaired: set[str],
) -> None:
    publish(
        database,
        clock,
        event("packet:p-1", "PacketSent", fail=True),
        event("packet:p-1", "PacketClaimed"),
    )
    for attempt in range(10):
        clock.advance(seconds=retry_delay_seconds(attempt))
        relay.deliver_due()
    with pytest.raises(OutboxError) as refused:
        relay.replay("feed", "packet:p-1#1")  # delivered, not dead
    assert refused.value.code == "outbox.not_dead"
    repaired.add("packet:p-1#1")
    assert relay.replay("score", "packet:p-1#1").state is DeliveryState.PENDING
    assert relay.deliver_due().delivered == 2
    score_order = [event_id for name, event_id in seen if name == "score"]
    assert score_order == ["packet:p-1#1", "packet:p-1#2"]


def test_bad_events_are_refused_before_anything_is_written(
    database: Database, clock: ManualClock, relay: Relay
) -> None:
    with pytest.raises(OutboxError) as refused:
        publish(database, clock, event("bad stream", "PacketSent"))
    assert refused.value.code == "outbox.id_invalid"
    with pytest.raises(OutboxError) as too_big:
        publish(database, clock, event("packet:p-1", "PacketSent", blob="x" * 20_000))
    assert too_big.value.code == "outbox.payload_too_large"
    assert relay.deliver_due().delivered == 0


def copy_stream(stream: str) -> str:
    return f"copy:{stream}"


def copier(failing: set[str]) -> Consumer:
    """A consumer whose effect is in the database: it appends a copy of each event to a stream
    of its own, so a rolled-back batch leaves no copy and a committed one leaves exactly one."""

    def copy(uow: UnitOfWork, source: OutboxEvent) -> None:
        if source.id in failing:
            raise RuntimeError(f"cannot copy {source.id}")
        copied = NewEvent(copy_stream(source.stream), "Copied", {"source": source.stream_sequence})
        append(uow.outbox, [copied], consumers=(), now_us=source.created_at_us)

    return copy


def copied_sequences(database: Database, stream: str) -> list[int]:
    copies = database.read(lambda uow: uow.outbox.events_after(copy_stream(stream), 0, 1_000))
    return [int(copy.payload_object()["source"]) for copy in copies]


class RecordingBatchConsumer:
    """A batch-capable consumer that notes each call it gets and the events in it."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, uow: UnitOfWork, event: OutboxEvent) -> None:
        self.deliver_batch(uow, [event])

    def deliver_batch(self, uow: UnitOfWork, events: Sequence[OutboxEvent]) -> None:
        self.calls.append([event.id for event in events])


def publish_to(
    database: Database, clock: ManualClock, consumers: Sequence[str], *events: NewEvent
) -> None:
    database.transact(
        lambda uow: append(uow.outbox, list(events), consumers=consumers, now_us=clock.now_us())
    )


def test_one_batch_delivers_several_streams_each_in_its_order(
    database: Database, clock: ManualClock
) -> None:
    relay = Relay(database, clock)
    relay.register("copier", copier(set()))
    feed = RecordingBatchConsumer()
    relay.register("feed", feed)
    streams = [f"packet:p-{n}" for n in range(5)]
    for round_number in range(6):
        clock.advance(microseconds=1)
        events = [event(stream, "PacketClaimed", n=round_number) for stream in streams]
        publish_to(database, clock, ("copier", "feed"), *events)

    report = relay.deliver_due()

    assert (report.delivered, report.failed) == (60, 0)
    assert len(feed.calls) == 1  # every event of the batch in one call
    for stream in streams:
        assert copied_sequences(database, stream) == [1, 2, 3, 4, 5, 6]
        in_call = [int(e.split("#")[1]) for e in feed.calls[0] if e.startswith(f"{stream}#")]
        assert in_call == [1, 2, 3, 4, 5, 6]
    assert relay.deliver_due().delivered == 0


def test_a_consumer_failing_in_a_batch_is_retried_alone_and_its_stream_waits_for_it(
    database: Database, clock: ManualClock
) -> None:
    failing = {"packet:p-2#2"}
    relay = Relay(database, clock)
    relay.register("copier", copier(failing))
    for round_number in range(4):
        clock.advance(microseconds=1)
        events = [event(f"packet:p-{n}", "PacketClaimed", n=round_number) for n in range(1, 4)]
        publish_to(database, clock, ("copier",), *events)

    report = relay.deliver_due()

    assert (report.delivered, report.failed, report.dead) == (9, 1, 0)
    assert [failure[1] for failure in report.failures] == ["packet:p-2#2"]
    assert copied_sequences(database, "packet:p-1") == [1, 2, 3, 4]
    assert copied_sequences(database, "packet:p-2") == [1]  # #3 and #4 wait behind #2
    assert copied_sequences(database, "packet:p-3") == [1, 2, 3, 4]
    retried = database.read(lambda uow: uow.outbox.get_delivery("copier", "packet:p-2#2"))
    assert retried is not None
    assert (retried.state, retried.attempts) == (DeliveryState.PENDING, 1)
    assert relay.deliver_due().delivered == 0  # not due before its backoff

    failing.clear()
    clock.advance(seconds=retry_delay_seconds(1))
    assert relay.deliver_due().delivered == 3
    assert copied_sequences(database, "packet:p-2") == [1, 2, 3, 4]


def test_a_retried_delivery_runs_before_the_many_later_events_of_its_stream(
    database: Database, clock: ManualClock
) -> None:
    """Its followers were due long before its retry: they still wait for it, and more of them
    than a batch holds do not stop the stream or any other from moving."""
    failing = {"packet:p-1#1"}
    relay = Relay(database, clock)
    relay.register("copier", copier(failing))
    publish_to(database, clock, ("copier",), event("packet:p-1", "PacketSent"))
    assert relay.deliver_due().failed == 1
    for chunk in range(3):
        clock.advance(microseconds=1)
        claims = [event("packet:p-1", "PacketClaimed", n=chunk * 50 + n) for n in range(50)]
        publish_to(database, clock, ("copier",), *claims)
    publish_to(database, clock, ("copier",), event("packet:p-2", "PacketSent"))
    assert relay.deliver_due().delivered == 1  # p-2, while p-1#1 waits out its backoff

    failing.clear()
    clock.advance(seconds=retry_delay_seconds(1))
    assert relay.deliver_due().delivered == 151
    assert copied_sequences(database, "packet:p-1") == list(range(1, 152))


@pytest.mark.postgres
def test_two_relays_on_postgresql_copy_every_event_once_and_in_stream_order(
    postgres_database: Database,
) -> None:
    clock = SystemClock()
    streams = [f"packet:p-{n}" for n in range(12)]
    for round_number in range(25):
        events = [event(stream, "PacketClaimed", n=round_number) for stream in streams]
        postgres_database.transact(
            lambda uow, events=events: append(
                uow.outbox, events, consumers=("copier",), now_us=clock.now_us()
            )
        )
    expected = len(streams) * 25
    delivered: list[int] = []
    errors: list[BaseException] = []

    def run_relay() -> None:
        relay = Relay(postgres_database, clock)
        relay.register("copier", copier(set()))
        deadline = time.monotonic() + 60
        try:
            while sum(delivered) < expected and time.monotonic() < deadline:
                delivered.append(relay.deliver_due(limit=30).delivered)
        except BaseException as error:
            errors.append(error)
            raise

    relays = [threading.Thread(target=run_relay) for _ in range(2)]
    for thread in relays:
        thread.start()
    for thread in relays:
        thread.join(timeout=90)

    assert errors == []
    assert sum(delivered) == expected
    for stream in streams:
        assert copied_sequences(postgres_database, stream) == list(range(1, 26))
    pending = postgres_database.read(
        lambda uow: uow.outbox.deliveries_in_state(DeliveryState.PENDING, 10)
    )
    assert pending == []
