"""One error shape for every HTTP answer that is not a success.

    {"error": {"code": "packets.insufficient_funds", "message": "...", "details": {...},
               "decision_id": null}}

``code`` is stable (clients switch on it), ``message`` is in the language the request asked for
(``Accept-Language``: zh-CN by default, en), ``details`` holds the facts, and ``decision_id``
names the recorded recall decision when there is one. The HTTP status follows from the code's
:class:`~hongbao.platform.errors.Outcome`, here and nowhere else: unknown things are 404,
conflicts 409, credentials 401/403, too many requests 429, a body over the limit 413, shed load
503, a broken invariant or an unexpected fault 500 (with a reference, never a stack trace), every
other refusal 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from hongbao.entrypoints.http.codes import ApiCode
from hongbao.platform.errors import ErrorCode, HongbaoError, Outcome
from hongbao.platform.i18n import Language

HTTP_STATUS: Final[Mapping[Outcome, int]] = MappingProxyType(
    {
        Outcome.NOT_FOUND: 404,
        Outcome.CONFLICT: 409,
        Outcome.REFUSED: 422,
        Outcome.UNAUTHORIZED: 401,
        Outcome.FORBIDDEN: 403,
        Outcome.TOO_MANY: 429,
        Outcome.TOO_LARGE: 413,
        Outcome.UNAVAILABLE: 503,
        Outcome.FAULT: 500,
    }
)


class ApiError(HongbaoError):
    """An error raised by the HTTP layer itself (credentials, idempotency, load)."""

    code: ErrorCode = ApiCode.ERROR


def status_of(code: ErrorCode) -> int:
    """The HTTP status of every answer carrying ``code``."""
    return HTTP_STATUS[code.outcome]


def status_for(error: HongbaoError) -> int:
    return status_of(error.code)


RETRY_AFTER_SECONDS: Final = "1"


@dataclass(frozen=True, slots=True)
class Refusal:
    """How a refused request is answered: status, the one error shape, extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] | None


def refusal_of(error: HongbaoError, language: Language) -> Refusal | None:
    """The answer to ``error`` when it is a refusal; None for a fault of ours (5xx other than
    503), which the app answers with a reference and logs. Unavailable (a database that could
    not finish, shed load) is worth retrying shortly: it says when."""
    outcome = error.code.outcome
    if outcome is Outcome.FAULT:
        return None
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if outcome is Outcome.UNAVAILABLE else None
    status = HTTP_STATUS[outcome]
    return Refusal(
        status, error_body(error.code, error.message, language, details=error.details), headers
    )


def error_body(
    code: ErrorCode,
    message: str,
    language: Language,
    *,
    details: Mapping[str, Any] | None = None,
    decision_id: str | None = None,
) -> dict[str, Any]:
    """The one error shape: zh-CN readers get the code's own words, English readers the
    message of the place that refused (it names the facts)."""
    shown = code.zh if language == "zh" else message
    return {
        "error": {
            "code": code.value,
            "message": shown,
            "details": _plain(details or {}),
            "decision_id": decision_id,
        }
    }


def _plain(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details as JSON values: text for anything that is not already a plain value."""
    plain: dict[str, Any] = {}
    for key, value in details.items():
        if value is None or isinstance(value, bool | int | str):
            plain[key] = value
        elif isinstance(value, list | tuple):
            plain[key] = [
                item if isinstance(item, bool | int | str) else str(item) for item in value
            ]
        else:
            plain[key] = str(value)
    return plain
