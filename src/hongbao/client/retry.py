"""What the client retries, and how long it waits: only what cannot do harm twice.

A request is retried when no answer came (the connection failed or dropped: every state change
carries an Idempotency-Key that the retry reuses, so the server does it once), when the server
shed load (429, 503: after its ``Retry-After``), and when the same key is still being worked on
(409 ``idempotency.in_progress``). Any other answer is final. Waits grow exponentially with
full jitter, each capped, and the attempts are bounded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

RETRY_STATUSES: Final = frozenset({429, 503})
IN_PROGRESS: Final = "idempotency.in_progress"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 0.1
    max_wait_seconds: float = 10.0  # a Retry-After beyond this is cut to it

    def backoff(self, attempt: int) -> float:
        """Before attempt ``attempt + 1``: up to base * 2^(attempt - 1), at least half of it."""
        ceiling = min(self.max_wait_seconds, self.base_seconds * 2.0 ** max(0, attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret

    def after_failure(self, attempt: int) -> float | None:
        """No answer came: the wait before the next attempt, or None when out of attempts."""
        return self.backoff(attempt) if attempt < self.max_attempts else None

    def after_answer(
        self, attempt: int, status: int, code: str, retry_after: str | None
    ) -> float | None:
        """An answer that is not a success: the wait before retrying it, or None (final)."""
        if attempt >= self.max_attempts:
            return None
        if status in RETRY_STATUSES:
            told = _seconds(retry_after)
            return self.backoff(attempt) if told is None else min(told, self.max_wait_seconds)
        if status == 409 and code == IN_PROGRESS:
            return self.backoff(attempt)
        return None


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After in seconds; its HTTP-date form is treated as absent (the backoff applies),
    which spares the client a wall clock to compare it with."""
    if retry_after is None or not retry_after.strip().isdigit():
        return None
    return float(int(retry_after.strip()))
