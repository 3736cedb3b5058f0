"""Funding sources: card checks and masking, schedules in Shanghai time, and ledger accounts."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hongbao.funding.sources import (
    BalanceSource,
    CreditCardSource,
    DebitCardSource,
    ForeignCardSource,
    FundingKind,
    FundingSource,
    LedgerAccountRef,
    MaintenanceWindow,
    MoneyMarketSource,
    TimeOfDay,
    is_luhn_valid,
    ledger_account_for,
    mask_card_number,
)
from hongbao.identity.users import IdentityError
from hongbao.ledger.model import AccountKind, NewAccount
from hongbao.platform.clock import from_datetime

SHANGHAI = ZoneInfo("Asia/Shanghai")
VISA_TEST_NUMBER = "4111111111111111"
MASKED_VISA = "**** **** **** 1111"


def shanghai_us(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """A wall-clock moment in Asia/Shanghai, as microseconds since the epoch."""
    return from_datetime(datetime(year, month, day, hour, minute, tzinfo=SHANGHAI))


def fullwidth(digits: str) -> str:
    """The same digits in their fullwidth forms, which look like digits but are not ASCII."""
    return "".join(chr(0xFF10 + int(digit)) for digit in digits)


def debit_card(*windows: MaintenanceWindow) -> DebitCardSource:
    return DebitCardSource("card-debit", "alice", "ICBC", MASKED_VISA, tuple(windows))


def window(start: str, end: str, weekday: int | None = None) -> MaintenanceWindow:
    return MaintenanceWindow(TimeOfDay.parse(start), TimeOfDay.parse(end), weekday)


# --- card numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        VISA_TEST_NUMBER,
        "5555555555554444",
        "378282246310005",
        "30569309025904",
        "6212345678901232",
        "123456789031",  # 12 digits, the shortest accepted
        "6222021234567890128",  # 19 digits, the longest accepted
    ],
)
def test_valid_card_numbers_pass_the_luhn_check_and_are_masked(number: str) -> None:
    assert is_luhn_valid(number)
    assert mask_card_number(number) == f"**** **** **** {number[-4:]}"


@given(
    st.text(alphabet="0123456789", min_size=12, max_size=19),
    st.data(),
)
def test_the_luhn_check_catches_every_single_digit_mistake(
    digits: str, data: st.DataObject
) -> None:
    check_digit = next(d for d in "0123456789" if is_luhn_valid(digits[:-1] + d))
    number = digits[:-1] + check_digit
    position = data.draw(st.integers(min_value=0, max_value=len(number) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    mistyped = number[:position] + wrong + number[position + 1 :]
    assert is_luhn_valid(number)
    assert not is_luhn_valid(mistyped)


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("4111111111111112", "checksum"),
        ("4111 1111 1111 1111", "format"),
        ("4111-1111-1111-1111", "format"),
        ("41111111111", "format"),  # 11 digits
        ("41111111111111111111", "format"),  # 20 digits
        (fullwidth(VISA_TEST_NUMBER), "format"),
        ("", "format"),
        (4111111111111111, "format"),
    ],
)
def test_an_invalid_card_number_is_refused_without_repeating_it(
    number: object, problem: str
) -> None:
    with pytest.raises(IdentityError) as refused:
        mask_card_number(number)  # type: ignore[arg-type]
    assert refused.value.code == "identity.card_invalid"
    assert refused.value.details == {"problem": problem}
    if number:
        assert str(number) not in str(refused.value)
        assert str(number)[4:] not in refused.value.message


def test_a_card_source_never_holds_the_full_number() -> None:
    sources: list[FundingSource] = [
        DebitCardSource("d", "alice", "ICBC", mask_card_number(VISA_TEST_NUMBER)),
        CreditCardSource("c", "alice", "CMB", mask_card_number(VISA_TEST_NUMBER), 5),
        ForeignCardSource("f", "alice", "USD", mask_card_number(VISA_TEST_NUMBER)),
    ]
    for source in sources:
        assert VISA_TEST_NUMBER not in repr(source)
        for field in dataclasses.fields(source):
            assert VISA_TEST_NUMBER not in str(getattr(source, field.name))


@pytest.mark.parametrize(
    "masked", [VISA_TEST_NUMBER, "411111******1111", "**** **** **** 111", "****1111", None]
)
def test_a_card_source_refuses_anything_but_the_masked_form_without_echoing_it(
    masked: object,
) -> None:
    with pytest.raises(IdentityError) as refused:
        DebitCardSource("d", "alice", "ICBC", masked)  # type: ignore[arg-type]
    assert refused.value.code == "identity.card_not_masked"
    assert VISA_TEST_NUMBER not in str(refused.value)
    assert VISA_TEST_NUMBER not in repr(refused.value.details)


# --- time of day ------------------------------------------------------------------------------


def test_a_time_of_day_reads_and_prints_as_hours_and_minutes() -> None:
    assert TimeOfDay.parse("09:05") == TimeOfDay(9, 5)
    assert str(TimeOfDay(23, 0)) == "23:00"


@pytest.mark.parametrize("text", ["24:00", "9:05", "09:60", "0905", "", " 09:05"])
def test_malformed_times_of_day_are_refused(text: str) -> None:
    with pytest.raises(IdentityError) as refused:
        TimeOfDay.parse(text)
    assert refused.value.code == "identity.time_of_day_invalid"


@pytest.mark.parametrize(("hour", "minute"), [(-1, 0), (24, 0), (0, 60), (1.0, 0), (True, 0)])
def test_times_of_day_out_of_range_are_refused(hour: object, minute: object) -> None:
    with pytest.raises(IdentityError) as refused:
        TimeOfDay(hour, minute)  # type: ignore[arg-type]
    assert refused.value.code == "identity.time_of_day_invalid"


# --- money market confirmations ---------------------------------------------------------------


def money_market() -> MoneyMarketSource:
    return MoneyMarketSource("mm", "alice", (TimeOfDay(9, 0), TimeOfDay(15, 0)))


def test_the_next_confirmation_is_the_next_scheduled_time_today() -> None:
    source = money_market()
    assert source.next_confirmation_us(shanghai_us(2026, 3, 1, 8, 59)) == shanghai_us(2026, 3, 1, 9)
    assert source.next_confirmation_us(shanghai_us(2026, 3, 1, 9, 1)) == shanghai_us(2026, 3, 1, 15)


def test_a_confirmation_at_this_very_moment_has_passed() -> None:
    source = money_market()
    at_nine = shanghai_us(2026, 3, 1, 9)
    assert source.next_confirmation_us(at_nine - 1) == at_nine
    assert source.next_confirmation_us(at_nine) == shanghai_us(2026, 3, 1, 15)


def test_after_the_last_confirmation_the_next_is_tomorrow_morning_even_across_a_year() -> None:
    source = money_market()
    assert source.next_confirmation_us(shanghai_us(2026, 12, 31, 15)) == shanghai_us(2027, 1, 1, 9)


def test_confirmation_times_are_shanghai_wall_clock_times() -> None:
    # 01:00 UTC is 09:00 in Shanghai, the first confirmation of that local day.
    utc_one_am = from_datetime(datetime(2026, 3, 1, 1, 0, tzinfo=ZoneInfo("UTC")))
    assert money_market().next_confirmation_us(utc_one_am - 1) == utc_one_am


@pytest.mark.parametrize(
    "times",
    [(), (TimeOfDay(15, 0), TimeOfDay(9, 0)), (TimeOfDay(9, 0), TimeOfDay(9, 0)), ("09:00",)],
)
def test_a_schedule_must_be_non_empty_and_strictly_increasing(times: tuple[object, ...]) -> None:
    with pytest.raises(IdentityError) as refused:
        MoneyMarketSource("mm", "alice", times)  # type: ignore[arg-type]
    assert refused.value.code == "identity.schedule_invalid"


# --- debit card maintenance -------------------------------------------------------------------


def test_a_window_across_midnight_covers_both_sides_of_it() -> None:
    card = debit_card(window("23:30", "01:00"))
    assert not card.in_maintenance(shanghai_us(2026, 3, 1, 23, 29))
    assert card.in_maintenance(shanghai_us(2026, 3, 1, 23, 30))
    assert card.in_maintenance(shanghai_us(2026, 3, 2, 0, 0))
    assert card.in_maintenance(shanghai_us(2026, 3, 2, 1) - 1)
    assert not card.in_maintenance(shanghai_us(2026, 3, 2, 1, 0))


def test_maintenance_across_midnight_ends_the_next_morning() -> None:
    card = debit_card(window("23:30", "01:00"))
    ends = shanghai_us(2026, 3, 2, 1)
    assert card.maintenance_ends_us(shanghai_us(2026, 3, 1, 23, 45)) == ends
    assert card.maintenance_ends_us(shanghai_us(2026, 3, 2, 0, 30)) == ends
    assert card.maintenance_ends_us(ends) is None


def test_a_weekly_window_applies_only_on_its_weekday() -> None:
    sunday_night = window("22:00", "23:00", weekday=7)
    card = debit_card(sunday_night)
    assert card.in_maintenance(shanghai_us(2026, 3, 1, 22, 30))  # 2026-03-01 is a Sunday
    assert not card.in_maintenance(shanghai_us(2026, 3, 2, 22, 30))
    assert card.in_maintenance(shanghai_us(2026, 3, 8, 22, 30))


def test_a_weekly_window_across_midnight_ends_on_the_following_weekday() -> None:
    card = debit_card(window("23:00", "02:00", weekday=7))
    monday_early = shanghai_us(2026, 3, 2, 1, 30)
    assert card.in_maintenance(monday_early)
    assert card.maintenance_ends_us(monday_early) == shanghai_us(2026, 3, 2, 2)
    assert not card.in_maintenance(shanghai_us(2026, 3, 3, 1, 30))  # Tuesday


def test_touching_windows_are_followed_to_the_end_of_the_last_one() -> None:
    card = debit_card(window("23:30", "01:00"), window("00:30", "03:00", weekday=1))
    assert card.maintenance_ends_us(shanghai_us(2026, 3, 1, 23, 45)) == shanghai_us(2026, 3, 2, 3)
    assert card.maintenance_ends_us(shanghai_us(2026, 3, 2, 23, 45)) == shanghai_us(2026, 3, 3, 1)


def test_a_card_without_windows_is_never_in_maintenance() -> None:
    card = debit_card()
    assert not card.in_maintenance(shanghai_us(2026, 3, 1, 23, 45))
    assert card.maintenance_ends_us(shanghai_us(2026, 3, 1, 23, 45)) is None


def test_windows_covering_the_whole_week_are_refused() -> None:
    with pytest.raises(IdentityError) as refused:
        debit_card(window("00:00", "12:00"), window("12:00", "00:00"))
    assert refused.value.code == "identity.maintenance_never_ends"


def test_windows_that_leave_a_gap_are_accepted_and_followed_to_it() -> None:
    card = debit_card(window("00:00", "12:00"), window("12:00", "00:00", weekday=1))
    # Only Monday afternoon to Tuesday midnight is covered by the second window.
    assert not card.in_maintenance(shanghai_us(2026, 3, 3, 12))  # Tuesday 12:00
    assert card.maintenance_ends_us(shanghai_us(2026, 3, 2, 11)) == shanghai_us(2026, 3, 3, 12)


@pytest.mark.parametrize(
    ("start", "end", "weekday"),
    [("09:00", "09:00", None), ("09:00", "10:00", 0), ("09:00", "10:00", 8)],
)
def test_malformed_maintenance_windows_are_refused(
    start: str, end: str, weekday: int | None
) -> None:
    with pytest.raises(IdentityError) as refused:
        window(start, end, weekday)
    assert refused.value.code == "identity.maintenance_window_invalid"


# --- credit card statements -------------------------------------------------------------------


def credit_card(statement_day: int = 5) -> CreditCardSource:
    return CreditCardSource("card-credit", "alice", "CMB", MASKED_VISA, statement_day)


def test_a_charge_on_the_statement_day_is_on_that_days_statement() -> None:
    card = credit_card()
    issued = shanghai_us(2026, 3, 6)
    assert card.statement_issued_us(issued - 1) == issued
    assert card.statement_issued_us(shanghai_us(2026, 2, 6)) == issued


def test_a_charge_after_the_statement_day_waits_for_next_months_statement() -> None:
    card = credit_card()
    assert card.statement_issued_us(shanghai_us(2026, 3, 6)) == shanghai_us(2026, 4, 6)
    assert card.statement_issued_us(shanghai_us(2026, 12, 20)) == shanghai_us(2027, 1, 6)


def test_the_charge_is_on_an_issued_statement_from_the_issue_moment() -> None:
    card = credit_card()
    charged = shanghai_us(2026, 3, 1)
    issued = shanghai_us(2026, 3, 6)
    assert not card.is_on_issued_statement(charged, issued - 1)
    assert card.is_on_issued_statement(charged, issued)


def test_statement_day_28_works_in_february() -> None:
    assert credit_card(28).statement_issued_us(shanghai_us(2026, 2, 10)) == shanghai_us(2026, 3, 1)


@pytest.mark.parametrize("statement_day", [0, 29, 31, -1, 5.0, True])
def test_the_statement_day_must_be_1_to_28(statement_day: object) -> None:
    with pytest.raises(IdentityError) as refused:
        credit_card(statement_day)  # type: ignore[arg-type]
    assert refused.value.code == "identity.statement_day_out_of_range"


# --- foreign cards ----------------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["CNY", "XXX", "usd", ""])
def test_a_foreign_card_needs_a_known_foreign_currency(currency: str) -> None:
    with pytest.raises(IdentityError) as refused:
        ForeignCardSource("f", "alice", currency, MASKED_VISA)
    assert refused.value.code == "identity.currency_invalid"


# --- ledger accounts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            BalanceSource("bal", "alice"),
            LedgerAccountRef("user:alice:balance", AccountKind.USER_BALANCE, "CNY"),
        ),
        (
            money_market(),
            LedgerAccountRef("user:alice:money_market", AccountKind.USER_MONEY_MARKET, "CNY"),
        ),
        (debit_card(), LedgerAccountRef("card:card-debit", AccountKind.DEBIT_CARD, "CNY")),
        (credit_card(), LedgerAccountRef("card:card-credit", AccountKind.CREDIT_CARD, "CNY")),
        (
            ForeignCardSource("card-usd", "alice", "USD", MASKED_VISA),
            LedgerAccountRef("card:card-usd", AccountKind.FOREIGN_CARD, "USD"),
        ),
    ],
)
def test_each_source_maps_to_its_own_ledger_account(
    source: FundingSource, expected: LedgerAccountRef
) -> None:
    assert ledger_account_for(source) == expected
    assert ledger_account_for(source) == ledger_account_for(dataclasses.replace(source))


def test_every_funding_kind_has_a_ledger_account_kind() -> None:
    assert {kind.value for kind in FundingKind} == {
        "balance",
        "money_market",
        "debit_card",
        "credit_card",
        "foreign_card",
        "budget",
    }


def test_a_ledger_reference_opens_the_account_with_default_flags() -> None:
    request = ledger_account_for(BalanceSource("bal", "alice")).to_new_account()
    assert request == NewAccount("user:alice:balance", AccountKind.USER_BALANCE, "CNY")


def test_a_source_whose_ledger_account_id_would_be_too_long_is_refused() -> None:
    with pytest.raises(IdentityError) as refused:
        MoneyMarketSource("mm", "u" * 120, (TimeOfDay(9, 0),))
    assert refused.value.code == "identity.id_invalid"
    assert BalanceSource("bal", "u" * 115).ledger_account_id == f"user:{'u' * 115}:balance"
