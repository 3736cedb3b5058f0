"""The client's event-stream parser: any chunking, any line ending, nothing half-read."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hongbao.client.sse import SseParser, StreamBroken

MESSAGES = [
    (1, "PacketSent", {"total": 3000, "currency": "CNY", "created_at_us": 10, "note": "红包"}),
    (2, "PacketClaimed", {"amount": 1000, "user": "liu-yang", "created_at_us": 11}),
    (3, "PacketExhausted", {"created_at_us": 12}),
]


def stream(line_end: str) -> bytes:
    parts = [f"retry: 1500{line_end}{line_end}", f": keep-alive{line_end}{line_end}"]
    for ident, kind, data in MESSAGES:
        text = json.dumps(data, ensure_ascii=False)
        parts.append(
            f"id: {ident}{line_end}event: {kind}{line_end}data: {text}{line_end}{line_end}"
        )
    return "".join(parts).encode()


@given(
    line_end=st.sampled_from(["\n", "\r\n", "\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=30),
)
def test_any_chunking_and_line_ending_gives_the_same_events(line_end: str, cuts: list[int]) -> None:
    raw = stream(line_end)
    bounds = sorted({0, len(raw), *(min(cut, len(raw)) for cut in cuts)})
    parser = SseParser()
    events = []
    for start, end in itertools.pairwise(bounds):
        events.extend(parser.feed(raw[start:end]))
    events.extend(parser.finish())
    assert [(e.id, e.type, dict(e.data)) for e in events] == MESSAGES
    assert parser.retry_ms == 1500
    assert events[0].data["note"] == "红包"


def test_a_message_cut_before_its_blank_line_is_not_an_event() -> None:
    raw = stream("\n")
    last = raw.rindex(b"id: 3")
    parser = SseParser()
    assert [e.id for e in parser.feed(raw[:last])] == [1, 2]
    assert parser.feed(raw[last:-1]) == []
    assert parser.finish() == []


def test_data_that_is_not_an_api_event_breaks_the_stream() -> None:
    with pytest.raises(StreamBroken):
        SseParser().feed(b"id: x\nevent: PacketSent\ndata: {}\n\n")
    with pytest.raises(ValueError, match="float"):
        SseParser().feed(b'id: 1\nevent: PacketSent\ndata: {"total": 1.5, "created_at_us": 1}\n\n')
