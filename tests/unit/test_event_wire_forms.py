"""The typed events' wire forms: type names, streams and payloads, pinned byte for byte.

Stored events and SSE clients read these names and payloads, so the dicts below are the ones
the code wrote by hand before events were typed; a change here breaks them.
"""

from __future__ import annotations

import dataclasses
import inspect
import types

import pytest

from hongbao.packets import events as packet_events
from hongbao.packets.events import (
    AuthorizationCaptured,
    PacketClaimed,
    PacketDelivered,
    PacketExhausted,
    PacketExpired,
    PacketRecalled,
    PacketScheduled,
    PacketSent,
    ScheduledSendCancelled,
)
from hongbao.packets.user_feed import AUDIENCE_EVENTS, FeedCopy
from hongbao.platform.outbox import Event, NewEvent, encode_payload, new_event, new_events
from hongbao.recall import events as recall_events
from hongbao.recall.events import RecallDecided, RecallRequested
from hongbao.recall.model import DecisionResult
from hongbao.recall.reasons import ReasonCode
from hongbao.refunds.events import RefundProgressed

# One sample of each event, its stream and the exact payload written before typed events.
SAMPLES: list[tuple[Event, str, dict[str, object]]] = [
    (PacketSent("p-1", 3000), "packet:p-1", {"packet_id": "p-1", "total": 3000}),
    (
        PacketClaimed("p-1", "liu-yang", 1000),
        "packet:p-1",
        {"packet_id": "p-1", "user": "liu-yang", "amount": 1000},
    ),
    (PacketExhausted("p-1"), "packet:p-1", {"packet_id": "p-1"}),
    (PacketExpired("p-1", 166), "packet:p-1", {"packet_id": "p-1", "refunded": 166}),
    (PacketRecalled("p-1", 2000), "packet:p-1", {"packet_id": "p-1", "returned": 2000}),
    (
        AuthorizationCaptured("p-1", 3000, "USD"),
        "packet:p-1",
        {"packet_id": "p-1", "charged": 3000, "currency": "USD"},
    ),
    (
        PacketScheduled("p-1", 3000, 1_765_000_000_000_000),
        "packet:p-1",
        {"packet_id": "p-1", "total": 3000, "deliver_at": 1_765_000_000_000_000},
    ),
    (ScheduledSendCancelled("p-1", 3000), "packet:p-1", {"packet_id": "p-1", "returned": 3000}),
    (
        PacketDelivered("p-1", 1_765_000_000_000_000),
        "packet:p-1",
        {"packet_id": "p-1", "deliver_at": 1_765_000_000_000_000},
    ),
    (RecallRequested("k-1", "p-1"), "recall:k-1", {"recall_key": "k-1", "packet_id": "p-1"}),
    (
        RefundProgressed(
            "p-1",
            "recall:p-1",
            "in_clearing",
            "in refund clearing, on its way",
            "debit_card",
            2000,
            "CNY",
            1796000000000000,
        ),
        "packet:p-1",
        {
            "packet_id": "p-1",
            "refund": "recall:p-1",
            "state": "in_clearing",
            "where": "in refund clearing, on its way",
            "route": "debit_card",
            "amount": 2000,
            "currency": "CNY",
            "arrives_at_us": 1796000000000000,
        },
    ),
    (
        RecallDecided(
            "k-1",
            "d-0ebbe4c81225203b3a70",
            DecisionResult.CHALLENGE,
            (ReasonCode.FACE_REQUIRED, ReasonCode.NOT_SENDING_DEVICE),
        ),
        "recall:k-1",
        {
            "recall_key": "k-1",
            "decision_id": "d-0ebbe4c81225203b3a70",
            "result": "challenge",
            "reasons": ["security.face_required", "device.not_sending_device"],
        },
    ),
]

# The stored JSON of each sample, exactly as the outbox writes it.
ENCODED = [
    '{"packet_id":"p-1","total":3000}',
    '{"amount":1000,"packet_id":"p-1","user":"liu-yang"}',
    '{"packet_id":"p-1"}',
    '{"packet_id":"p-1","refunded":166}',
    '{"packet_id":"p-1","returned":2000}',
    '{"charged":3000,"currency":"USD","packet_id":"p-1"}',
    '{"deliver_at":1765000000000000,"packet_id":"p-1","total":3000}',
    '{"packet_id":"p-1","returned":3000}',
    '{"deliver_at":1765000000000000,"packet_id":"p-1"}',
    '{"packet_id":"p-1","recall_key":"k-1"}',
    '{"amount":2000,"arrives_at_us":1796000000000000,"currency":"CNY","packet_id":"p-1",'
    '"refund":"recall:p-1","route":"debit_card","state":"in_clearing",'
    '"where":"in refund clearing, on its way"}',
    '{"decision_id":"d-0ebbe4c81225203b3a70","reasons":["security.face_required",'
    '"device.not_sending_device"],"recall_key":"k-1","result":"challenge"}',
]


def _event_names(module: types.ModuleType) -> dict[str, object]:
    """The type name of each public event class the module declares, by class name."""
    return {
        name: getattr(cls, "event_type", None)
        for name, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module.__name__
        and not name.startswith("_")
        and dataclasses.is_dataclass(cls)
    }


def test_each_context_declares_exactly_the_event_names_it_always_wrote() -> None:
    """Each class's type name is its own name, and the sets are the names stored so far."""
    packets = _event_names(packet_events)
    recalls = _event_names(recall_events)
    assert set(packets) == {
        "PacketSent",
        "PacketClaimed",
        "PacketExhausted",
        "PacketExpired",
        "PacketRecalled",
        "AuthorizationCaptured",
        # Delayed sends (R-B1).
        "PacketScheduled",
        "ScheduledSendCancelled",
        "PacketDelivered",
    }
    assert set(recalls) == {"RecallRequested", "RecallDecided"}
    for name, event_type in {**packets, **recalls}.items():
        assert event_type == name


@pytest.mark.parametrize(
    ("event", "stream", "payload"), SAMPLES, ids=[type(sample[0]).__name__ for sample in SAMPLES]
)
def test_an_events_stream_and_payload_are_the_ones_written_before(
    event: Event, stream: str, payload: dict[str, object]
) -> None:
    """Same keys, same values, same JSON types (integers for minor units, text for ids)."""
    assert event.stream == stream
    assert event.payload() == payload
    assert [type(value) for value in event.payload().values()] == [
        type(value) for value in payload.values()
    ]


def test_the_stored_json_of_every_event_is_unchanged_byte_for_byte() -> None:
    """What the outbox writes for each sample is the exact text it wrote before."""
    written = new_events(event for event, _stream, _payload in SAMPLES)
    assert [encode_payload(event) for event in written] == ENCODED
    assert [event.event_type for event in written] == [
        type(event).__name__ for event, _stream, _payload in SAMPLES
    ]


def test_an_event_becomes_its_wire_form_with_its_stream_type_and_payload() -> None:
    """``new_event`` is the one place an event turns into the row the outbox writes."""
    assert new_event(PacketClaimed("p-9", "zhao-lei", 5)) == NewEvent(
        "packet:p-9", "PacketClaimed", {"packet_id": "p-9", "user": "zhao-lei", "amount": 5}
    )


def test_events_are_frozen_values() -> None:
    """An event is a fact: once built, it is never changed."""
    event = PacketExpired("p-1", 10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.refunded = 11  # type: ignore[misc]  # assigning is what is refused
    assert event == PacketExpired("p-1", 10)


def test_the_audience_sees_the_packet_events_it_always_saw_and_not_card_charges() -> None:
    """The visibility list is built from the classes and names the same five events."""
    assert {
        "PacketSent",
        "PacketClaimed",
        "PacketExhausted",
        "PacketExpired",
        "PacketRecalled",
    } == AUDIENCE_EVENTS
    assert AuthorizationCaptured.event_type not in AUDIENCE_EVENTS


def test_a_feed_copy_keeps_the_events_type_and_payload_and_adds_its_place() -> None:
    """A copy to a reader's stream is the event plus the packet's currency and sequence; a
    card charge keeps its own currency."""
    claimed = FeedCopy(
        "li-wei", "PacketClaimed", PacketClaimed("p-1", "liu-yang", 1000).payload(), "CNY", 2
    )
    assert claimed.stream == "user:li-wei"
    assert encode_payload(new_event(claimed)) == (
        '{"amount":1000,"currency":"CNY","packet_id":"p-1","packet_sequence":2,"user":"liu-yang"}'
    )
    captured = AuthorizationCaptured("p-1", 3000, "USD")
    copy = new_event(FeedCopy("li-wei", captured.event_type, captured.payload(), "CNY", 3))
    assert copy.event_type == "AuthorizationCaptured"
    assert encode_payload(copy) == (
        '{"charged":3000,"currency":"USD","packet_id":"p-1","packet_sequence":3}'
    )
