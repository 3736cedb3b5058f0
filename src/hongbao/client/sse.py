"""Server-Sent Events read incrementally, as the HTML standard parses them, into typed events.

Only a message ended by its blank line is an event: when the connection drops in the middle of
one, the part received is thrown away and the stream is resumed after the last complete event,
so that event comes again whole.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from hongbao.client.models import Amount
from hongbao.client.wire import JsonValue, loads

MAX_LINE_CHARS: Final = 1_000_000  # a message's data is at most a few KiB; this is a guard
MAX_RETRY_MS: Final = 60_000


class StreamBroken(ValueError):
    """What arrived is not an event stream of this API (an unbounded line, a bad event)."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a stream: its ``id`` (its place in the stream: resume after it), its
    ``type`` (PacketSent, PacketClaimed …), when it happened and its data as sent."""

    id: int
    type: str
    created_at_us: int
    data: Mapping[str, JsonValue]

    @property
    def packet_id(self) -> str | None:
        value = self.data.get("packet_id")
        return value if isinstance(value, str) else None

    def amount(self, name: str) -> Amount | None:
        """A minor-unit field of the data (``total``, ``amount``, ``charged``, ``refunded``,
        ``returned``) as an amount in the event's ``currency``."""
        minor, currency = self.data.get(name), self.data.get("currency")
        if isinstance(minor, bool) or not isinstance(minor, int) or not isinstance(currency, str):
            return None
        return Amount.of(minor, currency)


def event_of(ident: str, kind: str, data: str) -> Event:
    if not ident.isdigit():
        raise StreamBroken(f"an event without a numeric id ({ident[:40]!r})")
    body = loads(data)
    if not isinstance(body, dict):
        raise StreamBroken("an event's data is a JSON object")
    created = body.get("created_at_us")
    if isinstance(created, bool) or not isinstance(created, int):
        raise StreamBroken("an event's data carries created_at_us")
    return Event(int(ident), kind, created, body)


@dataclass
class SseParser:
    """Feed it bytes as they arrive; it returns the events completed by them."""

    retry_ms: int | None = None
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=codecs.getincrementaldecoder("utf-8")
    )
    _pending: str = ""
    _data: list[str] = field(default_factory=list)
    _type: str = ""
    _id: str = ""

    def feed(self, chunk: bytes) -> list[Event]:
        self._pending += self._decoder.decode(chunk)
        events: list[Event] = []
        for line in self._complete_lines():
            event = self._line(line)
            if event is not None:
                events.append(event)
        if len(self._pending) > MAX_LINE_CHARS:
            raise StreamBroken(f"a line longer than {MAX_LINE_CHARS} characters")
        return events

    def finish(self) -> list[Event]:
        """The stream ended cleanly: a CR held back as a possible half of a CRLF was a line
        end after all. A message without its blank line stays unfinished (thrown away)."""
        return self.feed(b"\n") if self._pending.endswith("\r") else []

    def _complete_lines(self) -> list[str]:
        """Lines end with CRLF, LF or CR; a CR at the very end may be half of a CRLF."""
        text = self._pending
        cut = len(text) - 1 if text.endswith("\r") else len(text)
        body, rest = text[:cut], text[cut:]
        lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._pending = lines.pop() + rest
        return lines

    def _line(self, line: str) -> Event | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: the server's keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._type = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = min(int(value), MAX_RETRY_MS)
        return None

    def _dispatch(self) -> Event | None:
        data, kind = self._data, self._type or "message"
        self._data, self._type = [], ""
        if not data:
            return None
        return event_of(self._id, kind, "\n".join(data))
