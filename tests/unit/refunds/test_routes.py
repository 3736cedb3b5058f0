"""The refund route planner: each route, each refusal, its boundaries and smart routing.

Dates are 2026 in Asia/Shanghai. Calendar facts (chinesecalendar 1.11): the Spring Festival
holiday is 2026-02-15..02-23 with Saturday 02-14 a make-up working day; 2026-03-07/08 is an
ordinary weekend.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hongbao.funding.sources import (
    BalanceSource,
    BudgetSource,
    CreditCardSource,
    DebitCardSource,
    ForeignCardSource,
    FundingKind,
    FundingSource,
    MaintenanceWindow,
    MoneyMarketSource,
    TimeOfDay,
    mask_card_number,
)
from hongbao.fx import ExchangeRate
from hongbao.identity.users import UserStatus
from hongbao.money import Money
from hongbao.platform.clock import from_datetime, to_datetime
from hongbao.platform.errors import InvalidInput
from hongbao.refunds.business_days import PACKAGE_CALENDAR
from hongbao.refunds.routes import (
    ACCOUNT_ABNORMAL,
    BANK_MAINTENANCE,
    DEBIT_CARD_DELAY_US,
    FX_RATE_UNAVAILABLE,
    STATEMENT_ISSUED,
    FxRates,
    NoRoute,
    RefundPlan,
    RefundRoute,
    plan_refund,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR_US = 3600 * 1_000_000


def shanghai_us(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """A wall-clock moment in Asia/Shanghai, as microseconds since the epoch."""
    return from_datetime(datetime(year, month, day, hour, minute, tzinfo=SHANGHAI))


def local(moment_us: int) -> datetime:
    """A moment as a Shanghai datetime, for readable comparisons."""
    return to_datetime(moment_us).astimezone(SHANGHAI)


def cny(text: str) -> Money:
    return Money.parse(text, "CNY")


BALANCE = BalanceSource("alice-balance", "alice")
MONEY_MARKET = MoneyMarketSource(
    "alice-mm", "alice", (TimeOfDay.parse("09:00"), TimeOfDay.parse("15:00"))
)
# Every night from 23:30 to 00:30 the bank is down.
DEBIT = DebitCardSource(
    "alice-debit",
    "alice",
    "ICBC",
    mask_card_number("4111111111111111"),
    (MaintenanceWindow(TimeOfDay(23, 30), TimeOfDay(0, 30)),),
)
# Statement day 5: charges up to the end of the 5th are on the statement issued at 00:00 on the 6th.
CREDIT = CreditCardSource("alice-credit", "alice", "CMB", mask_card_number("5555555555554444"), 5)
# Statement day 28, far from the dates used for the calendar tests.
CREDIT_LATE_STATEMENT = CreditCardSource(
    "alice-credit2", "alice", "CMB", mask_card_number("5555555555554444"), 28
)
FOREIGN = ForeignCardSource("alice-usd", "alice", "USD", mask_card_number("4111111111111111"))

MONDAY_10 = shanghai_us(2026, 3, 2, 10)


def plan(
    source: FundingSource,
    *,
    now_us: int = MONDAY_10,
    charged_at_us: int | None = None,
    status: UserStatus = UserStatus.NORMAL,
    amount: str = "15.00",
    smart_routing: bool = False,
    fx: FxRates | None = None,
) -> RefundPlan | NoRoute:
    """plan_refund with the usual facts: a normal sender, 15.00 CNY, charged just now."""
    return plan_refund(
        source,
        status,
        cny(amount),
        charged_at_us=now_us if charged_at_us is None else charged_at_us,
        now_us=now_us,
        smart_routing=smart_routing,
        fx=fx,
    )


def expect_plan(result: RefundPlan | NoRoute) -> RefundPlan:
    assert isinstance(result, RefundPlan), result
    return result


def expect_no_route(result: RefundPlan | NoRoute) -> NoRoute:
    assert isinstance(result, NoRoute), result
    return result


# --- each route -------------------------------------------------------------------------------


def test_a_balance_refund_arrives_at_once_without_a_fee() -> None:
    result = expect_plan(plan(BALANCE))
    assert result == RefundPlan(
        route=RefundRoute.BALANCE,
        amount=cny("15.00"),
        fee=cny("0"),
        net=cny("15.00"),
        arrives_at_us=MONDAY_10,
    )


def test_a_money_market_refund_arrives_at_once_but_is_frozen_until_the_next_confirmation() -> None:
    result = expect_plan(plan(MONEY_MARKET))
    assert result.route is RefundRoute.MONEY_MARKET
    assert result.arrives_at_us == MONDAY_10
    assert local(result.frozen_until_us or 0) == datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI)
    assert (result.fee, result.net) == (cny("0"), cny("15.00"))


def test_a_money_market_refund_at_a_confirmation_instant_waits_for_the_following_one() -> None:
    """A confirmation exactly at now has passed, so the money waits until tomorrow 09:00."""
    result = expect_plan(plan(MONEY_MARKET, now_us=shanghai_us(2026, 3, 2, 15)))
    assert local(result.frozen_until_us or 0) == datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI)


def test_a_debit_card_refund_arrives_two_hours_later_without_a_fee() -> None:
    result = expect_plan(plan(DEBIT))
    assert result.route is RefundRoute.DEBIT_CARD
    assert result.arrives_at_us == MONDAY_10 + 2 * HOUR_US == MONDAY_10 + DEBIT_CARD_DELAY_US
    assert (result.fee, result.net, result.frozen_until_us) == (cny("0"), cny("15.00"), None)


def test_a_credit_card_refund_takes_three_business_days_and_a_tenth_of_a_percent() -> None:
    result = expect_plan(plan(CREDIT))
    assert result.route is RefundRoute.CREDIT_CARD
    assert local(result.arrives_at_us) == datetime(2026, 3, 5, 10, 0, tzinfo=SHANGHAI)
    assert (result.fee, result.net) == (cny("0.02"), cny("14.98"))
    assert result.net + result.fee == result.amount
    assert result.calendar == PACKAGE_CALENDAR
    assert not result.substituted
    assert result.refused is None


def test_a_small_credit_card_refund_costs_no_fee() -> None:
    """0.1 % of 4.99 is 0.499 fen, rounded half up to nothing."""
    result = expect_plan(plan(CREDIT, amount="4.99"))
    assert (result.fee, result.net) == (cny("0.00"), cny("4.99"))


def test_a_credit_card_refund_started_on_friday_skips_the_weekend() -> None:
    friday = shanghai_us(2026, 3, 6, 16)
    result = expect_plan(plan(CREDIT_LATE_STATEMENT, now_us=friday))
    assert local(result.arrives_at_us) == datetime(2026, 3, 11, 16, 0, tzinfo=SHANGHAI)


def test_a_credit_card_refund_over_the_2026_spring_festival_counts_the_make_up_saturday() -> None:
    """Friday 02-13 + 3: Saturday 02-14 (make-up day), holiday skipped, Tuesday, Wednesday."""
    friday = shanghai_us(2026, 2, 13, 9)
    result = expect_plan(plan(CREDIT_LATE_STATEMENT, now_us=friday))
    assert local(result.arrives_at_us) == datetime(2026, 2, 25, 9, 0, tzinfo=SHANGHAI)
    assert result.calendar == PACKAGE_CALENDAR


# --- each refusal -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [UserStatus.ABNORMAL, UserStatus.FROZEN])
def test_the_balance_is_refused_while_the_account_is_not_normal(status: UserStatus) -> None:
    refusal = expect_no_route(plan(BALANCE, status=status))
    assert refusal.reason_code == ACCOUNT_ABNORMAL
    assert refusal.route is RefundRoute.BALANCE
    assert refusal.retry_at_us is None
    assert status.value in refusal.message


def test_a_debit_card_is_refused_during_maintenance_and_says_when_it_ends() -> None:
    refusal = expect_no_route(plan(DEBIT, now_us=shanghai_us(2026, 3, 2, 23, 45)))
    assert refusal.reason_code == BANK_MAINTENANCE
    assert refusal.route is RefundRoute.DEBIT_CARD
    assert local(refusal.retry_at_us or 0) == datetime(2026, 3, 3, 0, 30, tzinfo=SHANGHAI)
    assert "ICBC" in refusal.message


def test_a_debit_card_is_refused_at_the_first_instant_of_a_maintenance_window() -> None:
    start = shanghai_us(2026, 3, 2, 23, 30)
    assert expect_plan(plan(DEBIT, now_us=start - 1)).route is RefundRoute.DEBIT_CARD
    assert expect_no_route(plan(DEBIT, now_us=start)).reason_code == BANK_MAINTENANCE


def test_a_debit_card_is_allowed_again_at_the_end_of_a_maintenance_window() -> None:
    end = shanghai_us(2026, 3, 3, 0, 30)
    assert expect_no_route(plan(DEBIT, now_us=end - 1)).retry_at_us == end
    result = expect_plan(plan(DEBIT, now_us=end))
    assert result.arrives_at_us == end + DEBIT_CARD_DELAY_US


def test_a_credit_card_is_refused_from_the_instant_the_statement_is_issued() -> None:
    """A charge on 03-03 is on the statement of the 5th, issued at 00:00 on 03-06."""
    charged = shanghai_us(2026, 3, 3, 12)
    issued = shanghai_us(2026, 3, 6)
    before = expect_plan(plan(CREDIT, charged_at_us=charged, now_us=issued - 1))
    assert before.route is RefundRoute.CREDIT_CARD
    refusal = expect_no_route(plan(CREDIT, charged_at_us=charged, now_us=issued))
    assert refusal.reason_code == STATEMENT_ISSUED
    assert refusal.route is RefundRoute.CREDIT_CARD
    assert refusal.retry_at_us is None


def test_a_foreign_card_without_a_usable_rate_is_refused_rather_than_guessed() -> None:
    no_rate = FxRates("USD", Decimal("0.1400"), None, "the newest rate is too old")
    for fx in (None, no_rate):
        refusal = expect_no_route(plan(FOREIGN, fx=fx))
        assert refusal.reason_code == FX_RATE_UNAVAILABLE
        assert refusal.route is RefundRoute.FOREIGN_CARD
        assert refusal.retry_at_us is None
        assert "CNY/USD" in refusal.message
    assert "too old" in expect_no_route(plan(FOREIGN, fx=no_rate)).message


def test_a_foreign_card_is_refunded_at_the_rate_of_the_refund_and_records_both_rates() -> None:
    """15.00 yuan at 0.1405 (send) and 0.1398 (now): 2.11 USD paid, 2.10 USD back, 0.01 kept."""
    now_rate = ExchangeRate("CNY", "USD", Decimal("0.1398"), MONDAY_10 - HOUR_US, "bank, mid")
    result = expect_plan(plan(FOREIGN, fx=FxRates("USD", Decimal("0.1405"), now_rate)))
    assert result.route is RefundRoute.FOREIGN_CARD
    assert (result.amount, result.fee, result.net) == (cny("15.00"), cny("0"), cny("15.00"))
    assert result.fx is not None
    assert result.fx.card_amount == Money.parse("2.10", "USD")  # 2.097 rounds half up
    assert result.fx.amount_at_send_rate == Money.parse("2.11", "USD")  # 2.1075
    assert result.fx.difference == Money.parse("0.01", "USD")
    assert (result.fx.rate_at_refund, result.fx.rate_at_send) == (
        Decimal("0.1398"),
        Decimal("0.1405"),
    )
    assert (result.fx.rate_at_refund_as_of_us, result.fx.rate_source) == (
        MONDAY_10 - HOUR_US,
        "bank, mid",
    )
    assert local(result.arrives_at_us).date().isoformat() == "2026-03-05"  # 3 business days


# --- smart routing ----------------------------------------------------------------------------


def test_smart_routing_offers_the_balance_when_the_debit_card_is_in_maintenance() -> None:
    now = shanghai_us(2026, 3, 2, 23, 45)
    result = expect_plan(plan(DEBIT, now_us=now, smart_routing=True))
    assert result.route is RefundRoute.BALANCE
    assert result.substituted
    assert (result.fee, result.net, result.arrives_at_us) == (cny("0"), cny("15.00"), now)
    assert result.refused is not None
    assert result.refused.reason_code == BANK_MAINTENANCE
    assert result.refused.route is RefundRoute.DEBIT_CARD


@pytest.mark.parametrize(
    ("source", "charged_at_us", "now_us", "code"),
    [
        (CREDIT, shanghai_us(2026, 3, 3), shanghai_us(2026, 3, 6), STATEMENT_ISSUED),
        (FOREIGN, MONDAY_10, MONDAY_10, FX_RATE_UNAVAILABLE),
    ],
)
def test_smart_routing_offers_the_balance_for_every_refused_card(
    source: FundingSource, charged_at_us: int, now_us: int, code: str
) -> None:
    result = expect_plan(
        plan(source, charged_at_us=charged_at_us, now_us=now_us, smart_routing=True)
    )
    assert result.route is RefundRoute.BALANCE
    assert result.substituted
    assert result.refused is not None
    assert result.refused.reason_code == code


def test_without_smart_routing_a_refused_route_is_the_answer() -> None:
    now = shanghai_us(2026, 3, 2, 23, 45)
    refusal = expect_no_route(plan(DEBIT, now_us=now, smart_routing=False))
    assert refusal.reason_code == BANK_MAINTENANCE
    assert refusal.balance_refusal is None


def test_smart_routing_leaves_an_allowed_original_route_alone() -> None:
    result = expect_plan(plan(CREDIT, smart_routing=True))
    assert result.route is RefundRoute.CREDIT_CARD
    assert not result.substituted
    assert result.refused is None


def test_an_abnormal_account_with_smart_routing_has_no_route_at_all() -> None:
    """The card is refused and so is the balance: the card's reason stands, both are recorded."""
    now = shanghai_us(2026, 3, 2, 23, 45)
    refusal = expect_no_route(plan(DEBIT, now_us=now, status=UserStatus.FROZEN, smart_routing=True))
    assert refusal.reason_code == BANK_MAINTENANCE
    assert refusal.retry_at_us == shanghai_us(2026, 3, 3, 0, 30)
    assert refusal.balance_refusal is not None
    assert refusal.balance_refusal.reason_code == ACCOUNT_ABNORMAL
    assert "balance cannot take the refund either" in refusal.message


def test_a_refused_balance_is_not_offered_to_itself_by_smart_routing() -> None:
    refusal = expect_no_route(plan(BALANCE, status=UserStatus.ABNORMAL, smart_routing=True))
    assert refusal.reason_code == ACCOUNT_ABNORMAL
    assert refusal.balance_refusal is None


def test_a_frozen_sender_can_still_be_refunded_to_the_original_card() -> None:
    """The account status restricts only the balance route."""
    result = expect_plan(plan(DEBIT, status=UserStatus.FROZEN))
    assert result.route is RefundRoute.DEBIT_CARD


# --- limits -----------------------------------------------------------------------------------


def call(**overrides: Any) -> RefundPlan | NoRoute:
    """plan_refund with valid arguments, some replaced (possibly by ill-typed values)."""
    arguments: dict[str, Any] = {
        "source": BALANCE,
        "sender_status": UserStatus.NORMAL,
        "amount": cny("1.00"),
        "charged_at_us": MONDAY_10,
        "now_us": MONDAY_10,
        "smart_routing": False,
    }
    arguments.update(overrides)
    return plan_refund(**arguments)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"amount": cny("0")}, "refunds.amount_not_positive"),
        ({"amount": cny("-1.00")}, "refunds.amount_not_positive"),
        ({"amount": Money.parse("1.00", "USD")}, "refunds.currency_not_supported"),
        ({"amount": "1.00"}, "refunds.not_money"),
        ({"now_us": -1}, "refunds.invalid_time"),
        ({"now_us": float(MONDAY_10)}, "refunds.invalid_time"),
        ({"now_us": True}, "refunds.invalid_time"),
        ({"charged_at_us": None}, "refunds.invalid_time"),
        ({"charged_at_us": MONDAY_10 + 1}, "refunds.charge_after_now"),
        ({"source": "alice-balance"}, "refunds.invalid_source"),
        ({"sender_status": "normal"}, "refunds.invalid_status"),
        ({"smart_routing": 1}, "refunds.invalid_flag"),
    ],
)
def test_invalid_input_is_refused_with_a_stable_code(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        call(**overrides)
    assert raised.value.code == code


def test_every_funding_kind_has_its_route() -> None:
    """One route per funding kind: a budget's is the distribution route (R-F5)."""
    assert [route.value for route in RefundRoute] == [
        "balance",
        "money_market",
        "debit_card",
        "credit_card",
        "foreign_card",
        "distribution",
    ]
    assert len(RefundRoute) == len(FundingKind)


def test_a_budget_funded_packet_is_refunded_to_its_budget_at_once_without_a_fee() -> None:
    result = expect_plan(plan(BudgetSource("dist-src", "alice", "b-2")))
    assert (result.route, result.budget_id) == (RefundRoute.DISTRIBUTION, "b-2")
    assert (result.fee, result.net, result.arrives_at_us) == (cny("0"), cny("15.00"), MONDAY_10)
