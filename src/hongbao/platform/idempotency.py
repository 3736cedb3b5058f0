# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""Idempotency records: a caller's key with its first response, so a repeat gets the same one.

Written in the transaction of the change it answers, so the key and the change commit
together; platform holds it because every entry point's writes may carry a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hongbao.platform.errors import ErrorCode, HongbaoError, Outcome
from hongbao.platform.ids import is_valid_id

MAX_KEY_LENGTH: Final = 64


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


class IdempotencyCode(ErrorCode):
    """Codes of idempotency keys (the HTTP API's Idempotency-Key header, the CLI's --key)."""

    KEY_MISSING = (
        "idempotency.key_missing",
        Outcome.REFUSED,
        "请求缺少 Idempotency-Key 请求头。",
        "The request needs an Idempotency-Key header.",
    )
    KEY_INVALID = (
        "idempotency.key_invalid",
        Outcome.REFUSED,
        "Idempotency-Key 请求头的格式有误。",
        "The Idempotency-Key header is malformed.",
    )
    KEY_REUSED = (
        "idempotency.key_reused",
        Outcome.REFUSED,
        "这个 Idempotency-Key 已用于另一个不同的请求。",
        "This Idempotency-Key was used for a different request.",
    )
    IN_PROGRESS = (
        "idempotency.in_progress",
        Outcome.CONFLICT,
        "相同的请求正在处理中，请稍后重试。",
        "The same request is still being processed; retry shortly.",
    )


class KeyInvalid(HongbaoError):
    code = IdempotencyCode.KEY_INVALID


def checked_key(key: str) -> str:
    """``key`` when it can name a request: 1 to 64 letters, digits or ':._-/'."""
    if not is_valid_id(key) or len(key) > MAX_KEY_LENGTH:
        raise KeyInvalid(
            f"an idempotency key is 1 to {MAX_KEY_LENGTH} letters, digits or ':._-/'",
            code=IdempotencyCode.KEY_INVALID,
        )
    return key
