"""The outbox on every adapter: events commit with their change, reach consumers in order."""

from __future__ import annotations

from typing import Any

import pytest

from hongbao.platform.clock import ManualClock
from hongbao.platform.outbox import (
    DeliveryState,
    NewEvent,
    OutboxError,
    OutboxEvent,
    Relay,
    append,
)
from hongbao.platform.retries import retry_delay_seconds
from hongbao.platform.unit_of_work import Database, UnitOfWork

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
