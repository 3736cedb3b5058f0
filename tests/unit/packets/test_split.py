"""Packet splits: exact sums, one-fen minimums, reproducible lucky shares, audit and fairness."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import math
import statistics
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hongbao.money import Money, MoneyError, currency
from hongbao.packets.split import (
    LUCKY_ALGORITHM,
    MAX_GROUP_SHARES,
    MAX_SEED_LENGTH,
    MIN_SEED_LENGTH,
    MIN_SHARE_MINOR,
    LuckySplit,
    PacketError,
    PacketLimitError,
    _double_mean,
    _HmacStream,
    split_fixed,
    split_lucky,
)
from hongbao.platform.errors import InvalidInput, LimitExceeded
from hongbao.platform.limits import MAX_SPLIT_PARTS, MAX_TRANSFER_AMOUNT

CNY = currency("CNY")
SEED = "hongbao-golden-seed-0001"
BYTES_SEED = bytes(range(32))


def fen(minor: int) -> Money:
    return Money(minor, CNY)


def minors(shares: tuple[Money, ...]) -> list[int]:
    return [share.minor for share in shares]


def reference_lucky_split(total: int, count: int, seed: bytes) -> list[int]:
    """The algorithm written again from the module docstring alone, as plainly as possible."""
    words: list[int] = []
    block = 0

    def uniform_below(span: int) -> int:
        nonlocal block
        while True:
            if not words:
                message = b"double-mean/hmac-sha256/v1" + block.to_bytes(8, "big")
                digest = hmac.new(seed, message, hashlib.sha256).digest()
                words.extend(int.from_bytes(digest[i : i + 8], "big") for i in (0, 8, 16, 24))
                block += 1
            word = words.pop(0)
            if word < 2**64 - 2**64 % span:
                return word % span

    shares = []
    remaining = total
    for position in range(count - 1):
        left = count - position
        surplus = remaining - left
        a, b = divmod(2 * surplus, left)
        m = a + 1 if uniform_below(left) < b else a
        share = 1 + uniform_below(m + 1)
        shares.append(share)
        remaining -= share
    return [*shares, remaining]


def exact_outcomes(
    run: Callable[[Callable[[int], int]], list[int]],
) -> dict[tuple[int, ...], Fraction]:
    """Every result of ``run`` with its exact probability, exploring every value of every draw."""
    probabilities: dict[tuple[int, ...], Fraction] = {}
    pending: list[tuple[int, ...]] = [()]

    class NeedsChoice(Exception):
        def __init__(self, span: int) -> None:
            self.span = span

    while pending:
        script = pending.pop()
        probability = Fraction(1)
        used = 0

        def scripted(span: int, script: tuple[int, ...] = script) -> int:
            nonlocal probability, used
            if used == len(script):
                raise NeedsChoice(span)
            probability /= span
            used += 1
            return script[used - 1]

        try:
            result = run(scripted)
        except NeedsChoice as choice:
            pending.extend((*script, value) for value in range(choice.span))
            continue
        key = tuple(result)
        probabilities[key] = probabilities.get(key, Fraction(0)) + probability
    return probabilities


def error_code(call: Callable[[], object]) -> str:
    with pytest.raises(PacketError) as raised:
        call()
    return raised.value.code


# --- golden vectors: a silent change of the algorithm fails here ------------------------------


def test_the_golden_vector_for_a_text_seed_never_changes() -> None:
    """100.00 CNY in 10 shares from a fixed text seed: these exact shares, in this order."""
    split = split_lucky(fen(10_000), 10, SEED)
    assert minors(split.shares) == [1128, 1374, 1311, 1431, 1074, 794, 104, 1629, 104, 1051]
    assert split.algorithm == LUCKY_ALGORITHM == "double-mean/hmac-sha256/v1"


def test_the_golden_vectors_for_a_byte_seed_never_change() -> None:
    assert minors(split_lucky(fen(123_456_789), 7, BYTES_SEED).shares) == [
        21678597,
        25763638,
        16077469,
        29860388,
        7329749,
        15939281,
        6807667,
    ]
    assert minors(split_lucky(fen(3), 2, BYTES_SEED).shares) == [1, 2]


@pytest.mark.parametrize(
    ("total", "count"), [(1, 1), (2, 2), (3, 2), (7, 3), (10_000, 10), (10**9, 200), (999, 37)]
)
@pytest.mark.parametrize("seed", [BYTES_SEED, b"\xff" * 16, SEED.encode(), bytes(range(128))])
def test_the_implementation_matches_the_documented_definition(
    total: int, count: int, seed: bytes
) -> None:
    """An independent re-implementation of the docstring gives the same shares."""
    split = split_lucky(fen(total), count, seed)
    assert minors(split.shares) == reference_lucky_split(total, count, seed)


@pytest.mark.parametrize("span", [1, 2, 3, 10**12, 3 * 2**62, 2**63 + 1, 2**64])
def test_the_random_stream_rejects_rather_than_reducing_with_bias(span: int) -> None:
    """Huge spans make rejection frequent; the stream still matches the documented rule."""
    stream = _HmacStream(BYTES_SEED)
    words = iter(
        int.from_bytes(digest[i : i + 8], "big")
        for block in range(64)
        for digest in [
            hmac.digest(BYTES_SEED, LUCKY_ALGORITHM.encode() + block.to_bytes(8, "big"), "sha256")
        ]
        for i in (0, 8, 16, 24)
    )
    limit = 2**64 - 2**64 % span
    for _ in range(20):
        expected = next(word for word in words if word < limit) % span
        assert stream.uniform_below(span) == expected


# --- exact sums and minimums ------------------------------------------------------------------


@st.composite
def totals_and_counts(draw: st.DrawFn) -> tuple[int, int]:
    count = draw(st.integers(1, MAX_GROUP_SHARES))
    total = draw(st.one_of(st.integers(count, count + 50), st.integers(count, 10**9)))
    return total, count


@given(totals_and_counts(), st.binary(min_size=MIN_SEED_LENGTH, max_size=MAX_SEED_LENGTH))
def test_lucky_shares_add_up_exactly_and_each_is_at_least_one_fen(
    total_and_count: tuple[int, int], seed: bytes
) -> None:
    total, count = total_and_count
    split = split_lucky(fen(total), count, seed)
    assert len(split.shares) == count
    assert sum(minors(split.shares)) == total
    assert all(share.minor >= MIN_SHARE_MINOR and share.currency == CNY for share in split.shares)
    assert split.total == fen(total)
    assert split.seed == seed
    assert split.verify()


@given(totals_and_counts(), st.binary(min_size=MIN_SEED_LENGTH, max_size=MAX_SEED_LENGTH))
def test_no_drawn_share_exceeds_the_minimum_plus_twice_the_surplus_mean(
    total_and_count: tuple[int, int], seed: bytes
) -> None:
    total, count = total_and_count
    remaining = total
    for position, share in enumerate(minors(split_lucky(fen(total), count, seed).shares)[:-1]):
        left = count - position
        assert share <= 1 + math.ceil(2 * (remaining - left) / left)
        remaining -= share


@given(totals_and_counts())
def test_fixed_shares_add_up_exactly_differ_by_at_most_one_fen_and_never_increase(
    total_and_count: tuple[int, int],
) -> None:
    total, count = total_and_count
    shares = minors(split_fixed(fen(total), count))
    assert len(shares) == count
    assert sum(shares) == total
    assert min(shares) >= MIN_SHARE_MINOR
    assert max(shares) - min(shares) <= 1
    assert shares == sorted(shares, reverse=True)


def test_the_fixed_split_gives_the_remainder_to_the_first_shares() -> None:
    """1.00 CNY in 3 is 0.34, 0.33, 0.33; 10.05 CNY in 4 gives the extra fen to the first one."""
    assert minors(split_fixed(fen(100), 3)) == [34, 33, 33]
    assert minors(split_fixed(fen(1005), 4)) == [252, 251, 251, 251]
    assert minors(split_fixed(fen(1007), 4)) == [252, 252, 252, 251]
    assert minors(split_fixed(fen(5), 5)) == [1, 1, 1, 1, 1]
    assert split_fixed(fen(100), 3) == tuple(fen(100).split(3))
    assert minors(split_fixed(fen(1), 1)) == [1]


def test_a_single_lucky_share_is_the_whole_total() -> None:
    assert minors(split_lucky(fen(8888), 1, SEED).shares) == [8888]


def test_a_lucky_total_of_one_fen_per_share_gives_every_share_one_fen() -> None:
    assert minors(split_lucky(fen(200), 200, SEED).shares) == [1] * 200


def test_the_currency_is_carried_through_both_splits() -> None:
    usd = Money.of(1000, "USD")
    assert {share.currency.code for share in split_lucky(usd, 7, SEED).shares} == {"USD"}
    assert {share.currency.code for share in split_fixed(usd, 7)} == {"USD"}


def test_policy_may_allow_more_shares_than_the_group_default_up_to_the_hard_limit() -> None:
    split = split_lucky(fen(100_000), 500, SEED, max_shares=500)
    assert sum(minors(split.shares)) == 100_000
    assert split.verify()
    assert len(split_fixed(fen(MAX_SPLIT_PARTS), MAX_SPLIT_PARTS, max_shares=MAX_SPLIT_PARTS)) == (
        MAX_SPLIT_PARTS
    )


# --- reproducibility and audit ----------------------------------------------------------------


def test_the_same_seed_always_gives_the_same_shares() -> None:
    assert split_lucky(fen(10_000), 10, SEED) == split_lucky(fen(10_000), 10, SEED)


def test_a_text_seed_and_its_ascii_bytes_give_the_same_shares() -> None:
    text = split_lucky(fen(10_000), 10, SEED)
    raw = split_lucky(fen(10_000), 10, SEED.encode("ascii"))
    assert text.shares == raw.shares
    assert text.seed == SEED
    assert raw.seed == SEED.encode("ascii")


def test_different_seeds_give_different_shares() -> None:
    splits = {
        tuple(minors(split_lucky(fen(10_000), 10, f"seed-{i:012d}").shares)) for i in range(50)
    }
    assert len(splits) == 50


def test_verify_accepts_an_untouched_split_of_either_seed_kind() -> None:
    assert split_lucky(fen(10_000), 10, SEED).verify()
    assert split_lucky(fen(10_000), 10, BYTES_SEED).verify()


def tampered_versions(split: LuckySplit) -> dict[str, LuckySplit]:
    shares = list(split.shares)
    moved = [shares[0] - fen(1), shares[1] + fen(1), *shares[2:]]
    swapped = [shares[1], shares[0], *shares[2:]]
    return {
        "one fen moved between shares": dataclasses.replace(split, shares=tuple(moved)),
        "two shares swapped": dataclasses.replace(split, shares=tuple(swapped)),
        "a share raised": dataclasses.replace(split, shares=(shares[0] + fen(1), *shares[1:])),
        "a share removed": dataclasses.replace(split, shares=tuple(shares[:-1])),
        "a share added": dataclasses.replace(split, shares=(*shares, fen(1))),
        "a share in another currency": dataclasses.replace(
            split, shares=(*shares[:-1], Money(shares[-1].minor, currency("HKD")))
        ),
        "another seed": dataclasses.replace(split, seed=SEED + "x"),
        "an invalid seed": dataclasses.replace(split, seed="short"),
        "another total": dataclasses.replace(split, total=split.total + fen(1)),
        "no shares at all": dataclasses.replace(split, shares=()),
    }


@pytest.mark.parametrize("change", list(tampered_versions(split_lucky(fen(10_000), 10, SEED))))
def test_verify_detects_a_tampered_split(change: str) -> None:
    tampered = tampered_versions(split_lucky(fen(10_000), 10, SEED))[change]
    assert not tampered.verify()


def test_verify_refuses_to_judge_a_split_from_an_unknown_algorithm() -> None:
    split = dataclasses.replace(split_lucky(fen(10_000), 10, SEED), algorithm="double-mean/v0")
    assert error_code(split.verify) == "packets.unknown_algorithm"


def test_a_lucky_split_is_immutable() -> None:
    split = split_lucky(fen(10_000), 10, SEED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        split.shares = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"total": 10_000}, "packets.total_not_money"),
        ({"shares": [fen(10_000)]}, "packets.shares_invalid"),
        ({"shares": (10_000,)}, "packets.shares_invalid"),
        ({"seed": 12345}, "packets.seed_invalid"),
        ({"algorithm": None}, "packets.unknown_algorithm"),
    ],
)
def test_a_lucky_split_record_of_the_wrong_types_cannot_be_built(
    fields: dict[str, object], code: str
) -> None:
    values: dict[str, object] = {
        "total": fen(10_000),
        "shares": (fen(10_000),),
        "seed": SEED,
        "algorithm": LUCKY_ALGORITHM,
    } | fields
    assert error_code(lambda: LuckySplit(**values)) == code  # type: ignore[arg-type]


# --- fairness: unbiased in expectation per position -------------------------------------------


@pytest.mark.parametrize(
    ("total", "count"), [(n_total, n) for n in (2, 3, 4) for n_total in range(n, 13)]
)
def test_every_position_expects_exactly_the_mean_share(total: int, count: int) -> None:
    """Exact: every branch of every draw, weighted by its probability, with fractions."""
    outcomes = exact_outcomes(lambda draw: _double_mean(total, count, draw))
    assert sum(outcomes.values()) == 1
    for position in range(count):
        expected = sum(p * shares[position] for shares, p in outcomes.items())
        assert expected == Fraction(total, count), (position, expected)
    assert all(sum(shares) == total and min(shares) >= 1 for shares in outcomes)


def test_three_fen_in_two_shares_is_a_fair_coin() -> None:
    """The naive integer translation would give the first share 2 fen more often than 1."""
    assert exact_outcomes(lambda draw: _double_mean(3, 2, draw)) == {
        (1, 2): Fraction(1, 2),
        (2, 1): Fraction(1, 2),
    }


@pytest.mark.parametrize(
    ("total", "count", "runs"), [(10_000, 10, 3000), (5, 3, 3000), (1001, 4, 3000)]
)
def test_the_mean_share_of_every_position_over_many_seeds_is_the_total_over_n(
    total: int, count: int, runs: int
) -> None:
    """Statistical: per position, the sample mean is within 4.5 standard errors of total/n."""
    by_position: list[list[int]] = [[] for _ in range(count)]
    for run in range(runs):
        for position, share in enumerate(
            split_lucky(fen(total), count, f"fairness-{run:010d}").shares
        ):
            by_position[position].append(share.minor)
    mean_share = total / count
    for position, shares in enumerate(by_position):
        standard_error = statistics.stdev(shares) / math.sqrt(runs)
        assert abs(statistics.fmean(shares) - mean_share) <= 4.5 * standard_error + 1e-9, position


# --- refusals, each with its stable code ------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: split_lucky(10.0, 2, SEED), "packets.total_not_money"),  # type: ignore[arg-type]
        (lambda: split_lucky(1000, 2, SEED), "packets.total_not_money"),  # type: ignore[arg-type]
        (lambda: split_fixed(10.0, 2), "packets.total_not_money"),  # type: ignore[arg-type]
        (lambda: split_lucky(fen(100), 0, SEED), "packets.shares_invalid"),
        (lambda: split_lucky(fen(100), -3, SEED), "packets.shares_invalid"),
        (lambda: split_lucky(fen(100), True, SEED), "packets.shares_invalid"),
        (lambda: split_fixed(fen(100), 2.0), "packets.shares_invalid"),  # type: ignore[arg-type]
        (lambda: split_fixed(fen(100), "2"), "packets.shares_invalid"),  # type: ignore[arg-type]
        (lambda: split_lucky(fen(100), 2, SEED, max_shares=0), "packets.max_shares_invalid"),
        (
            lambda: split_fixed(fen(100), 2, max_shares=MAX_SPLIT_PARTS + 1),
            "packets.max_shares_invalid",
        ),
        (lambda: split_fixed(fen(100), 2, max_shares=True), "packets.max_shares_invalid"),
        (lambda: split_lucky(fen(4), 5, SEED), "packets.total_too_small"),
        (lambda: split_lucky(fen(0), 1, SEED), "packets.total_too_small"),
        (lambda: split_lucky(fen(-100), 1, SEED), "packets.total_too_small"),
        (lambda: split_fixed(fen(4), 5), "packets.share_below_minimum"),
        (lambda: split_fixed(fen(0), 1), "packets.share_below_minimum"),
        (lambda: split_fixed(fen(-100), 2), "packets.share_below_minimum"),
        (lambda: split_lucky(fen(100), 2, "x" * (MIN_SEED_LENGTH - 1)), "packets.seed_invalid"),
        (lambda: split_lucky(fen(100), 2, b"x" * (MAX_SEED_LENGTH + 1)), "packets.seed_invalid"),
        (lambda: split_lucky(fen(100), 2, b""), "packets.seed_invalid"),
        (lambda: split_lucky(fen(100), 2, "红包" * 10), "packets.seed_invalid"),
        (lambda: split_lucky(fen(100), 2, "a seed with spaces inside"), "packets.seed_invalid"),
        (lambda: split_lucky(fen(100), 2, 2**128), "packets.seed_invalid"),  # type: ignore[arg-type]
        (lambda: split_lucky(fen(100), 2, bytearray(32)), "packets.seed_invalid"),  # type: ignore[arg-type]
    ],
)
def test_malformed_requests_are_refused_with_a_stable_code(
    call: Callable[[], object], code: str
) -> None:
    assert error_code(call) == code


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: split_lucky(fen(1000), MAX_GROUP_SHARES + 1, SEED), "packets.too_many_shares"),
        (lambda: split_fixed(fen(1000), MAX_GROUP_SHARES + 1), "packets.too_many_shares"),
        (lambda: split_lucky(fen(1000), 11, SEED, max_shares=10), "packets.too_many_shares"),
        (lambda: split_lucky(fen(MAX_TRANSFER_AMOUNT + 1), 2, SEED), "packets.total_too_large"),
        (lambda: split_fixed(fen(MAX_TRANSFER_AMOUNT + 1), 2), "packets.total_too_large"),
    ],
)
def test_requests_over_a_limit_are_limit_errors(call: Callable[[], object], code: str) -> None:
    with pytest.raises(PacketLimitError) as raised:
        call()
    assert raised.value.code == code
    assert isinstance(raised.value, LimitExceeded)
    assert isinstance(raised.value, InvalidInput)


def test_limits_are_inclusive() -> None:
    assert len(split_lucky(fen(MAX_TRANSFER_AMOUNT), MAX_GROUP_SHARES, SEED).shares) == 200
    assert (
        sum(minors(split_fixed(fen(MAX_TRANSFER_AMOUNT), MAX_GROUP_SHARES))) == MAX_TRANSFER_AMOUNT
    )
    assert split_lucky(fen(100), 2, "s" * MIN_SEED_LENGTH).verify()
    assert split_lucky(fen(100), 2, b"\x00" * MAX_SEED_LENGTH).verify()


def test_a_float_amount_never_becomes_money_in_the_first_place() -> None:
    with pytest.raises(MoneyError) as raised:
        Money.of(10.5, "CNY")  # type: ignore[arg-type]
    assert raised.value.code == "money.float_refused"


def test_a_seed_error_never_repeats_the_seed() -> None:
    private_seed = "private seed with spaces"
    with pytest.raises(PacketError) as raised:
        split_lucky(fen(100), 2, private_seed)
    assert private_seed not in str(raised.value)
    assert private_seed not in repr(raised.value.details)
