"""The operations middleware: request id, admission control, degrade mode, metrics, the log line.

Pure ASGI (not Starlette's ``BaseHTTPMiddleware``, which costs a task and a memory stream per
request and breaks streaming responses such as Server-Sent Events). Per request it:

1. takes the client's ``X-Request-Id`` (or makes one), echoed on the response;
2. lets ``/healthz``, ``/readyz`` and ``/metrics`` straight through;
3. in degrade mode answers streams and expensive listings with ``api.degraded`` (503);
4. admits the request within the in-flight bound and bounded queue, or answers
   ``api.overloaded`` (503) at once; streams are bounded by their own limit
   (:mod:`hongbao.entrypoints.http.stream`) instead, since one holds its connection for minutes;
5. turns an unexpected exception into the app's 500 answer (so the answer carries the request
   id and the error is logged once, with its reference, by that handler);
6. records the latency by route template, the device figures, the money-path window of the
   degrade monitor and the log line, and starts a backlog sample when one is due.

``Retry-After`` is added to every 429 and 503 that lacks one (rate limits say how long).
"""

from __future__ import annotations

import inspect
import logging
import re
import time
from enum import Enum
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hongbao.entrypoints.http.codes import ApiCode
from hongbao.entrypoints.http.errors import error_body, status_of
from hongbao.entrypoints.ops.metrics import REFUSED, UNMATCHED
from hongbao.entrypoints.ops.observability import (
    REQUEST_ID_HEADER,
    RequestRecord,
    begin_request,
    end_request,
    log_request,
    request_id_from,
)
from hongbao.entrypoints.ops.operations import Operations
from hongbao.platform.errors import ErrorCode, PlatformCode
from hongbao.platform.i18n import parse_language

logger = logging.getLogger(__name__)


class Kind(Enum):
    OPERATIONS = "operations"  # health, readiness, metrics: never refused
    MONEY = "money"  # sends, claims, recalls, refund credits: timed for degrade mode
    STREAM = "stream"  # Server-Sent Events: deferred in degrade mode, not admitted per slot
    DEFERRABLE = "deferrable"  # expensive listings: deferred in degrade mode
    NORMAL = "normal"


OPERATIONS_PATHS: Final = frozenset({"/healthz", "/readyz", "/metrics"})
MONEY_POSTS: Final = re.compile(
    r"/v1/packets(/[^/]+/(claims|recalls))?|/v1/operator/refunds/[^/]+/credit"
)
STREAM_GETS: Final = re.compile(r"/v1/packets/[^/]+/events|/v1/me/events")
DEFERRABLE_GETS: Final = re.compile(
    r"/v1/users|/v1/users/[^/]+/refunds|/v1/operator/refunds|/v1/operator/ledger/verify"
)
_RETRY_AFTER: Final = b"retry-after"


def classify(method: str, path: str) -> Kind:
    if path in OPERATIONS_PATHS:
        return Kind.OPERATIONS
    if method == "POST":
        return Kind.MONEY if MONEY_POSTS.fullmatch(path) else Kind.NORMAL
    if method == "GET":
        if STREAM_GETS.fullmatch(path):
            return Kind.STREAM
        if DEFERRABLE_GETS.fullmatch(path):
            return Kind.DEFERRABLE
    return Kind.NORMAL


class _Answer:
    """The ``send`` handed to the app: notes the status, adds the request id and Retry-After."""

    __slots__ = ("record", "send", "started", "status")

    def __init__(self, send: Send, record: RequestRecord) -> None:
        self.send = send
        self.record = record
        self.status = 500  # until the app starts a response
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            headers = [
                *message.get("headers", ()),
                (b"x-request-id", self.record.request_id.encode()),
            ]
            if self.status in {429, 503} and not any(k.lower() == _RETRY_AFTER for k, _ in headers):
                headers.append((_RETRY_AFTER, str(self.record.retry_after_seconds or 1).encode()))
            message = {**message, "headers": headers}
        await self.send(message)


class OperationsMiddleware:
    def __init__(self, app: ASGIApp, operations: Operations) -> None:
        self.app = app
        self.operations = operations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        request_id, language = _headers(scope)
        record = RequestRecord(
            request_id_from(request_id), scope["method"], scope["path"], self.operations.metrics
        )
        token = begin_request(record)
        answer = _Answer(send, record)
        kind = classify(record.method, record.path)
        try:
            await self._serve(scope, receive, answer, kind, language)
        finally:
            self._finish(scope, record, kind, answer.status, time.monotonic() - started)
            end_request(token)

    async def _serve(
        self, scope: Scope, receive: Receive, answer: _Answer, kind: Kind, language: bytes | None
    ) -> None:
        operations = self.operations
        if kind is Kind.OPERATIONS:
            await self._call(scope, receive, answer)
            return
        if (kind is Kind.STREAM or kind is Kind.DEFERRABLE) and operations.degrade.active:
            await self._refuse(scope, receive, answer, "degraded", language)
            return
        if kind is Kind.STREAM:
            await self._call(scope, receive, answer)
            return
        if not await operations.admission.enter():
            await self._refuse(scope, receive, answer, "overloaded", language)
            return
        try:
            await self._call(scope, receive, answer)
        finally:
            operations.admission.leave()

    async def _call(self, scope: Scope, receive: Receive, answer: _Answer) -> None:
        try:
            await self.app(scope, receive, answer)
        except Exception as error:
            if answer.started:
                raise  # too late for an answer of our own; the server logs it and drops it
            response = await _internal_answer(scope, error)
            await response(scope, receive, answer)

    async def _refuse(
        self, scope: Scope, receive: Receive, answer: _Answer, reason: str, language: bytes | None
    ) -> None:
        settings = self.operations.settings
        code: ErrorCode
        if reason == "degraded":
            code, retry_after = ApiCode.DEGRADED, settings.degraded_retry_after_seconds
            message = (
                "this is paused while the service is under load; sends, claims, recalls and "
                f"refunds keep working. Retry in {retry_after} s."
            )
        else:
            code, retry_after = PlatformCode.OVERLOADED, settings.overloaded_retry_after_seconds
            message = f"the service is busy; retry in {retry_after} s"
        answer.record.refusal = reason
        answer.record.retry_after_seconds = retry_after
        self.operations.metrics.refused.labels(reason).inc()
        lang = parse_language(None if language is None else language.decode("latin-1"))
        body = error_body(code, message, lang, details={"retry_after_seconds": retry_after})
        await JSONResponse(body, status_code=status_of(code))(scope, receive, answer)

    def _finish(
        self, scope: Scope, record: RequestRecord, kind: Kind, status: int, seconds: float
    ) -> None:
        operations = self.operations
        route = _route(scope, record)
        operations.metrics.observe_request(record.method, route, status, seconds, record.device)
        if kind is Kind.MONEY and record.refusal is None:
            operations.degrade.record(seconds)
        log_request(record, route, status, seconds)
        operations.sampler.maybe_refresh_in_background()
        if operations.metrics.multiprocess:
            operations.note_load()


def _headers(scope: Scope) -> tuple[bytes | None, bytes | None]:
    request_id = language = None
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            request_id = value
        elif name == b"accept-language":
            language = value
    return request_id, language


def _route(scope: Scope, record: RequestRecord) -> str:
    """The route template (bounded label values), never the raw path."""
    if record.refusal in {"degraded", "overloaded"}:
        return REFUSED
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED


async def _internal_answer(scope: Scope, error: Exception) -> Response:
    """The app's own answer to an unexpected exception (its handler logs it once)."""
    app: Any = scope.get("app")
    handlers = getattr(app, "exception_handlers", {})
    handler = handlers.get(Exception) or handlers.get(500)
    if handler is None:
        logger.error("request failed", exc_info=error)
        body = error_body(ApiCode.INTERNAL, "Something went wrong on our side", "en")
        return JSONResponse(body, status_code=status_of(ApiCode.INTERNAL))
    request = Request(scope)
    if inspect.iscoroutinefunction(handler):
        response: Response = await handler(request, error)
    else:
        response = await run_in_threadpool(handler, request, error)
    return response


__all__ = ["REQUEST_ID_HEADER", "Kind", "OperationsMiddleware", "classify"]
