"""Tests for hongbao.money: exact integer amounts, refused floats and the documented roundings."""

from __future__ import annotations

import dataclasses
import itertools
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hongbao.money import (
    CURRENCIES,
    MAX_MONEY_MINOR,
    Currency,
    FxConversion,
    Money,
    MoneyError,
    MoneyLimitError,
    convert,
    currency,
)
from hongbao.platform.errors import HongbaoError, InvalidInput, LimitExceeded
from hongbao.platform.limits import MAX_SPLIT_PARTS, MAX_TRANSFER_AMOUNT

CNY = currency("CNY")
USD = currency("USD")
JPY = currency("JPY")
BHD = currency("BHD")


def cny(text: str) -> Money:
    """Shorthand for an amount written in yuan."""
    return Money.parse(text, "CNY")


# --- currencies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exponent"),
    [
        ("CNY", 2),
        ("USD", 2),
        ("EUR", 2),
        ("HKD", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("GBP", 2),
        ("SGD", 2),
        ("AUD", 2),
        ("CAD", 2),
        ("CHF", 2),
        ("TWD", 2),
        ("MOP", 2),
        ("THB", 2),
        ("BHD", 3),
        ("KWD", 3),
    ],
)
def test_registry_holds_iso_exponents(code: str, exponent: int) -> None:
    """Every registered currency carries its ISO 4217 number of decimals."""
    assert currency(code) == Currency(code, exponent)
    assert CURRENCIES[code].exponent == exponent


@pytest.mark.parametrize("code", ["cny", "Cny", "XXX", "", "CNYY", " CNY"])
def test_unknown_or_lowercase_currency_code_is_refused(code: str) -> None:
    """Lookup is exact and case-sensitive; anything else is money.unknown_currency."""
    with pytest.raises(MoneyError) as caught:
        currency(code)
    assert caught.value.code == "money.unknown_currency"


def test_currency_lookup_of_non_text_is_unknown_currency() -> None:
    """A non-string code is reported as an unknown currency, not a crash."""
    with pytest.raises(MoneyError) as caught:
        currency(123)  # type: ignore[arg-type]
    assert caught.value.code == "money.unknown_currency"


def test_registry_is_read_only() -> None:
    """Nobody can add or replace a currency at run time."""
    with pytest.raises(TypeError):
        CURRENCIES["XYZ"] = Currency("XYZ", 2)  # type: ignore[index]


def test_known_code_with_wrong_exponent_cannot_be_built() -> None:
    """A second, different CNY would compare unequal to the real one, so it is refused."""
    with pytest.raises(MoneyError) as caught:
        Currency("CNY", 3)
    assert caught.value.code == "money.invalid_currency"


@pytest.mark.parametrize(("code", "exponent"), [("cny", 2), ("AB", 2), ("XYZ", -1), ("XYZ", 5)])
def test_malformed_currency_is_refused(code: str, exponent: int) -> None:
    """Codes are three uppercase letters and exponents are 0 to 4."""
    with pytest.raises(MoneyError) as caught:
        Currency(code, exponent)
    assert caught.value.code == "money.invalid_currency"


def test_unregistered_but_well_formed_currency_can_be_built() -> None:
    """Currencies outside the registry can still be described explicitly."""
    assert Money(150, Currency("XYZ", 1)).format() == "15.0"


# --- construction -----------------------------------------------------------------------------


def test_float_amount_is_refused_with_a_message_about_minor_units() -> None:
    """Money(12.34, ...) is refused: amounts are integer minor units."""
    with pytest.raises(MoneyError) as caught:
        Money(12.34, CNY)  # type: ignore[arg-type]
    assert caught.value.code == "money.float_refused"
    assert "integer minor units" in caught.value.message


@pytest.mark.parametrize("value", [True, False, Decimal("12"), "12", None])
def test_non_int_amounts_are_refused(value: object) -> None:
    """bool, Decimal, text and None are not integer minor units."""
    with pytest.raises(MoneyError) as caught:
        Money(value, CNY)  # type: ignore[arg-type]
    assert caught.value.code == "money.not_integer"
    assert "integer minor units" in caught.value.message


def test_float_through_of_is_refused() -> None:
    """The convenience constructor refuses floats just the same."""
    with pytest.raises(MoneyError) as caught:
        Money.of(1.0, "CNY")  # type: ignore[arg-type]
    assert caught.value.code == "money.float_refused"


def test_amounts_up_to_the_limit_are_accepted_and_beyond_are_refused() -> None:
    """|minor| may be MAX_TRANSFER_AMOUNT * 1000 and not one unit more."""
    assert MAX_MONEY_MINOR == MAX_TRANSFER_AMOUNT * 1000
    assert Money(MAX_MONEY_MINOR, CNY).minor == MAX_MONEY_MINOR
    assert Money(-MAX_MONEY_MINOR, CNY).minor == -MAX_MONEY_MINOR
    for minor in (MAX_MONEY_MINOR + 1, -MAX_MONEY_MINOR - 1, 2**63):
        with pytest.raises(MoneyLimitError) as caught:
            Money(minor, CNY)
        assert caught.value.code == "money.out_of_range"


def test_out_of_range_is_both_a_money_error_and_a_limit_exceeded() -> None:
    """Callers may catch it as MoneyError or as the platform's LimitExceeded."""
    with pytest.raises(LimitExceeded):
        Money(MAX_MONEY_MINOR + 1, CNY)
    with pytest.raises(MoneyError):
        Money(MAX_MONEY_MINOR + 1, CNY)


def test_arithmetic_that_leaves_the_range_is_refused() -> None:
    """Sums are checked like any other amount."""
    with pytest.raises(MoneyError) as caught:
        _ = Money(MAX_MONEY_MINOR, CNY) + Money(1, CNY)
    assert caught.value.code == "money.out_of_range"


def test_currency_must_be_a_currency_object() -> None:
    """Money(1, "CNY") points the caller at Money.of instead of guessing."""
    with pytest.raises(MoneyError) as caught:
        Money(1, "CNY")  # type: ignore[arg-type]
    assert caught.value.code == "money.invalid_currency"
    assert "Money.of" in caught.value.message


def test_of_and_zero_look_up_the_code() -> None:
    """Money.of and Money.zero accept a code or a Currency."""
    assert Money.of(1234, "CNY") == Money(1234, CNY)
    assert Money.of(1234, CNY) == Money(1234, CNY)
    assert Money.zero("JPY") == Money(0, JPY)
    assert Money.zero("JPY").is_zero()


def test_of_with_unknown_code_is_refused() -> None:
    """Money.of does not invent currencies."""
    with pytest.raises(MoneyError) as caught:
        Money.of(1, "cny")
    assert caught.value.code == "money.unknown_currency"


def test_money_is_immutable_and_slotted() -> None:
    """Amounts cannot be changed after creation and carry no per-instance dict."""
    money = Money(1, CNY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.minor = 2  # type: ignore[misc]
    assert not hasattr(money, "__dict__")


def test_money_is_hashable_and_equal_by_value() -> None:
    """Equal amounts hash alike, so Money works as a dict key."""
    assert {Money(1, CNY), Money.of(1, "CNY")} == {Money(1, CNY)}


# --- arithmetic and comparison ----------------------------------------------------------------


def test_addition_and_subtraction_in_one_currency_are_exact() -> None:
    """0.10 + 0.20 is exactly 0.30, unlike with floats."""
    assert cny("0.10") + cny("0.20") == cny("0.30")
    assert cny("0.30") - cny("0.20") == cny("0.10")
    assert cny("0.10") - cny("0.20") == cny("-0.10")


def test_unary_minus_negates() -> None:
    """-x flips the sign and keeps the currency."""
    assert -cny("1.50") == cny("-1.50")
    negated = -cny("1.50")
    assert -negated == cny("1.50")


@pytest.mark.parametrize(
    "operation",
    [
        lambda left, right: left + right,
        lambda left, right: left - right,
        lambda left, right: left < right,
        lambda left, right: left <= right,
        lambda left, right: left > right,
        lambda left, right: left >= right,
    ],
)
def test_mixed_currencies_are_refused_with_a_stable_code(operation: object) -> None:
    """CNY and USD are never added, subtracted or ordered implicitly."""
    with pytest.raises(MoneyError) as caught:
        operation(cny("1.00"), Money(100, USD))  # type: ignore[operator]
    assert caught.value.code == "money.currency_mismatch"
    assert "CNY" in caught.value.message
    assert "USD" in caught.value.message
    assert caught.value.details == {"left_currency": "CNY", "right_currency": "USD"}


def test_equality_across_currencies_is_false_not_an_error() -> None:
    """== stays safe for sets and dicts: 1.00 CNY is simply not 1.00 USD."""
    assert cny("1.00") != Money(100, USD)


def test_comparisons_in_one_currency_order_by_amount() -> None:
    """Ordering works and sorts as expected."""
    small, large = cny("0.99"), cny("1.00")
    assert small < large
    assert small <= large
    assert large > small
    assert large >= small
    assert small <= cny("0.99")
    assert sorted([large, small]) == [small, large]


def test_adding_a_plain_number_is_a_type_error() -> None:
    """Money + 1 is meaningless and is left to Python to refuse."""
    with pytest.raises(TypeError):
        _ = cny("1.00") + 1  # type: ignore[operator]


def test_comparing_with_a_plain_number_is_a_type_error() -> None:
    """Money < 1 is meaningless and is left to Python to refuse."""
    with pytest.raises(TypeError):
        _ = cny("1.00") < 1  # type: ignore[operator]


def test_sign_predicates() -> None:
    """is_zero, is_positive and is_negative look only at the sign."""
    assert cny("0.00").is_zero()
    assert not cny("0.01").is_zero()
    assert cny("0.01").is_positive()
    assert not cny("0.00").is_positive()
    assert cny("-0.01").is_negative()
    assert not cny("0.00").is_negative()


def test_multiplying_by_an_int_is_exact() -> None:
    """Whole-number multiples are allowed from either side."""
    assert cny("1.25") * 3 == cny("3.75")
    assert 3 * cny("1.25") == cny("3.75")


@pytest.mark.parametrize("factor", [1.5, 2.0, 0.0])
def test_multiplying_by_a_float_is_refused(factor: float) -> None:
    """Money * float is refused from either side, even for whole-looking floats."""
    with pytest.raises(MoneyError) as caught:
        _ = cny("1.00") * factor  # type: ignore[operator]
    assert caught.value.code == "money.float_refused"
    with pytest.raises(MoneyError) as caught:
        _ = factor * cny("1.00")  # type: ignore[operator]
    assert caught.value.code == "money.float_refused"


@pytest.mark.parametrize("factor", [Decimal("1.5"), True, "2"])
def test_multiplying_by_non_int_is_refused(factor: object) -> None:
    """Decimal factors go through fee() or convert(), which say how they round."""
    with pytest.raises(MoneyError) as caught:
        _ = cny("1.00") * factor  # type: ignore[operator]
    assert caught.value.code == "money.not_integer"


# --- parsing and formatting -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("12.34", 1234),
        ("12", 1200),
        ("12.3", 1230),
        ("-0.50", -50),
        ("0.01", 1),
        ("0", 0),
        ("-0", 0),
        ("007.5", 750),
        ("10000000000000.00", MAX_MONEY_MINOR),
    ],
)
def test_parse_reads_major_units_into_minor_units(text: str, minor: int) -> None:
    """Decimal text is shifted into fen without rounding."""
    assert Money.parse(text, "CNY") == Money(minor, CNY)


@pytest.mark.parametrize(
    ("text", "code", "minor"),
    [("1234", "JPY", 1234), ("-5", "KRW", -5), ("1.234", "BHD", 1234), ("0.5", "KWD", 500)],
)
def test_parse_respects_each_currency_exponent(text: str, code: str, minor: int) -> None:
    """JPY has no decimals and BHD has three."""
    assert Money.parse(text, code).minor == minor


@pytest.mark.parametrize(
    ("text", "code"), [("12.345", "CNY"), ("12.340", "CNY"), ("1.5", "JPY"), ("0.0001", "BHD")]
)
def test_too_many_decimals_are_refused_not_rounded(text: str, code: str) -> None:
    """Parsing never rounds, even when the extra digits are zeros."""
    with pytest.raises(MoneyError) as caught:
        Money.parse(text, code)
    assert caught.value.code == "money.too_precise"


@pytest.mark.parametrize(
    "text",
    [
        "1e3",
        "1E3",
        "",
        " ",
        " 12",
        "12 ",
        "12\n",
        "12.34.5",
        "abc",
        "+",
        "+5",
        "-",
        "1,000",
        "12.",
        ".5",
        "NaN",
        "Infinity",
        "\uff11\uff12",  # fullwidth digits: "\d" would accept them
        "1_000",
        "--1",
        "9" * 65,
    ],
)
def test_malformed_amount_text_is_refused(text: str) -> None:
    """Only an optional '-', ASCII digits and one optional decimal part are accepted."""
    with pytest.raises(MoneyError) as caught:
        Money.parse(text, "CNY")
    assert caught.value.code == "money.invalid_format"


def test_parse_refuses_a_float() -> None:
    """Money.parse(12.34, ...) is refused: the float is already inexact."""
    with pytest.raises(MoneyError) as caught:
        Money.parse(12.34, "CNY")  # type: ignore[arg-type]
    assert caught.value.code == "money.float_refused"


@pytest.mark.parametrize("value", [1234, Decimal("12.34"), None])
def test_parse_refuses_non_text(value: object) -> None:
    """Only text is parsed; ints belong in Money.of."""
    with pytest.raises(MoneyError) as caught:
        Money.parse(value, "CNY")  # type: ignore[arg-type]
    assert caught.value.code == "money.invalid_format"


def test_parse_beyond_the_range_is_refused() -> None:
    """Well-formed but enormous text is out of range, not silently truncated."""
    with pytest.raises(MoneyError) as caught:
        Money.parse("10000000000000.01", "CNY")
    assert caught.value.code == "money.out_of_range"


@pytest.mark.parametrize(
    ("minor", "code", "text"),
    [
        (1234, "CNY", "12.34"),
        (5, "CNY", "0.05"),
        (-50, "CNY", "-0.50"),
        (-1, "CNY", "-0.01"),
        (0, "CNY", "0.00"),
        (1234, "JPY", "1234"),
        (-7, "JPY", "-7"),
        (1234, "BHD", "1.234"),
        (-5, "BHD", "-0.005"),
    ],
)
def test_format_writes_exactly_exponent_decimals(minor: int, code: str, text: str) -> None:
    """format() and str() agree and always show the currency's number of decimals."""
    money = Money.of(minor, code)
    assert money.format() == text
    assert str(money) == text
    assert Money.parse(text, code) == money


def test_display_adds_the_currency_code() -> None:
    """display() is for people: amount then code."""
    assert cny("12.34").display() == "12.34 CNY"
    assert Money.of(1234, "JPY").display() == "1234 JPY"
    assert repr(cny("12.34")) == "<Money 12.34 CNY>"


@pytest.mark.parametrize(
    ("minor", "code", "expected"),
    [(1234, "CNY", "12.34"), (-50, "CNY", "-0.50"), (1234, "JPY", "1234"), (1, "BHD", "0.001")],
)
def test_to_decimal_is_exact(minor: int, code: str, expected: str) -> None:
    """to_decimal() gives the exact major-unit value."""
    value = Money.of(minor, code).to_decimal()
    assert isinstance(value, Decimal)
    assert value == Decimal(expected)


@given(
    minor=st.integers(min_value=-MAX_MONEY_MINOR, max_value=MAX_MONEY_MINOR),
    code=st.sampled_from(sorted(CURRENCIES)),
)
def test_parse_and_format_round_trip_for_every_amount(minor: int, code: str) -> None:
    """parse(format(x)) == x for any amount in range and any known currency."""
    money = Money.of(minor, code)
    assert Money.parse(money.format(), code) == money
    assert Money.of(minor, code).to_decimal() == Decimal(minor).scaleb(-CURRENCIES[code].exponent)


# --- splitting --------------------------------------------------------------------------------


def test_split_gives_the_remainder_to_the_first_parts() -> None:
    """1.00 CNY in 3 parts is 0.34, 0.33, 0.33."""
    assert cny("1.00").split(3) == [cny("0.34"), cny("0.33"), cny("0.33")]


def test_split_with_remainder_two() -> None:
    """0.05 CNY in 3 parts: 5 = 3*1 + 2, so the first two parts get 2 fen."""
    assert [part.minor for part in cny("0.05").split(3)] == [2, 2, 1]


def test_split_smaller_than_parts_gives_zeros_at_the_end() -> None:
    """0.02 CNY in 5 parts: two parts of 1 fen, then zeros."""
    assert [part.minor for part in cny("0.02").split(5)] == [1, 1, 0, 0, 0]


def test_split_into_one_part_is_the_amount_itself() -> None:
    """A single part carries the whole amount, even the largest one."""
    assert Money(MAX_MONEY_MINOR, CNY).split(1) == [Money(MAX_MONEY_MINOR, CNY)]


def test_split_of_zero_gives_zero_parts() -> None:
    """Zero splits into zeros."""
    assert cny("0").split(4) == [Money.zero("CNY")] * 4


def test_split_keeps_the_currency() -> None:
    """Each part is in the original currency."""
    assert all(part.currency == JPY for part in Money.of(10, "JPY").split(3))


def test_split_of_a_negative_amount_is_refused() -> None:
    """Splitting shares money to be paid; a debt is never split."""
    with pytest.raises(MoneyError) as caught:
        cny("-1.00").split(2)
    assert caught.value.code == "money.negative_split"


@pytest.mark.parametrize("parts", [0, -1, True, 2.0, "3", None])
def test_split_needs_a_positive_int_number_of_parts(parts: object) -> None:
    """Zero, negative and non-int part counts are refused."""
    with pytest.raises(MoneyError) as caught:
        cny("1.00").split(parts)  # type: ignore[arg-type]
    assert caught.value.code == "money.invalid_split_parts"


def test_split_into_too_many_parts_is_a_limit_error() -> None:
    """MAX_SPLIT_PARTS is allowed, one more is LimitExceeded."""
    assert len(cny("1.00").split(MAX_SPLIT_PARTS)) == MAX_SPLIT_PARTS
    with pytest.raises(LimitExceeded) as caught:
        cny("1.00").split(MAX_SPLIT_PARTS + 1)
    assert caught.value.code == "money.too_many_parts"
    assert isinstance(caught.value, MoneyError)


@given(
    minor=st.integers(min_value=0, max_value=MAX_TRANSFER_AMOUNT),
    parts=st.integers(min_value=1, max_value=200),
)
def test_split_property_sum_exact_spread_at_most_one_non_increasing(minor: int, parts: int) -> None:
    """For any amount and part count: exact sum, parts within one fen, never increasing."""
    shares = [part.minor for part in Money(minor, CNY).split(parts)]
    assert len(shares) == parts
    assert sum(shares) == minor
    assert max(shares) - min(shares) <= 1
    assert all(left >= right for left, right in itertools.pairwise(shares))
    # The remainder rule itself: exactly (minor mod parts) parts carry the extra unit.
    assert shares.count(minor // parts + 1) == minor % parts


# --- fees -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rate", "fee"),
    [
        ("12.34", "0.001", "0.01"),  # 1.234 fen -> 1 fen
        ("15.00", "0.001", "0.02"),  # 1.5 fen -> 2 fen: the half goes up
        ("14.99", "0.001", "0.01"),  # 1.499 fen -> 1 fen
        ("25.00", "0.001", "0.03"),  # 2.5 fen -> 3 fen: half up, not half even
        ("0.05", "0.1", "0.01"),  # 0.5 fen -> 1 fen
        ("0.04", "0.1", "0.00"),  # 0.4 fen -> 0 fen
        ("100.00", "0.006", "0.60"),  # exact, no rounding needed
        ("12.34", "0", "0.00"),
        ("12.34", "1", "12.34"),
        ("-15.00", "0.001", "-0.02"),  # halves move away from zero on refunds too
    ],
)
def test_fee_rounds_half_up_to_the_minor_unit(amount: str, rate: str, fee: str) -> None:
    """The documented rule: exact product, then ROUND_HALF_UP (四舍五入) to one fen."""
    assert cny(amount).fee(rate) == cny(fee)
    assert cny(amount).fee(Decimal(rate)) == cny(fee)


def test_fee_keeps_the_currency_and_its_exponent() -> None:
    """Fees on JPY round to whole yen and fees on BHD to whole fils."""
    assert Money.of(1500, "JPY").fee("0.001") == Money.of(2, "JPY")
    assert Money.of(1500, "BHD").fee("0.001") == Money.of(2, "BHD")


def test_fee_is_exact_on_the_largest_amount_with_a_long_rate() -> None:
    """No intermediate rounding: 28-digit Decimal contexts would lose digits here."""
    amount = Money(MAX_MONEY_MINOR - 1, CNY)
    rate = Decimal("0.123456789012")
    expected = (Decimal(MAX_MONEY_MINOR - 1) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert amount.fee(rate).minor == int(expected)


def test_fee_rate_as_float_is_refused() -> None:
    """fee(0.001) is refused: 0.001 is not exactly representable as a float."""
    with pytest.raises(MoneyError) as caught:
        cny("12.34").fee(0.001)  # type: ignore[arg-type]
    assert caught.value.code == "money.float_refused"


@pytest.mark.parametrize("rate", ["-0.001", "1.0001", "2", Decimal("-0.5"), Decimal("1.5")])
def test_fee_rate_outside_zero_to_one_is_refused(rate: str | Decimal) -> None:
    """A fee is a fraction of the amount, never negative and never more than all of it."""
    with pytest.raises(MoneyError) as caught:
        cny("12.34").fee(rate)
    assert caught.value.code == "money.rate_out_of_range"


@pytest.mark.parametrize(
    "rate",
    ["", " 0.1", "1e-3", "0.1%", "abc", ".1", "1.", Decimal("NaN"), Decimal("Infinity"), 1, None],
)
def test_malformed_fee_rate_is_refused(rate: object) -> None:
    """Rates are finite Decimals or plain decimal text."""
    with pytest.raises(MoneyError) as caught:
        cny("12.34").fee(rate)  # type: ignore[arg-type]
    assert caught.value.code == "money.invalid_rate"


def test_fee_rate_with_too_many_decimals_is_refused() -> None:
    """A float printed in full is caught by the decimal-places limit."""
    with pytest.raises(MoneyError) as caught:
        cny("12.34").fee("0.1000000000000000055511151231257827021181583404541015625")
    assert caught.value.code == "money.rate_too_precise"


def test_trailing_zeros_in_a_rate_do_not_count_as_precision() -> None:
    """0.1 written with twenty zeros is still 0.1."""
    assert cny("12.34").fee("0.1" + "0" * 20) == cny("1.23")


# --- exchange ---------------------------------------------------------------------------------


def test_conversion_records_rate_rounding_and_residue() -> None:
    """12.34 CNY at 20.5 JPY/CNY is exactly 252.97 yen, paid as 253 with residue +0.03."""
    conversion = convert(cny("12.34"), "20.5", "JPY")
    assert isinstance(conversion, FxConversion)
    assert conversion.source == cny("12.34")
    assert conversion.target == Money.of(253, "JPY")
    assert conversion.rate == Decimal("20.5")
    assert isinstance(conversion.rate, Decimal)
    assert conversion.rounding == "ROUND_HALF_UP"
    assert conversion.unrounded_target_minor == Decimal("252.97")
    assert conversion.rounding_residue_minor == Decimal("0.03")


def test_conversion_from_zero_exponent_into_two_decimals() -> None:
    """1000 JPY at 0.048 CNY/JPY is exactly 48.00 CNY (4800 fen)."""
    conversion = convert(Money.of(1000, "JPY"), Decimal("0.048"), CNY)
    assert conversion.target == cny("48.00")
    assert conversion.unrounded_target_minor == Decimal(4800)
    assert conversion.rounding_residue_minor == 0


def test_conversion_into_three_decimals() -> None:
    """1.00 USD at 0.376 BHD/USD is 0.376 BHD = 376 fils."""
    conversion = convert(Money.of(100, "USD"), "0.376", "BHD")
    assert conversion.target == Money.of(376, "BHD")
    assert conversion.rounding_residue_minor == 0


def test_conversion_residue_is_negative_when_rounding_removes() -> None:
    """1.00 USD at 7.12344 CNY/USD is 712.344 fen, paid as 712 fen, residue -0.344."""
    conversion = convert(Money.of(100, "USD"), "7.12344", "CNY")
    assert conversion.target == cny("7.12")
    assert conversion.unrounded_target_minor == Decimal("712.344")
    assert conversion.rounding_residue_minor == Decimal("-0.344")
    assert conversion.target.minor - conversion.rounding_residue_minor == Decimal("712.344")


@pytest.mark.parametrize(
    ("rounding", "minor"),
    [
        (ROUND_HALF_UP, 713),
        (ROUND_HALF_EVEN, 712),
        (ROUND_DOWN, 712),
        (ROUND_UP, 713),
        (ROUND_FLOOR, 712),
    ],
)
def test_conversion_uses_the_requested_rounding_mode(rounding: str, minor: int) -> None:
    """712.5 fen rounds according to the mode, and the mode is recorded."""
    conversion = convert(Money.of(100, "USD"), "7.125", "CNY", rounding=rounding)
    assert conversion.target.minor == minor
    assert conversion.rounding == rounding
    assert conversion.unrounded_target_minor + conversion.rounding_residue_minor == minor


def test_conversion_of_a_negative_amount_rounds_half_away_from_zero() -> None:
    """A refund of -1.00 USD at 7.125 is -712.5 fen, paid as -713 fen."""
    assert convert(Money.of(-100, "USD"), "7.125", "CNY").target == cny("-7.13")


def test_conversion_into_the_same_currency_at_rate_one_is_identity() -> None:
    """Same-currency conversion at rate 1 changes nothing."""
    conversion = convert(cny("12.34"), "1.000", "CNY")
    assert conversion.target == cny("12.34")
    assert conversion.rounding_residue_minor == 0


def test_conversion_into_the_same_currency_at_another_rate_is_refused() -> None:
    """CNY to CNY at 1.1 would create money from nothing."""
    with pytest.raises(MoneyError) as caught:
        convert(cny("12.34"), "1.1", "CNY")
    assert caught.value.code == "money.same_currency_rate"


def test_conversion_rate_as_float_is_refused() -> None:
    """convert(..., 7.1, ...) is refused."""
    with pytest.raises(MoneyError) as caught:
        convert(Money.of(100, "USD"), 7.1, "CNY")  # type: ignore[arg-type]
    assert caught.value.code == "money.float_refused"


@pytest.mark.parametrize("rate", ["0", "-7.1", Decimal(0), "1000000.01"])
def test_conversion_rate_must_be_positive_and_bounded(rate: str | Decimal) -> None:
    """Zero, negative and absurdly large rates are refused."""
    with pytest.raises(MoneyError) as caught:
        convert(Money.of(100, "USD"), rate, "CNY")
    assert caught.value.code == "money.rate_out_of_range"


def test_conversion_rate_with_too_many_decimals_is_refused() -> None:
    """At most 12 decimal places are accepted in a rate."""
    assert convert(Money.of(100, "USD"), "7.123456789012", "CNY").target == cny("7.12")
    with pytest.raises(MoneyError) as caught:
        convert(Money.of(100, "USD"), "7.1234567890123", "CNY")
    assert caught.value.code == "money.rate_too_precise"


def test_conversion_with_unknown_rounding_mode_is_refused() -> None:
    """Only the decimal module's rounding modes are accepted."""
    with pytest.raises(MoneyError) as caught:
        convert(Money.of(100, "USD"), "7.1", "CNY", rounding="ROUND_BANKERS")
    assert caught.value.code == "money.invalid_rounding"


def test_conversion_into_an_unknown_currency_is_refused() -> None:
    """The target code is looked up like any other."""
    with pytest.raises(MoneyError) as caught:
        convert(Money.of(100, "USD"), "7.1", "XXX")
    assert caught.value.code == "money.unknown_currency"


def test_conversion_of_something_other_than_money_is_refused() -> None:
    """A bare number cannot be converted: it has no currency."""
    with pytest.raises(MoneyError) as caught:
        convert(100, "7.1", "CNY")  # type: ignore[arg-type]
    assert caught.value.code == "money.not_money"


def test_conversion_result_beyond_the_range_is_refused() -> None:
    """A huge amount at a huge rate is out of range rather than wrapped."""
    with pytest.raises(MoneyError) as caught:
        convert(Money(MAX_MONEY_MINOR, USD), "1000", "JPY")
    assert caught.value.code == "money.out_of_range"


def test_conversion_explains_itself() -> None:
    """explain() names the amounts, the rate, the mode and the residue."""
    text = convert(cny("12.34"), "20.5", "JPY").explain()
    for fragment in ("12.34 CNY", "20.5", "253 JPY", "ROUND_HALF_UP", "residue"):
        assert fragment in text


@given(
    minor=st.integers(min_value=-MAX_TRANSFER_AMOUNT, max_value=MAX_TRANSFER_AMOUNT),
    rate=st.decimals(
        min_value=Decimal("0.000001"), max_value=Decimal(1000), places=6, allow_nan=False
    ),
    source=st.sampled_from(["CNY", "JPY", "BHD"]),
    target=st.sampled_from(["USD", "KRW", "KWD"]),
)
def test_conversion_residue_property(minor: int, rate: Decimal, source: str, target: str) -> None:
    """target = unrounded + residue exactly, and |residue| < 1 minor unit, for any input.

    Results beyond the largest amount Money holds are refused rather than converted.
    """
    exact = (Decimal(minor).scaleb(-currency(source).exponent) * rate).scaleb(
        currency(target).exponent
    )
    if abs(exact) > MAX_MONEY_MINOR:
        with pytest.raises(MoneyLimitError) as refused:
            convert(Money.of(minor, source), rate, target)
        assert refused.value.code == "money.out_of_range"
        return
    conversion = convert(Money.of(minor, source), rate, target)
    assert (
        conversion.unrounded_target_minor + conversion.rounding_residue_minor
        == conversion.target.minor
    )
    assert abs(conversion.rounding_residue_minor) < 1


# --- errors -----------------------------------------------------------------------------------


def test_money_error_fits_the_platform_error_shape() -> None:
    """MoneyError is an InvalidInput with a default code and a readable str."""
    error = MoneyError("something is off")
    assert isinstance(error, InvalidInput)
    assert isinstance(error, HongbaoError)
    assert error.code == "money.invalid"
    assert str(error) == "[money.invalid] something is off"


def test_errors_carry_details_for_explanation() -> None:
    """A too-precise error names the text and the currency."""
    with pytest.raises(MoneyError) as caught:
        Money.parse("12.345", "CNY")
    assert caught.value.details == {"text": "12.345", "currency": "CNY"}
    assert str(caught.value).startswith("[money.too_precise] ")
