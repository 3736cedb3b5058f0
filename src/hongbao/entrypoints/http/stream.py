"""Server-Sent Events over the outbox: a stream's events, in order, resumable (R-B2, R-D3).

Every outbox stream (``packet:{id}``, ``user:{id}``) numbers its events 1, 2, 3 … as they
commit. A message carries that number as its id::

    id: 3
    event: PacketClaimed
    data: {"amount":1000,"created_at_us":…,"currency":"CNY","packet_id":"p-…","user":"liu-yang"}

A client that loses the connection reconnects with ``Last-Event-ID: 3`` (or ``?after=3``, for
clients that cannot set headers; the header wins, as a browser's EventSource sends it on its
own) and gets exactly the events after 3: none missed, none repeated. Events the caller may not
see are skipped without a message; the numbers of those they do see still increase.

Everything is bounded: a page of events per read, a poll interval while nothing is new, a
lifetime after which the server ends the stream (the client reconnects after the ``retry:``
hint, which also re-checks its right to see the stream), a ``max_events`` a client may ask for,
comment keep-alives so that proxies keep an idle connection open, and a number of open streams
per process beyond which a new one is refused (``api.overloaded``, 503). Waiting is counted in
polls rather than read from a clock: the injected clock is business time and may stand still.

The right to a stream (the token, its revocation, the packet's audience) is checked when it
connects; the bounded lifetime makes a revoked token, or a member who left the group, stop at
the next reconnection at the latest.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import anyio.to_thread
from starlette.datastructures import State
from starlette.responses import JSONResponse

from hongbao.entrypoints.http.codes import ApiCode
from hongbao.entrypoints.http.errors import ApiError, error_body, status_of
from hongbao.platform.errors import PlatformCode
from hongbao.platform.i18n import Language
from hongbao.platform.outbox import MAX_EVENTS_PER_READ, OutboxEvent

MAX_CURSOR_DIGITS: Final = 18
# What Last-Event-ID may hold: nothing (no cursor) or ASCII digits; blanks around the value are
# stripped first, as HTTP does. The OpenAPI document publishes this pattern.
CURSOR_PATTERN: Final = rf"^([0-9]{{1,{MAX_CURSOR_DIGITS}}})?$"
_CURSOR: Final = re.compile(CURSOR_PATTERN)
KEEPALIVE: Final = b": keep-alive\n\n"
MEDIA_TYPE: Final = "text/event-stream"
HEADERS: Final = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@dataclass(frozen=True, slots=True)
class StreamSettings:
    page_size: int = 100
    poll_seconds: float = 0.5
    lifetime_seconds: int = 300
    keepalive_seconds: float = 15.0
    retry_ms: int = 2_000
    max_events: int = 10_000
    max_open: int = 1_000


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """One connection's bounds: where it starts, how many events, how long it stays open."""

    after: int
    max_events: int
    lifetime_seconds: float


ReadPage = Callable[[int, int], list[OutboxEvent]]  # (after, limit) -> the next events
Show = Callable[[OutboxEvent], bytes | None]  # the message for an event, None when hidden


def resume_point(last_event_id: str | None, after: int | None) -> int:
    """Where a (re)connection starts: after ``Last-Event-ID`` if sent, else after ``after``."""
    if last_event_id is None:
        return after or 0
    text = last_event_id.strip(" \t")
    if _CURSOR.fullmatch(text) is None:
        raise ApiError(
            "Last-Event-ID is the id of the last event received, a whole number",
            code=ApiCode.EVENTS_CURSOR_INVALID,
            details={"last_event_id": text[:40]},
        )
    return int(text) if text else after or 0


def plan(
    settings: StreamSettings, after: int, max_events: int | None, lifetime: float | None
) -> StreamPlan:
    """The client's asks, held within the server's bounds."""
    events = settings.max_events if max_events is None else min(max_events, settings.max_events)
    seconds = settings.lifetime_seconds if lifetime is None else lifetime
    return StreamPlan(after, max(1, events), max(0.0, min(seconds, settings.lifetime_seconds)))


def message(event: OutboxEvent, extra: Mapping[str, Any]) -> bytes:
    """One SSE message: the payload with ``extra`` (the payload wins) and when it happened."""
    data = {**extra, **event.payload_object(), "created_at_us": event.created_at_us}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event.stream_sequence}\nevent: {event.event_type}\ndata: {text}\n\n".encode()


class OpenStreams:
    """How many streams this process holds open, against ``StreamSettings.max_open``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self._lock = threading.Lock()

    def full(self) -> bool:
        """Checked before a response starts; a few concurrent starts may overshoot a little."""
        with self._lock:
            return self.count >= self.limit

    def opened(self) -> None:
        with self._lock:
            self.count += 1

    def closed(self) -> None:
        with self._lock:
            self.count -= 1


def overloaded(gate: OpenStreams, language: Language, retry_ms: int) -> JSONResponse:
    """503 with Retry-After, answered here: the app's error handler shows every 5xx
    HongbaoError as an internal fault."""
    seconds = max(1, math.ceil(retry_ms / 1000))
    body = error_body(
        PlatformCode.OVERLOADED,
        "too many open event streams; reconnect in a few seconds",
        language,
        details={"open_streams": gate.count, "retry_after_seconds": seconds},
    )
    status = status_of(PlatformCode.OVERLOADED)
    return JSONResponse(body, status_code=status, headers={"Retry-After": str(seconds)})


_SETUP_LOCK = threading.Lock()


def streams_of(state: State) -> tuple[StreamSettings, OpenStreams]:
    """The app's stream settings (``app.state.stream_settings`` if set) and its open streams."""
    with _SETUP_LOCK:
        settings = getattr(state, "stream_settings", None)
        if not isinstance(settings, StreamSettings):
            settings = state.stream_settings = StreamSettings()
        gate = getattr(state, "open_streams", None)
        if not isinstance(gate, OpenStreams):
            gate = state.open_streams = OpenStreams(settings.max_open)
        return settings, gate


async def event_stream(
    read: ReadPage, show: Show, chosen: StreamPlan, settings: StreamSettings, gate: OpenStreams
) -> AsyncIterator[bytes]:
    """The messages of one connection: a ``retry:`` hint, then the events after
    ``chosen.after`` as they commit, keep-alives while idle, until a bound is reached."""
    gate.opened()
    try:
        yield f"retry: {settings.retry_ms}\n\n".encode()
        async for chunk in _events(read, show, chosen, settings):
            yield chunk
    finally:
        gate.closed()


async def _events(
    read: ReadPage, show: Show, chosen: StreamPlan, settings: StreamSettings
) -> AsyncIterator[bytes]:
    cursor, sent = chosen.after, 0
    polls_left = math.ceil(chosen.lifetime_seconds / settings.poll_seconds)
    keepalive_every = max(1, math.ceil(settings.keepalive_seconds / settings.poll_seconds))
    idle_polls = 0
    while sent < chosen.max_events:
        size = max(1, min(settings.page_size, MAX_EVENTS_PER_READ))
        page = await anyio.to_thread.run_sync(read, cursor, size)
        for event in page:
            cursor = event.stream_sequence
            shown = show(event)
            if shown is not None:
                yield shown
                sent += 1
                idle_polls = 0
                if sent >= chosen.max_events:
                    return
        if len(page) == size:
            continue  # more may be waiting already: read on without sleeping
        if polls_left <= 0:
            return
        await anyio.sleep(settings.poll_seconds)
        polls_left -= 1
        idle_polls += 1
        if idle_polls % keepalive_every == 0:
            yield KEEPALIVE
