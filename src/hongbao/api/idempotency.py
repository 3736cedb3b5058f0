"""Idempotency-Key: a repeat of a POST returns the first response; money moves once.

The key is claimed first, in its own transaction (a row ``in_progress`` with a lease), so two
concurrent requests with one key cannot both run: the second waits for the first response and
returns it. The operation itself runs in the service's transaction and is idempotent on ids
derived from the key (a packet id, a recall key, a challenge id), so a first request that died
after moving money and before storing its response is repeated harmlessly once its lease ends.
A repeat with a different body is refused (``idempotency.key_reused``, 422). Responses of
refusals (4xx) are kept like successes; a fault (5xx) releases the key, so a retry runs again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final

from hongbao.api.errors import ApiError
from hongbao.api.records import IdempotencyRecord, KeyState
from hongbao.ledger.model import is_valid_id
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, Clock, is_due
from hongbao.platform.unit_of_work import Database, UnitOfWork

MAX_KEY_LENGTH: Final = 64
LEASE_SECONDS: Final = 30
WAIT_SECONDS: Final = 10.0
POLL_SECONDS: Final = 0.02


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: Any  # JSON value


def request_hash(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str | None) -> str:
    if key is None:
        raise ApiError(
            "this request needs an Idempotency-Key header", code="idempotency.key_missing"
        )
    if not is_valid_id(key) or len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            f"an Idempotency-Key is 1 to {MAX_KEY_LENGTH} letters, digits or ':._-/'",
            code="idempotency.key_invalid",
        )
    return key


@dataclass
class IdempotencyGuard:
    database: Database
    clock: Clock

    def run(
        self, principal: str, key: str, fingerprint: str, action: Callable[[], Response]
    ) -> Response:
        """The first response for (principal, key), running ``action`` only when it is new."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            claimed = self.database.transact(
                lambda uow: self._claim(uow, principal, key, fingerprint)
            )
            if isinstance(claimed, Response):
                return claimed
            if claimed:
                break
            if time.monotonic() >= deadline:
                raise ApiError(
                    "a request with this Idempotency-Key is still being processed; retry shortly",
                    code="idempotency.in_progress",
                )
            time.sleep(POLL_SECONDS)
        try:
            response = action()
        except BaseException:
            self.database.transact(lambda uow: self._release(uow, principal, key))
            raise
        if response.status >= 500:
            self.database.transact(lambda uow: self._release(uow, principal, key))
            return response
        self.database.transact(lambda uow: self._finish(uow, principal, key, response))
        return response

    def _claim(
        self, uow: UnitOfWork, principal: str, key: str, fingerprint: str
    ) -> Response | bool:
        """A stored response, True when this request now holds the key, False to wait."""
        now_us = self.clock.now_us()
        lease = now_us + LEASE_SECONDS * MICROSECONDS_PER_SECOND
        found = uow.api.idempotency.lock(principal, key)
        if found is None:
            uow.api.idempotency.insert(
                IdempotencyRecord(
                    principal, key, fingerprint, KeyState.IN_PROGRESS, None, None, now_us, lease
                )
            )
            return True
        if found.request_hash != fingerprint:
            raise ApiError(
                "this Idempotency-Key was used for a different request",
                code="idempotency.key_reused",
            )
        if found.state is KeyState.DONE:
            assert found.status is not None  # noqa: S101 - a done key has its response
            return Response(found.status, json.loads(found.body or "null"))
        if is_due(found.lease_until_us, now_us):  # the first request died: take over
            uow.api.idempotency.replace(replace(found, lease_until_us=lease))
            return True
        return False

    def _finish(self, uow: UnitOfWork, principal: str, key: str, response: Response) -> None:
        found = uow.api.idempotency.lock(principal, key)
        if found is not None and found.state is KeyState.IN_PROGRESS:
            body = json.dumps(response.body, separators=(",", ":"), sort_keys=True)
            uow.api.idempotency.replace(
                replace(found, state=KeyState.DONE, status=response.status, body=body)
            )

    def _release(self, uow: UnitOfWork, principal: str, key: str) -> None:
        found = uow.api.idempotency.lock(principal, key)
        if found is not None and found.state is KeyState.IN_PROGRESS:
            # Expire the lease now rather than delete: record tables never delete rows.
            uow.api.idempotency.replace(replace(found, lease_until_us=self.clock.now_us()))
