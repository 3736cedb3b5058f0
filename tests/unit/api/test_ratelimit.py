"""Token buckets per user and per device: burst, refusal with a retry time, refill, bounds."""

from __future__ import annotations

import pytest

from hongbao.entrypoints.ops.ratelimit import BucketLimit, RateLimited, RateLimiter, TokenBuckets


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_serves_its_burst_then_says_when_a_token_is_back() -> None:
    time = FakeMonotonic()
    buckets = TokenBuckets(BucketLimit(0.5, 3), max_keys=10, monotonic=time)
    assert [buckets.take("li-wei") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("li-wei") == 2  # one token every two seconds
    time.now += 2.0
    assert buckets.take("li-wei") == 0
    assert buckets.take("liu-yang") == 0  # keys have buckets of their own


def test_a_bucket_never_holds_more_than_its_burst_however_long_it_rests() -> None:
    time = FakeMonotonic()
    buckets = TokenBuckets(BucketLimit(10.0, 2), max_keys=10, monotonic=time)
    buckets.take("k")
    time.now += 3_600
    assert [buckets.take("k") for _ in range(3)] == [0, 0, 1]


def test_the_number_of_buckets_is_bounded_and_the_least_recently_used_goes_first() -> None:
    time = FakeMonotonic()
    buckets = TokenBuckets(BucketLimit(1.0, 1), max_keys=2, monotonic=time)
    buckets.take("a")
    buckets.take("b")
    assert buckets.take("a") == 1  # "a" is now the most recently used
    buckets.take("c")  # evicts "b"
    assert len(buckets) == 2
    assert buckets.take("b") == 0  # a returning key starts full
    assert buckets.take("a") == 0  # "a" was evicted by "b": full again


def test_the_limiter_refuses_on_the_user_bucket_or_the_device_bucket() -> None:
    time = FakeMonotonic()
    limiter = RateLimiter(BucketLimit(1.0, 5), BucketLimit(1.0, 2), max_keys=10, monotonic=time)
    limiter.check("li-wei", "phone")
    limiter.check("liu-yang", "phone")
    with pytest.raises(RateLimited) as refused:
        limiter.check("zhao-lei", "phone")
    assert refused.value.code == "api.rate_limited"
    assert refused.value.details == {"limit": "device", "retry_after_seconds": 1}
    limiter.check("zhao-lei", None)  # without a device only the user's bucket counts
    assert limiter.tracked_keys == 4


def test_limits_must_refill_and_hold_at_least_one_request() -> None:
    with pytest.raises(Exception, match="refills"):
        BucketLimit(0.0, 1)
    with pytest.raises(Exception, match="at least one"):
        BucketLimit(1.0, 0)
