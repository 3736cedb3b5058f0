"""The edge: every request's path, query string, headers and body checked before anything reads
them.

Ids, keys and texts end up in SQL parameters, logs and JSON answers. A NUL byte reaches
PostgreSQL as an error ("text fields cannot contain NUL"), invalid UTF-8 or a control character
reaches a log or a stored record; each route checking its own values misses one. So one plain
ASGI layer in front of the claim lane and the framework refuses, in the one error shape and
before any I/O:

- a path, query string or header value with a control character (C0 other than a header's
  horizontal tab, DEL, C1), or whose percent-decoded bytes are not UTF-8 (422
  ``input.control_character`` / ``input.invalid_encoding``);
- a path segment, query value, header value or whole path over its length (422
  ``input.too_long``);
- a body over ``max_body_bytes`` (413 ``input.too_large``, by its Content-Length at once, or
  as it arrives); a body that is not UTF-8 or carries a control character, raw or as a JSON
  escape (``\\u0000``, ``\\n``) (422). JSON's own whitespace between tokens is fine.

The body is read here, whole (it is small, by the limit), and handed on to the app as one
message; what the app receives after it (a client going away) comes from the server as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote_to_bytes

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hongbao.entrypoints.http.codes import EdgeCode
from hongbao.entrypoints.http.errors import refusal_of
from hongbao.platform.errors import ErrorCode, HongbaoError, InvalidInput, PlatformCode
from hongbao.platform.i18n import parse_language

# Ids are at most 128 characters (``platform.limits``); a segment twice that is no id of ours.
MAX_SEGMENT_CHARS: Final = 256
MAX_PATH_BYTES: Final = 2_048
MAX_QUERY_BYTES: Final = 4_096
MAX_QUERY_VALUE_CHARS: Final = 1_024
# A bearer token is at most 2,048 characters; a browser's cookies for /docs may be longer.
MAX_HEADER_VALUE_BYTES: Final = 8_192

# C0 and DEL, and C1 as UTF-8 encodes it (the bytes are checked for UTF-8 separately).
_CONTROL: Final = re.compile(rb"[\x00-\x1f\x7f]|\xc2[\x80-\x9f]")
# The same in a header value, where a horizontal tab is folding whitespace.
_HEADER_CONTROL: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]|\xc2[\x80-\x9f]")
# In a body: raw control bytes other than JSON's whitespace (tab, line feed, carriage return).
_BODY_CONTROL: Final = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]")
# A JSON escape that makes a control character: an unescaped backslash (an even run of
# backslashes before it) then b, f, n, r, t or \u00XX of C0, DEL or C1.
_JSON_CONTROL_ESCAPE: Final = re.compile(
    rb"(?<!\\)(?:\\\\)*\\(?:[bfnrt]|u00[01][0-9a-fA-F]|u007[fF]|u00[89][0-9a-fA-F])"
)


class EdgeRefused(InvalidInput):
    """A value refused at the edge; ``where`` says which part of the request held it."""

    code: ErrorCode = EdgeCode.CONTROL_CHARACTER


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    max_body_bytes: int  # OperationsSettings.max_body_bytes (HONGBAO_MAX_BODY_BYTES)


def _refuse(code: EdgeCode, where: str, what: str, **details: object) -> EdgeRefused:
    messages = {
        EdgeCode.CONTROL_CHARACTER: f"the {what} carries a control character",
        EdgeCode.NOT_UTF8: f"the {what} is not valid UTF-8",
        EdgeCode.TOO_LONG: f"the {what} is too long",
    }
    return EdgeRefused(messages[code], code=code, where=where, **details)


def _text(value: bytes, where: str, what: str, control: re.Pattern[bytes]) -> None:
    """``value`` is UTF-8 without control characters."""
    if control.search(value) is not None:
        raise _refuse(EdgeCode.CONTROL_CHARACTER, where, what)
    if not value.isascii():
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse(EdgeCode.NOT_UTF8, where, what) from None


def check_path(scope: Scope) -> None:
    raw = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    raw = raw.split(b"?", 1)[0]
    if len(raw) > MAX_PATH_BYTES:
        raise _refuse(EdgeCode.TOO_LONG, "path", "path", limit=MAX_PATH_BYTES)
    decoded = unquote_to_bytes(raw) if b"%" in raw else raw
    _text(decoded, "path", "path", _CONTROL)
    for segment in decoded.split(b"/"):
        if len(segment) > MAX_SEGMENT_CHARS and len(segment.decode()) > MAX_SEGMENT_CHARS:
            raise _refuse(EdgeCode.TOO_LONG, "path", "path segment", limit=MAX_SEGMENT_CHARS)


def check_query(query: bytes) -> None:
    if not query:
        return
    if len(query) > MAX_QUERY_BYTES:
        raise _refuse(EdgeCode.TOO_LONG, "query", "query string", limit=MAX_QUERY_BYTES)
    for pair in query.split(b"&"):
        for part in pair.split(b"=", 1):
            decoded = unquote_to_bytes(part.replace(b"+", b" ")) if b"%" in part else part
            _text(decoded, "query", "query string", _CONTROL)
            if len(decoded) > MAX_QUERY_VALUE_CHARS:
                raise _refuse(
                    EdgeCode.TOO_LONG, "query", "query value", limit=MAX_QUERY_VALUE_CHARS
                )


def check_headers(headers: list[tuple[bytes, bytes]], max_body_bytes: int) -> None:
    for name, value in headers:
        header = name.decode("latin-1")
        if len(value) > MAX_HEADER_VALUE_BYTES:
            raise _refuse(
                EdgeCode.TOO_LONG, "header", f"{header} header", limit=MAX_HEADER_VALUE_BYTES
            )
        _text(value, "header", f"{header} header", _HEADER_CONTROL)
        if name == b"content-length" and value.strip().isdigit():
            _check_size(int(value), max_body_bytes)


def check_body(body: bytes) -> None:
    if not body:
        return
    _text(body, "body", "body", _BODY_CONTROL)
    if b"\\" in body and _JSON_CONTROL_ESCAPE.search(body) is not None:
        raise _refuse(EdgeCode.CONTROL_CHARACTER, "body", "body")


def _check_size(size: int, max_body_bytes: int) -> None:
    if size > max_body_bytes:
        raise InvalidInput(
            f"a request body is at most {max_body_bytes} bytes",
            code=PlatformCode.INPUT_TOO_LARGE,
            where="body",
            limit=max_body_bytes,
        )


class Edge:
    """In front of the claim lane and the framework: refuses what no route should read."""

    def __init__(self, app: ASGIApp, limits: EdgeLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_path(scope)
            check_query(scope.get("query_string", b""))
            check_headers(scope["headers"], self.limits.max_body_bytes)
            body = await self._read_body(receive)
            if body is None:
                return  # the client went away before its request was whole: nothing to do
            check_body(body)
        except HongbaoError as error:
            await _answer(error, scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            _check_size(size, self.limits.max_body_bytes)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read at the edge, then whatever the server says next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _answer(error: HongbaoError, scope: Scope, receive: Receive, send: Send) -> None:
    language = None
    for name, value in scope["headers"]:
        if name == b"accept-language":
            language = value.decode("latin-1")
    refusal = refusal_of(error, parse_language(language))
    if refusal is None:
        raise error  # never: the edge raises refusals only
    response = JSONResponse(refusal.body, status_code=refusal.status, headers=refusal.headers)
    await response(scope, receive, send)
