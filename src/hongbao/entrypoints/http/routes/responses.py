"""The error answers each route declares, so /docs shows the one error shape for each status."""

from __future__ import annotations

from typing import Any, Final

from hongbao.entrypoints.http.schemas import ErrorView

Responses = dict[int | str, dict[str, Any]]


def errors(*statuses: int) -> Responses:
    """The statuses a route may answer besides its success, each in the error shape."""
    return {status: {"model": ErrorView} for status in statuses}


# Reads: credentials (401), someone else's data (403), nothing there (404), a bad query (422),
# too many requests (429), shed load (503).
READ: Final = errors(401, 403, 404, 422, 429, 503)
# Writes add conflicts (409) and the domain's refusals (422).
WRITE: Final = errors(401, 403, 404, 409, 422, 429, 503)
