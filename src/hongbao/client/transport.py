"""The parts of a request and of reading its answer that the sync and async clients share."""

from __future__ import annotations

from typing import Any, Final, TypeVar

import httpx
from pydantic import ValidationError

from hongbao.client.calls import Call
from hongbao.client.errors import ApiError
from hongbao.client.sse import Event, SseParser, StreamBroken
from hongbao.client.wire import loads

T = TypeVar("T")
ANSWER_INVALID: Final = "client.answer_invalid"
STREAM_BROKEN: Final = "client.stream_broken"


def headers_for(call: Call[Any] | None, token: str | None, language: str) -> dict[str, str]:
    headers = {"Accept-Language": language}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if call is not None and call.key is not None:
        headers["Idempotency-Key"] = call.key
    if call is not None and call.place is not None:
        headers["Hongbao-Geo"] = call.place
    if call is not None and call.body is not None:
        headers["Content-Type"] = "application/json"
    return headers


def parse_answer(call: Call[T], response: httpx.Response) -> T:
    """A success's body as the call's model; an answer that does not fit is an ApiError."""
    try:
        return call.parse(loads(response.content))
    except (ValueError, TypeError, ValidationError) as error:
        raise ApiError(
            response.status_code,
            ANSWER_INVALID,
            f"the answer to {call.method} {call.path} does not fit the client: {error}",
        ) from error


def feed(parser: SseParser, chunk: bytes | None, status: int) -> list[Event]:
    """The events ``chunk`` completes (None: the stream ended); a stream that is not this
    API's is an ApiError."""
    try:
        return parser.finish() if chunk is None else parser.feed(chunk)
    except (StreamBroken, ValueError) as error:
        raise ApiError(
            status, STREAM_BROKEN, f"the event stream is not one of this API: {error}"
        ) from error
