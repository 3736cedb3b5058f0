"""What the scheduler and the outbox relay share: run a claimed row's handler in the claiming
transaction, and when it fails, roll its effects back and decide when to try again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from hongbao.platform.clock import MICROSECONDS_PER_SECOND
from hongbao.platform.unit_of_work import Database

Item = TypeVar("Item")
UnitOfWorkT = TypeVar("UnitOfWorkT")

MAX_ERROR_LENGTH = 2_000
FIRST_RETRY_SECONDS = 1
MAX_RETRY_SECONDS = 3_600


def retry_delay_seconds(attempts: int) -> int:
    """1 s, 2 s, 4 s … capped at an hour: quick recovery, no hammering of a broken dependency."""
    return int(min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True, slots=True)
class NextTry:
    """After a failed attempt: how many attempts are used, whether to give up, and when next."""

    attempts: int
    dead: bool
    at_us: int


def next_try(attempts_before: int, max_attempts: int, now_us: int) -> NextTry:
    attempts = attempts_before + 1
    delay_us = retry_delay_seconds(attempts) * MICROSECONDS_PER_SECOND
    return NextTry(attempts, attempts >= max_attempts, now_us + delay_us)


class HandlerFailed(Exception, Generic[Item]):
    """Raised out of the claiming transaction so that it rolls back the handler's effects."""

    def __init__(self, item: Item, message: str) -> None:
        super().__init__(message)
        self.item = item
        self.message = message


def run_handler(item: Item, handler: Callable[[], None]) -> None:
    """Run a claimed row's handler; any exception becomes :class:`HandlerFailed` for ``item``."""
    try:
        handler()
    except Exception as error:
        message = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
        raise HandlerFailed(item, message) from error


def run_claimed(
    database: Database[UnitOfWorkT], attempt: Callable[[UnitOfWorkT], Item | None]
) -> tuple[Item | None, HandlerFailed[Item] | None]:
    """Run ``attempt`` (claim a row, run its handler, mark it done) in one transaction.

    Returns what it marked done (None when nothing was due), or the failure to record.
    """
    try:
        return database.transact(attempt), None
    except HandlerFailed as failed:
        return None, failed
