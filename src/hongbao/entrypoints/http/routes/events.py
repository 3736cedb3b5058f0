"""Live status streams (Server-Sent Events): a packet's events, and the caller's own feed.

``GET /v1/packets/{id}/events`` is for whoever may read the packet (its sender, its audience,
operators; R-A5), and shows the audience only the events meant for them
(:data:`hongbao.packets.user_feed.AUDIENCE_EVENTS`). ``GET /v1/me/events`` is the caller's
feed ``user:{id}``, filled by the ``user-feed`` outbox consumer (:mod:`hongbao.packets.user_feed`).
The framing, resumption and bounds are in :mod:`hongbao.entrypoints.http.stream`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse

from hongbao.entrypoints.http.context import Caller, Context, Lang, User
from hongbao.entrypoints.http.routes.packets import _ensure_audience
from hongbao.entrypoints.http.schemas import ErrorView
from hongbao.entrypoints.http.stream import (
    HEADERS,
    MEDIA_TYPE,
    ReadPage,
    Show,
    event_stream,
    message,
    overloaded,
    plan,
    resume_point,
    streams_of,
)
from hongbao.packets.user_feed import packet_stream, user_stream, visible_to
from hongbao.platform.i18n import Language
from hongbao.platform.outbox import OutboxEvent
from hongbao.storage.unit_of_work import Database

router = APIRouter(tags=["events"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {MEDIA_TYPE: {"example": 'id: 1\nevent: PacketSent\ndata: {"total":3000}\n\n'}},
        "description": "A stream of Server-Sent Events; ids are the stream's sequence numbers",
    },
    **{code: {"model": ErrorView} for code in (401, 403, 404, 422, 503)},
}
LastEventId = Annotated[str | None, Header(alias="Last-Event-ID")]
After = Annotated[int | None, Query(ge=0, le=10**18, description="resume after this id")]
MaxEvents = Annotated[
    int | None, Query(ge=1, le=10_000, description="end the stream after this many events")
]
Lifetime = Annotated[
    float | None,
    Query(ge=0, le=3_600, description="seconds to wait for new events; 0 sends what is there"),
]


@router.get(
    "/v1/packets/{packet_id}/events",
    response_class=StreamingResponse,
    responses=RESPONSES,
)
def packet_events(
    packet_id: str,
    request: Request,
    api: Context,
    who: Caller,
    lang: Lang,
    last_event_id: LastEventId = None,
    after: After = None,
    max_events: MaxEvents = None,
    lifetime: Lifetime = None,
) -> Response:
    """The packet's events as they happen (sent, claimed, exhausted, captured, expired,
    recalled, and its refund's progress until the money arrives): for its sender, its audience
    and operators. Reconnect with ``Last-Event-ID``."""
    packet = api.services.packets.packet(packet_id)
    _ensure_audience(api, who, packet)
    viewer = None if who.is_operator else who.subject
    extra = {"currency": packet.currency}

    def show(event: OutboxEvent) -> bytes | None:
        return message(event, extra) if visible_to(packet, event.event_type, viewer) else None

    start = resume_point(last_event_id, after)
    read = _reader(api.services.database, packet_stream(packet_id))
    return _respond(request, lang, read, show, (start, max_events, lifetime))


@router.get("/v1/me/events", response_class=StreamingResponse, responses=RESPONSES)
def my_events(
    request: Request,
    api: Context,
    who: User,
    lang: Lang,
    last_event_id: LastEventId = None,
    after: After = None,
    max_events: MaxEvents = None,
    lifetime: Lifetime = None,
) -> Response:
    """The caller's own feed: every event of the packets they sent, the events of personal
    packets sent to them, and their own claims, each numbered in this feed (its ``id``) and
    naming its packet and its place there (``packet_id``, ``packet_sequence``)."""
    start = resume_point(last_event_id, after)
    read = _reader(api.services.database, user_stream(who.subject))
    return _respond(
        request, lang, read, lambda event: message(event, {}), (start, max_events, lifetime)
    )


def _reader(database: Database, stream: str) -> ReadPage:
    def read(after: int, limit: int) -> list[OutboxEvent]:
        return database.read(lambda uow: uow.outbox.events_after(stream, after, limit))

    return read


def _respond(
    request: Request,
    lang: Language,
    read: ReadPage,
    show: Show,
    asked: tuple[int, int | None, float | None],
) -> Response:
    settings, gate = streams_of(request.app.state)
    if gate.full():
        return overloaded(gate, lang, settings.retry_ms)
    chosen = plan(settings, *asked)
    return StreamingResponse(
        event_stream(read, show, chosen, settings, gate), media_type=MEDIA_TYPE, headers=HEADERS
    )
