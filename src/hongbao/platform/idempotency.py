"""Idempotency records: a caller's key with its first response, so a repeat gets the same one.

Written in the transaction of the change it answers, so the key and the change commit
together; platform holds it because every entry point's writes may carry a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class KeyState(StrEnum):
    IN_PROGRESS = "in_progress"  # the first request holds the key until its lease ends
    DONE = "done"  # the first response, returned to every repeat


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    principal: str  # the token's subject: keys are per caller
    idempotency_key: str
    request_hash: str  # method, path and body of the first request
    state: KeyState
    status: int | None
    body: str | None  # the first response's JSON
    created_at_us: int
    lease_until_us: int  # an unfinished first request gives the key up after this
