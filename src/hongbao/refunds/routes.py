"""The refund route planner (R-F1, R-F2, R-F3): where a refund goes, when, at what cost, or why not.

:func:`plan_refund` looks at the packet's original funding source and the current facts and
returns either a :class:`RefundPlan` or a :class:`NoRoute` with a stable reason code. It is
pure: no database, no clock (``now_us`` is an argument), no logging of its own (the business
day calendar may log its documented fallback warning).

**Original method first (R-F1).** The refund goes back to the source that paid for the packet:

==============  ===========================================  ======  ===============================
route           arrives                                      fee     refused when
==============  ===========================================  ======  ===============================
balance         at once                                      none    the sender's status is not
                                                                     NORMAL (``account_abnormal``)
money market    at once, frozen until the source's next      none    never
                confirmation time (R-F3)
debit card      2 hours after ``now_us``                     none    ``now_us`` is inside a bank
                                                                     maintenance window
                                                                     (``bank_maintenance``, retry
                                                                     when the window ends)
credit card     3 business days (:func:`add_business_days`)  0.1 %   the charge is on an issued
                                                                     statement
                                                                     (``statement_issued``)
foreign card    3 business days, in the card's currency at   none    no usable rate now
                the rate of the refund's moment (R-F4)               (``fx_rate_unavailable``)
distribution    at once, back level by level to the budget   none    never: a closed budget passes
budget          it came from (R-F5)                                  it up a level, a closed root
                                                                     to the enterprise's balance
==============  ===========================================  ======  ===============================

**Foreign cards (R-F4).** The refund leaves escrow in yuan and reaches the card in its own
currency at the usable rate *now* (``fx.at_refund``, chosen by the caller with
:func:`hongbao.fx.usable_rate`), rounded half up to a minor unit like the charge was. The plan
also carries the rate the card was charged at and what the refunded yuan cost at that rate; the
difference (at-send minus at-refund, in the card's currency) is what the FX position gains or
loses. No usable rate (missing, stale or dated in the future) refuses the route rather than
guessing: ``fx.unavailable`` says why.

The credit-card fee is :func:`~hongbao.refunds.fees.refund_fee` (0.1 % rounded half up to a
fen); ``net`` is what reaches the card, ``amount == net + fee`` always. Boundaries follow
:func:`hongbao.platform.clock.is_due`: a maintenance window refuses from its first instant and
allows again at its end; a statement counts as issued from the instant it is issued.

**Smart routing (智能路由).** When the original route is refused and ``smart_routing`` is on,
the planner offers the balance instead: a balance plan with ``substituted=True`` and the
original refusal in ``refused``, which the user still has to accept. The balance itself must be
allowed (status NORMAL); otherwise there is no route at all and the original refusal is
returned, with the balance's own refusal in ``balance_refusal``. With smart routing off the
original refusal is returned as is. This applies to every refused route.

Input limits raise :class:`~hongbao.platform.errors.InvalidInput` with stable codes: the
amount must be positive CNY Money (``refunds.not_money``, ``refunds.amount_not_positive``,
``refunds.currency_not_supported``); times are int microseconds in the business-day range
and the charge is not after ``now_us`` (``refunds.invalid_time``,
``refunds.charge_after_now``); the source, status and flag must have their types
(``refunds.invalid_source``, ``refunds.invalid_status``, ``refunds.invalid_flag``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Final

from hongbao.funding.sources import (
    DOMESTIC_CURRENCY,
    BalanceSource,
    BudgetSource,
    CreditCardSource,
    DebitCardSource,
    ForeignCardSource,
    FundingSource,
    MoneyMarketSource,
)
from hongbao.fx import ExchangeRate
from hongbao.identity.users import UserStatus
from hongbao.money import Money, convert
from hongbao.platform.errors import InvalidInput
from hongbao.platform.invariants import invariant
from hongbao.refunds.business_days import MAX_START_US, MIN_START_US, add_business_days
from hongbao.refunds.errors import RefundCode
from hongbao.refunds.fees import refund_fee

__all__ = [
    "ACCOUNT_ABNORMAL",
    "BANK_MAINTENANCE",
    "CREDIT_CARD_BUSINESS_DAYS",
    "DEBIT_CARD_DELAY_US",
    "FOREIGN_CARD_BUSINESS_DAYS",
    "FX_RATE_UNAVAILABLE",
    "STATEMENT_ISSUED",
    "FxRates",
    "FxRefund",
    "NoRoute",
    "RefundPlan",
    "RefundRoute",
    "plan_refund",
]

ACCOUNT_ABNORMAL: Final = "refunds.account_abnormal"
BANK_MAINTENANCE: Final = "refunds.bank_maintenance"
STATEMENT_ISSUED: Final = "refunds.statement_issued"
FX_RATE_UNAVAILABLE: Final = "refunds.fx_rate_unavailable"

DEBIT_CARD_DELAY_US: Final = 2 * 3600 * 1_000_000
"""A debit-card refund arrives 2 hours after it is sent (fund-return table)."""
CREDIT_CARD_BUSINESS_DAYS: Final = 3
"""A credit-card refund arrives after 3 Chinese business days (fund-return table)."""
FOREIGN_CARD_BUSINESS_DAYS: Final = 3
"""A foreign card clears like a credit card: 3 Chinese business days (our interpretation)."""

_FUNDING_TYPES: Final = (
    BalanceSource,
    MoneyMarketSource,
    DebitCardSource,
    CreditCardSource,
    ForeignCardSource,
    BudgetSource,
)


class RefundRoute(StrEnum):
    """Where refunded money goes; one route per kind of funding source."""

    BALANCE = "balance"
    MONEY_MARKET = "money_market"
    DEBIT_CARD = "debit_card"
    CREDIT_CARD = "credit_card"
    FOREIGN_CARD = "foreign_card"
    DISTRIBUTION = "distribution"


@dataclass(frozen=True, slots=True)
class NoRoute:
    """Why a refund cannot go anywhere now.

    ``reason_code`` is stable (one of the ``refunds.*`` constants of this module), ``message``
    is for people, ``retry_at_us`` is when the same route will work again if that is known
    (the end of a bank maintenance window), ``route`` is the route that was refused, and
    ``balance_refusal`` is set when smart routing also tried the balance and it was refused.
    """

    reason_code: str
    message: str
    retry_at_us: int | None
    route: RefundRoute
    balance_refusal: NoRoute | None = None


@dataclass(frozen=True, slots=True)
class FxRates:
    """The rates of a foreign-card refund: ``at_send`` is what the card was charged at (1 yuan
    in the card's currency, from the authorization); ``at_refund`` is the usable rate now, or
    None with ``unavailable`` saying why there is none."""

    card_currency: str
    at_send: Decimal
    at_refund: ExchangeRate | None
    unavailable: str = ""


@dataclass(frozen=True, slots=True)
class FxRefund:
    """What a foreign card receives and what the FX position makes of it (R-F4)."""

    card_currency: str
    card_amount: Money  # at the refund's rate: what reaches the card
    rate_at_refund: Decimal
    rate_at_refund_as_of_us: int
    rate_source: str
    rate_at_send: Decimal
    amount_at_send_rate: Money  # what the refunded yuan cost the card at send time

    @property
    def difference(self) -> Money:
        """At-send minus at-refund: positive when the card gets back less than it paid."""
        return self.amount_at_send_rate - self.card_amount


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """A refund that can go ahead: where, how much, at what cost and when it arrives.

    ``amount == net + fee``. ``frozen_until_us`` is set only for the money-market route: the
    money arrives at ``arrives_at_us`` but cannot be used before then. ``calendar`` names the
    business-day calendar that decided a credit card's arrival (``None`` for other routes).
    ``substituted`` is True when smart routing offered the balance instead of the original
    route; ``refused`` then says why the original route was refused. ``fx`` is set for a
    foreign card only.
    """

    route: RefundRoute
    amount: Money
    fee: Money
    net: Money
    arrives_at_us: int
    frozen_until_us: int | None = None
    calendar: str | None = None
    substituted: bool = False
    refused: NoRoute | None = None
    fx: FxRefund | None = None
    budget_id: str | None = None  # the distribution budget the packet was funded from


def plan_refund(
    source: FundingSource,
    sender_status: UserStatus,
    amount: Money,
    *,
    charged_at_us: int,
    now_us: int,
    smart_routing: bool = False,
    fx: FxRates | None = None,
) -> RefundPlan | NoRoute:
    """Plan a refund of ``amount`` (CNY) to ``source``, the packet's original funding source.

    ``sender_status`` decides whether the balance may receive money; ``charged_at_us`` is when
    the packet was paid for (the credit-card statement rule); ``now_us`` is when the refund
    starts; ``smart_routing`` lets a refused route fall back to the balance; ``fx`` gives a
    foreign card's rates. The rules are in the module docstring.
    """
    _check_inputs(source, sender_status, amount, charged_at_us, now_us, smart_routing)
    original = _plan_original(source, sender_status, amount, (charged_at_us, now_us), fx)
    if isinstance(original, RefundPlan) or not smart_routing:
        return original
    if original.route is RefundRoute.BALANCE:
        # The balance was the original route; there is nothing else to offer.
        return original
    balance = _plan_balance(sender_status, amount, now_us)
    if isinstance(balance, NoRoute):
        return NoRoute(
            reason_code=original.reason_code,
            message=f"{original.message} The balance cannot take the refund either: "
            f"{balance.message}",
            retry_at_us=original.retry_at_us,
            route=original.route,
            balance_refusal=balance,
        )
    return RefundPlan(
        route=RefundRoute.BALANCE,
        amount=balance.amount,
        fee=balance.fee,
        net=balance.net,
        arrives_at_us=balance.arrives_at_us,
        substituted=True,
        refused=original,
    )


def _plan_original(
    source: FundingSource,
    sender_status: UserStatus,
    amount: Money,
    moments: tuple[int, int],
    fx: FxRates | None,
) -> RefundPlan | NoRoute:
    charged_at_us, now_us = moments
    if isinstance(source, BalanceSource):
        return _plan_balance(sender_status, amount, now_us)
    if isinstance(source, MoneyMarketSource):
        return _free_plan(
            RefundRoute.MONEY_MARKET,
            amount,
            arrives_at_us=now_us,
            frozen_until_us=source.next_confirmation_us(now_us),
        )
    if isinstance(source, DebitCardSource):
        return _plan_debit_card(source, amount, now_us)
    if isinstance(source, CreditCardSource):
        return _plan_credit_card(source, amount, charged_at_us, now_us)
    if isinstance(source, BudgetSource):
        instant = _free_plan(RefundRoute.DISTRIBUTION, amount, arrives_at_us=now_us)
        return RefundPlan(
            route=instant.route,
            amount=amount,
            fee=instant.fee,
            net=amount,
            arrives_at_us=now_us,
            budget_id=source.budget_id,
        )
    return _plan_foreign_card(source, amount, now_us, fx)


def _plan_balance(sender_status: UserStatus, amount: Money, now_us: int) -> RefundPlan | NoRoute:
    if sender_status is not UserStatus.NORMAL:
        return NoRoute(
            reason_code=ACCOUNT_ABNORMAL,
            message=f"The account is {sender_status.value}, so the balance cannot receive "
            "money until it is back to normal.",
            retry_at_us=None,
            route=RefundRoute.BALANCE,
        )
    return _free_plan(RefundRoute.BALANCE, amount, arrives_at_us=now_us)


def _plan_debit_card(source: DebitCardSource, amount: Money, now_us: int) -> RefundPlan | NoRoute:
    if source.in_maintenance(now_us):
        ends_us = source.maintenance_ends_us(now_us)
        invariant(ends_us is not None, "a window under way has an end", source_id=source.id)
        return NoRoute(
            reason_code=BANK_MAINTENANCE,
            message=f"{source.bank_name} is in a maintenance window; the card can take the "
            "refund again when it ends.",
            retry_at_us=ends_us,
            route=RefundRoute.DEBIT_CARD,
        )
    return _free_plan(RefundRoute.DEBIT_CARD, amount, arrives_at_us=now_us + DEBIT_CARD_DELAY_US)


def _plan_credit_card(
    source: CreditCardSource, amount: Money, charged_at_us: int, now_us: int
) -> RefundPlan | NoRoute:
    if source.is_on_issued_statement(charged_at_us, now_us):
        return NoRoute(
            reason_code=STATEMENT_ISSUED,
            message="The charge is already on an issued credit-card statement, so it can no "
            "longer be refunded to the card.",
            retry_at_us=None,
            route=RefundRoute.CREDIT_CARD,
        )
    arrival = add_business_days(now_us, CREDIT_CARD_BUSINESS_DAYS)
    fee = refund_fee(amount)
    return RefundPlan(
        route=RefundRoute.CREDIT_CARD,
        amount=amount,
        fee=fee,
        net=amount - fee,
        arrives_at_us=arrival.arrives_at_us,
        calendar=arrival.calendar,
    )


def _plan_foreign_card(
    source: ForeignCardSource, amount: Money, now_us: int, fx: FxRates | None
) -> RefundPlan | NoRoute:
    if fx is None or fx.at_refund is None:
        why = fx.unavailable if fx is not None and fx.unavailable else "no rate was looked up"
        return NoRoute(
            reason_code=FX_RATE_UNAVAILABLE,
            message=f"There is no usable CNY/{source.currency} exchange rate now ({why}), so the "
            "refund cannot be converted for the card; it is never converted at a guessed rate.",
            retry_at_us=None,
            route=RefundRoute.FOREIGN_CARD,
        )
    rate = fx.at_refund
    invariant(
        (rate.base, rate.quote, fx.card_currency)
        == (amount.currency.code, source.currency, source.currency),
        "the refund rate converts yuan into the card's currency",
        source_id=source.id,
    )
    arrival = add_business_days(now_us, FOREIGN_CARD_BUSINESS_DAYS)
    refund = FxRefund(
        card_currency=source.currency,
        card_amount=convert(amount, rate.rate, source.currency, ROUND_HALF_UP).target,
        rate_at_refund=rate.rate,
        rate_at_refund_as_of_us=rate.as_of_us,
        rate_source=rate.source,
        rate_at_send=fx.at_send,
        amount_at_send_rate=convert(amount, fx.at_send, source.currency, ROUND_HALF_UP).target,
    )
    plan = _free_plan(RefundRoute.FOREIGN_CARD, amount, arrives_at_us=arrival.arrives_at_us)
    return RefundPlan(
        route=plan.route,
        amount=plan.amount,
        fee=plan.fee,
        net=plan.net,
        arrives_at_us=plan.arrives_at_us,
        calendar=arrival.calendar,
        fx=refund,
    )


def _free_plan(
    route: RefundRoute, amount: Money, *, arrives_at_us: int, frozen_until_us: int | None = None
) -> RefundPlan:
    return RefundPlan(
        route=route,
        amount=amount,
        fee=Money.zero(amount.currency),
        net=amount,
        arrives_at_us=arrives_at_us,
        frozen_until_us=frozen_until_us,
    )


def _check_inputs(  # noqa: PLR0917 - one check per argument of plan_refund, in its order
    source: object,
    sender_status: object,
    amount: object,
    charged_at_us: object,
    now_us: object,
    smart_routing: object,
) -> None:
    if not isinstance(source, _FUNDING_TYPES):
        raise InvalidInput(
            f"A refund goes back to a funding source, got {type(source).__name__}.",
            code=RefundCode.INVALID_SOURCE,
        )
    if not isinstance(sender_status, UserStatus):
        raise InvalidInput(
            f"The sender's status must be a UserStatus, got {sender_status!r:.40}.",
            code=RefundCode.INVALID_STATUS,
        )
    if type(smart_routing) is not bool:
        raise InvalidInput(
            f"smart_routing is True or False, got {smart_routing!r:.20}.",
            code=RefundCode.INVALID_FLAG,
        )
    _check_amount(amount)
    now = _check_time(now_us, "now_us")
    charged = _check_time(charged_at_us, "charged_at_us")
    if charged > now:
        raise InvalidInput(
            "A packet cannot be refunded before it was paid for: charged_at_us is after now_us.",
            code=RefundCode.CHARGE_AFTER_NOW,
            charged_at_us=charged,
            now_us=now,
        )


def _check_amount(amount: object) -> None:
    if not isinstance(amount, Money):
        raise InvalidInput(
            f"A refund amount is Money, got {type(amount).__name__}.",
            code=RefundCode.NOT_MONEY,
        )
    if amount.currency.code != DOMESTIC_CURRENCY:
        raise InvalidInput(
            f"Refund amounts are in {DOMESTIC_CURRENCY}, got {amount.display()}.",
            code=RefundCode.CURRENCY_NOT_SUPPORTED,
            currency=amount.currency.code,
        )
    if not amount.is_positive():
        raise InvalidInput(
            f"A refunded amount must be positive, got {amount.display()}.",
            code=RefundCode.AMOUNT_NOT_POSITIVE,
            amount=amount.minor,
        )


def _check_time(moment: object, name: str) -> int:
    if (
        not isinstance(moment, int)
        or type(moment) is not int
        or not (MIN_START_US <= moment < MAX_START_US)
    ):
        raise InvalidInput(
            f"{name} is an int of microseconds since the epoch from {MIN_START_US} to below "
            f"{MAX_START_US}, got {moment!r:.40}.",
            code=RefundCode.INVALID_TIME,
            name=name,
        )
    return moment
