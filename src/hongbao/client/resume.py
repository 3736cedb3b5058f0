"""Following an event stream across reconnections: what to ask for, and when to ask again.

The sync and async clients share this bookkeeping; they only do the I/O. Each connection asks
for the events after the last one received (``Last-Event-ID``), so a dropped connection loses
nothing and repeats nothing. A connection the server ended (its lifetime) is reopened after the
server's ``retry:`` hint when following, and ends the iteration when not. Failed connections
are retried with the backoff of the :class:`RetryPolicy`, at most ``max_attempts`` in a row
without an event in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import httpx

from hongbao.client.errors import ApiError
from hongbao.client.retry import RetryPolicy
from hongbao.client.sse import Event

DEFAULT_RETRY_MS: Final = 2_000


@dataclass
class Resumption:
    path: str
    after: int
    follow: bool
    max_events: int | None
    policy: RetryPolicy
    delivered: int = 0
    failures: int = 0
    retry_ms: int = DEFAULT_RETRY_MS

    def __post_init__(self) -> None:
        if self.after < 0 or (self.max_events is not None and self.max_events < 1):
            raise ValueError("resume after an id of 0 or more, for at least one event")

    def params(self) -> dict[str, str]:
        params = {} if self.follow else {"lifetime": "0"}
        if self.max_events is not None:
            params["max_events"] = str(self.max_events - self.delivered)
        return params

    def headers(self) -> dict[str, str]:
        return {"Accept": "text/event-stream", "Last-Event-ID": str(self.after)}

    def took(self, event: Event) -> bool:
        """Record a received event; True once ``max_events`` have arrived."""
        self.after, self.failures = event.id, 0
        self.delivered += 1
        return self.max_events is not None and self.delivered >= self.max_events

    def ended(self, retry_ms: int | None) -> float | None:
        """The server closed the stream: the wait before reconnecting, None when done."""
        if retry_ms is not None:
            self.retry_ms = retry_ms
        return self.retry_ms / 1000 if self.follow else None

    def failed(self, error: httpx.TransportError) -> float:
        """The connection failed or dropped: the wait before resuming, or raise when out of
        attempts."""
        self.failures += 1
        wait = self.policy.after_failure(self.failures)
        if wait is None:
            raise ApiError.unreachable(error) from error
        return wait

    def refused(self, response: httpx.Response) -> float:
        """An answer other than the stream: the wait before trying again when it was shed
        load; raise the error otherwise."""
        error = ApiError.of(response)
        self.failures += 1
        retry_after = response.headers.get("Retry-After")
        wait = self.policy.after_answer(self.failures, error.status, error.code, retry_after)
        if wait is None:
            raise error
        return wait
