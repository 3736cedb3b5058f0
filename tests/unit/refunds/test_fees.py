"""The credit-card refund fee: 0.1 % rounded half up to a fen, exact, with the rate as data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hongbao.money import MAX_MONEY_MINOR, Money, MoneyError
from hongbao.platform.errors import InvalidInput
from hongbao.refunds.fees import CREDIT_CARD_REFUND_FEE_RATE, net_of_fee, refund_fee


def cny(text: str) -> Money:
    """An amount in yuan, parsed exactly from text."""
    return Money.parse(text, "CNY")


def round_half_up_ratio(numerator: int, denominator: int) -> int:
    """round_half_up(numerator / denominator) for numerator >= 0, in integers only."""
    return (2 * numerator + denominator) // (2 * denominator)


def rate_text(numerator: int, places: int) -> str:
    """numerator / 10**places written as plain decimal text, e.g. (15, 3) -> '0.015'."""
    if places == 0:
        return str(numerator)
    whole, fraction = divmod(numerator, 10**places)
    return f"{whole}.{fraction:0{places}d}"


def test_the_default_rate_is_one_tenth_of_a_percent_as_exact_text() -> None:
    """The fund-return table's 0.1 % is kept as decimal text, never as a float."""
    assert CREDIT_CARD_REFUND_FEE_RATE == "0.001"
    assert Decimal(CREDIT_CARD_REFUND_FEE_RATE) == Decimal(1) / Decimal(1000)


@pytest.mark.parametrize(
    ("amount", "fee"),
    [
        ("0.01", "0.00"),  # 0.001 fen
        ("0.99", "0.00"),
        ("4.98", "0.00"),
        ("4.99", "0.00"),  # 0.499 fen
        ("5.00", "0.01"),  # 0.5 fen: the half goes up
        ("5.01", "0.01"),
        ("14.98", "0.01"),
        ("14.99", "0.01"),  # 1.499 fen
        ("15.00", "0.02"),  # 1.5 fen
        ("15.01", "0.02"),
        ("24.99", "0.02"),
        ("25.00", "0.03"),
        ("100.00", "0.10"),
        ("12.34", "0.01"),
        ("200000.00", "200.00"),
    ],
)
def test_the_fee_rounds_half_up_at_each_0_01_yuan_boundary(amount: str, fee: str) -> None:
    """Around every half fen the fee steps up exactly at x5.00 yuan, not a fen earlier."""
    assert refund_fee(cny(amount)) == cny(fee)


def test_net_of_fee_splits_the_refund_into_what_reaches_the_card_and_the_fee() -> None:
    """15.00 yuan refunded to a credit card: 14.98 reach the card, 0.02 is the fee."""
    assert net_of_fee(cny("15.00")) == (cny("14.98"), cny("0.02"))
    assert net_of_fee(cny("0.01")) == (cny("0.01"), cny("0.00"))


@pytest.mark.parametrize(
    ("rate", "amount", "fee"),
    [
        ("0.006", "100.00", "0.60"),
        (Decimal("0.001"), "15.00", "0.02"),
        ("0.0015", "10.00", "0.02"),  # 1.5 fen -> 2
        ("0", "99.99", "0.00"),
        ("1", "99.99", "99.99"),
    ],
)
def test_a_policy_can_supply_its_own_rate_as_decimal_data(
    rate: str | Decimal, amount: str, fee: str
) -> None:
    """The rate is data: decimal text or Decimal, 0 to 1, with the same rounding rule."""
    assert refund_fee(cny(amount), rate) == cny(fee)


def test_the_fee_rounds_to_a_whole_minor_unit_of_the_amount_currency() -> None:
    """1500 yen at 0.1 % is 1.5 yen, charged as 2 yen: the minor unit follows the currency."""
    assert refund_fee(Money.of(1500, "JPY")) == Money.of(2, "JPY")


@pytest.mark.parametrize(
    ("rate", "code"),
    [
        (0.001, "money.float_refused"),
        ("1.5", "money.rate_out_of_range"),
        ("-0.001", "money.rate_out_of_range"),
        ("0.1%", "money.invalid_rate"),
        ("1e-3", "money.invalid_rate"),
    ],
)
def test_floats_and_rates_outside_zero_to_one_are_refused(rate: object, code: str) -> None:
    """A float rate or one that is not a fraction from 0 to 1 is refused with a money code."""
    with pytest.raises(MoneyError) as raised:
        refund_fee(cny("15.00"), rate)  # type: ignore[arg-type]
    assert raised.value.code == code


@pytest.mark.parametrize("amount", ["0.00", "-15.00"])
def test_a_zero_or_negative_refund_is_refused(amount: str) -> None:
    """Only a positive refunded amount has a fee."""
    with pytest.raises(InvalidInput) as raised:
        net_of_fee(cny(amount))
    assert raised.value.code == "refunds.amount_not_positive"


def test_a_fee_is_only_taken_on_money() -> None:
    """A bare int of fen is refused: the currency decides the minor unit."""
    with pytest.raises(InvalidInput) as raised:
        refund_fee(1500)  # type: ignore[arg-type]
    assert raised.value.code == "refunds.not_money"


@given(st.integers(1, MAX_MONEY_MINOR))
def test_fee_plus_net_is_the_amount_and_the_fee_is_the_exact_half_up_tenth_of_a_percent(
    fen: int,
) -> None:
    """Property: fee == round_half_up(fen * 1 / 1000) in integers, and net + fee == amount."""
    amount = Money.of(fen, "CNY")
    net, fee = net_of_fee(amount)
    assert fee.minor == round_half_up_ratio(fen, 1000)
    assert net + fee == amount
    assert net.currency == fee.currency == amount.currency
    assert 0 <= fee.minor <= fen


@given(
    fen=st.integers(1, MAX_MONEY_MINOR),
    places=st.integers(0, 6),
    data=st.data(),
)
def test_any_supplied_rate_rounds_half_up_exactly(
    fen: int, places: int, data: st.DataObject
) -> None:
    """Property: for rate n / 10**k the fee is round_half_up(fen * n / 10**k), computed in ints."""
    numerator = data.draw(st.integers(0, 10**places), label="numerator")
    net, fee = net_of_fee(Money.of(fen, "CNY"), rate_text(numerator, places))
    assert fee.minor == round_half_up_ratio(fen * numerator, 10**places)
    assert net.minor + fee.minor == fen
