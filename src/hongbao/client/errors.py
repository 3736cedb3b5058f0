"""The one exception the client raises for an answer that is not a success."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import httpx

from hongbao.client.wire import JsonObject, JsonValue, loads

UNREACHABLE: Final = "client.unreachable"
MAX_TEXT: Final = 500


class ApiError(Exception):
    """The API refused or failed: the HTTP ``status`` (0 when no answer came), the stable
    ``code`` to switch on, the ``message`` in the language asked for, the ``details`` and the
    recorded ``decision_id`` when a recall decision explains it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Mapping[str, JsonValue] | None = None,
        decision_id: str | None = None,
    ) -> None:
        super().__init__(f"[{code}] {message} (HTTP {status})")
        self.status = status
        self.code = code
        self.message = message
        self.details: JsonObject = dict(details or {})
        self.decision_id = decision_id

    @classmethod
    def of(cls, response: httpx.Response) -> ApiError:
        """From an answer in the API's error shape, or from whatever a proxy sent instead."""
        error = _error_object(response.content)
        if error is None:
            text = response.text[:MAX_TEXT] or response.reason_phrase
            return cls(response.status_code, f"http.{response.status_code}", text)
        details, decision_id = error.get("details"), error.get("decision_id")
        return cls(
            response.status_code,
            str(error["code"]),
            str(error.get("message", "")),
            details=details if isinstance(details, dict) else None,
            decision_id=decision_id if isinstance(decision_id, str) else None,
        )

    @classmethod
    def unreachable(cls, error: httpx.TransportError) -> ApiError:
        return cls(0, UNREACHABLE, f"no answer from the API: {type(error).__name__}: {error}")


def _error_object(raw: bytes) -> JsonObject | None:
    try:
        body = loads(raw)
    except ValueError:  # not JSON (a proxy's page), or a float in it: not the API's shape
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return error
    return None
