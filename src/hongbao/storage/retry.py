"""Whole-transaction retry with bounded attempts and full jitter.

PostgreSQL (and PostgreSQL-compatible distributed engines) may abort a transaction with a
serialization failure (40001) or a deadlock (40P01); a concurrent retry of the same idempotency
key may also lose the race on a unique key. In each case the right move is to run the whole
unit of work again: it re-reads everything, so the second run sees what the winner committed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from hongbao.platform.errors import StorageCode, StorageError
from hongbao.platform.limits import MAX_TRANSACTION_ATTEMPTS

Result = TypeVar("Result")

BASE_DELAY_SECONDS = 0.002
MAX_DELAY_SECONDS = 0.2


def with_retry(
    attempt: Callable[[], Result],
    is_transient: Callable[[BaseException], bool],
    *,
    attempts: int = MAX_TRANSACTION_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> Result:
    last_error: BaseException | None = None
    for number in range(attempts):
        try:
            return attempt()
        except Exception as error:
            if not is_transient(error):
                raise
            last_error = error
            ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2**number)
            # Jitter spreads competing retries apart; it needs no cryptographic strength.
            sleep(random.uniform(0, ceiling))  # noqa: S311
    raise StorageError(
        f"transaction still conflicting after {attempts} attempts: {last_error}",
        code=StorageCode.CONFLICT,
        attempts=attempts,
    ) from last_error
