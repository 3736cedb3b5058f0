"""The one error shape of hongbao: a stable machine-readable code plus a human message.

Expected failures of the ledger are *result codes* (see ``hongbao.ledger.results``); the
exceptions here are for input that cannot be understood at all and for broken invariants.
"""

from __future__ import annotations

from typing import Any


class HongbaoError(Exception):
    """Base of every error hongbao raises on purpose.

    ``code`` is stable (clients switch on it); ``message`` is for people; ``details`` holds the
    facts that led to the error so that it can be explained without reading logs.
    """

    code: str = "hongbao.error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class InvalidInput(HongbaoError):
    """The request itself is malformed; nothing was written."""

    code = "input.invalid"


class LimitExceeded(InvalidInput):
    """A value is over one of the limits in ``hongbao.platform.limits``; nothing was written."""

    code = "input.limit_exceeded"


class InvariantViolation(HongbaoError):
    """A condition that must always hold did not. Never caught and skipped: it stops the work."""

    code = "invariant.violated"


class StorageError(HongbaoError):
    """The database could not complete a unit of work (after any retries)."""

    code = "storage.error"


class ConfigurationError(HongbaoError):
    """hongbao was started with settings it cannot use."""

    code = "config.invalid"
