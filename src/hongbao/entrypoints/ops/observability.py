"""Structured JSON logs (structlog) and what one request knows about itself.

Every request gets a :class:`RequestRecord`, set by the operations middleware in a context
variable: its id (the client's ``X-Request-Id`` when it is a sane one, else a new one; echoed in
the response), and what the handlers learn on the way — who is asking, from which device model,
which recall decision was made. Handlers run in worker threads that see a *copy* of the context,
so they fill the record object in place rather than setting variables.

``configure_logging`` (at server start) sends every log line to stderr as one JSON object: the
per-request line (``event: "request"``, route, status, latency, subject, device model, decision
id) and any other ``logging`` or structlog call, with the current request's id added. Without it
(tests, library use) nothing is configured and the request line is not even built.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TextIO

import structlog

from hongbao.platform.clock import MICROSECONDS_PER_SECOND, Clock, to_datetime

if TYPE_CHECKING:
    from hongbao.entrypoints.ops.metrics import Metrics

ACCESS_LOGGER: Final = "hongbao.access"
HANDLER_NAME: Final = "hongbao-json"
REQUEST_ID_HEADER: Final = "x-request-id"
MAX_REQUEST_ID_CHARS: Final = 64
_SANE_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:\-]{1,64}")

# The per-request logger: structlog's own (no ``logging.LogRecord`` on the way, a third of the
# cost), set by ``configure_logging``; None means quiet.
_access: Any = None


@dataclass(slots=True)
class RequestRecord:
    """What is known about the request in progress; filled in place as it is served."""

    request_id: str
    method: str
    path: str
    metrics: Metrics | None = None
    subject: str | None = None
    device: tuple[str, str] | None = None  # (model, platform) of the principal's device
    decision_id: str | None = None
    retry_after_seconds: int | None = None
    refusal: str | None = None  # why the operations layer refused it, if it did


# Made ids: a random prefix per process and a counter, unique without a system call each.
_PREFIX: Final = secrets.token_hex(4)
_SEQUENCE: Final = itertools.count()

_current: ContextVar[RequestRecord | None] = ContextVar("hongbao_request", default=None)


def current_request() -> RequestRecord | None:
    return _current.get()


def begin_request(record: RequestRecord) -> Token[RequestRecord | None]:
    return _current.set(record)


def end_request(token: Token[RequestRecord | None]) -> None:
    _current.reset(token)


def request_id_from(header: bytes | None) -> str:
    """The client's request id when it is short, printable and plain; else a new one."""
    if header is not None and len(header) <= MAX_REQUEST_ID_CHARS:
        text = header.decode("latin-1")
        if _SANE_REQUEST_ID.fullmatch(text):
            return text
    return f"{_PREFIX}{next(_SEQUENCE) & 0xFFFFFFFF:08x}"


def log_request(record: RequestRecord, route: str, status: int, seconds: float) -> None:
    """The one line per request; nothing at all unless logging was configured."""
    access = _access
    if access is None:
        return
    model, platform = record.device or (None, None)
    access.info(
        "request",
        request_id=record.request_id,
        method=record.method,
        route=route,
        path=record.path,
        status=status,
        latency_ms=round(seconds * 1000, 3),
        subject=record.subject,
        device_model=model,
        platform=platform,
        decision_id=record.decision_id,
        refusal=record.refusal,
    )


# ---------------------------------------------------------------------------- configuration


class _ClockStamp:
    """Log time (UTC, ISO 8601) from the injected clock, like every other time in hongbao; the
    text of the current second is kept, as formatting a date costs more than the line's JSON."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._second: tuple[int, str] = (-1, "")  # one tuple: threads read it whole

    def __call__(
        self, _logger: object, _name: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        second, micro = divmod(self._clock.now_us(), MICROSECONDS_PER_SECOND)
        cached = self._second
        if cached[0] != second:
            moment = to_datetime(second * MICROSECONDS_PER_SECOND)
            cached = self._second = (second, moment.strftime("%Y-%m-%dT%H:%M:%S"))
        event.setdefault("ts", f"{cached[1]}.{micro:06d}Z")
        return event


def _access_name(
    _logger: object, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event["logger"] = ACCESS_LOGGER
    return event


def _add_request_id(
    _logger: object, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    record = _current.get()
    if record is not None:
        event.setdefault("request_id", record.request_id)
    return event


@dataclass
class LoggingSetup:
    """What ``configure_logging`` changed, so that ``close`` can put it back (tests)."""

    handler: logging.Handler
    previous_level: int

    def close(self) -> None:
        global _access  # noqa: PLW0603 - the one process-wide access logger
        _access = None
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self.previous_level)
        structlog.reset_defaults()


def configure_logging(
    clock: Clock, *, level: int = logging.INFO, stream: TextIO | None = None
) -> LoggingSetup:
    """JSON lines on ``stream`` (stderr) for ``logging`` and structlog alike. Configuring
    again replaces the handler (``serve --workers 1`` configures in one process twice)."""
    global _access  # noqa: PLW0603 - the one process-wide access logger
    out = stream or sys.stderr
    stamp = _ClockStamp(clock)
    _access = structlog.wrap_logger(
        structlog.WriteLogger(out),
        processors=[
            structlog.processors.add_log_level,
            _access_name,
            stamp,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
    )
    shared: list[Any] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _add_request_id,
        stamp,
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False, default=str),
        ],
    )
    handler = logging.StreamHandler(out)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for previous in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(previous)
    setup = LoggingSetup(handler, root.level)
    root.addHandler(handler)
    root.setLevel(level)
    # The access line above replaces uvicorn's own; its errors still come through as JSON.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # /readyz reads the schema revision
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return setup
