"""Rate limits per user and per device: a token bucket per key, in this process's memory.

A bucket holds up to ``burst`` tokens and refills at ``rate_per_second``; a request takes one.
An empty bucket refuses with ``api.rate_limited`` (429) and says in how many whole seconds a
token is back (``Retry-After``).

The limits are per process: with N API processes a client may reach N times the rate. They
guard against a runaway client or script, not an account's quota, which would need shared
state on the money path. The number of buckets is bounded: past ``max_keys`` the least recently
used is dropped, and a key that comes back starts with a full bucket, which errs on the side of
serving.

Buckets refill with ``time.monotonic`` (elapsed real time), not the injected clock: that clock
is business time, which a drill may stop or move by hours, while a limit is about the seconds
that really pass.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from hongbao.entrypoints.http.codes import ApiCode
from hongbao.entrypoints.http.errors import ApiError
from hongbao.platform.invariants import invariant

MAX_RETRY_AFTER_SECONDS = 3_600


@dataclass(frozen=True, slots=True)
class BucketLimit:
    rate_per_second: float
    burst: int

    def __post_init__(self) -> None:
        invariant(self.rate_per_second > 0, "a bucket refills", rate=self.rate_per_second)
        invariant(self.burst >= 1, "a bucket holds at least one request", burst=self.burst)


class RateLimited(ApiError):
    code = ApiCode.RATE_LIMITED

    def __init__(self, scope: str, retry_after_seconds: int) -> None:
        super().__init__(
            f"too many requests from this {scope}; retry in {retry_after_seconds} s",
            code=self.code,
            limit=scope,
            retry_after_seconds=retry_after_seconds,
        )
        self.retry_after_seconds = retry_after_seconds


class TokenBuckets:
    """Buckets of one limit, keyed by a string (a user id, a device fingerprint)."""

    def __init__(
        self,
        limit: BucketLimit,
        *,
        max_keys: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        invariant(max_keys >= 1, "at least one bucket", max_keys=max_keys)
        self.limit = limit
        self.max_keys = max_keys
        self._monotonic = monotonic
        # key -> (tokens, refilled at); least recently used first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> int:
        """Take a token for ``key``: 0 when there was one, else the seconds until there is."""
        now = self._monotonic()
        limit = self.limit
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                tokens = float(limit.burst)
                if len(self._buckets) >= self.max_keys:
                    self._buckets.popitem(last=False)
            else:
                tokens = min(limit.burst, found[0] + (now - found[1]) * limit.rate_per_second)
                self._buckets.move_to_end(key)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
        wait = (1.0 - tokens) / limit.rate_per_second
        return min(MAX_RETRY_AFTER_SECONDS, max(1, math.ceil(wait)))


class RateLimiter:
    """The user's bucket and the device's bucket; a request needs a token from both."""

    def __init__(
        self,
        user: BucketLimit,
        device: BucketLimit,
        *,
        max_keys: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.users = TokenBuckets(user, max_keys=max_keys, monotonic=monotonic)
        self.devices = TokenBuckets(device, max_keys=max_keys, monotonic=monotonic)

    @property
    def tracked_keys(self) -> int:
        return len(self.users) + len(self.devices)

    def check(self, user_id: str, device_key: str | None) -> None:
        """Raise :class:`RateLimited` when the user's or the device's bucket is empty."""
        wait = self.users.take(user_id)
        if wait:
            raise RateLimited("user", wait)
        if device_key is not None:
            wait = self.devices.take(device_key)
            if wait:
                raise RateLimited("device", wait)
