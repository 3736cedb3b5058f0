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
foreign card    -                                            -       always for now
                                                                     (``fx_not_supported_yet``)
==============  ===========================================  ======  ===============================

The credit-card fee is :func:`~hongbao.refunds.fees.refund_fee` (0.1 % rounded half up to a
fen); ``net`` is what reaches the card, ``amount == net + fee`` always. Boundaries follow
:func:`hongbao.platform.clock.is_due`: a maintenance window refuses from its first instant and
allows again at its end; a statement counts as issued from the instant it is issued.

**Smart routing (智能路由).** When the original route is refused and ``smart_routing`` is on,
the planner offers the balance instead: a balance plan with ``substituted=True`` and the
original refusal in ``refused``, which the user still has to accept. The balance itself must be
allowed (status NORMAL); otherwise there is no route at all and the original refusal is
returned, with the balance's own refusal in ``balance_refusal``. With smart routing off the
original refusal is returned as is. This applies to every refused route, including foreign
cards while their FX route does not exist yet.

Input limits raise :class:`~hongbao.platform.errors.InvalidInput` with stable codes: the
amount must be positive CNY Money (``refunds.not_money``, ``refunds.amount_not_positive``,
``refunds.currency_not_supported``); times are int microseconds in the business-day range
and the charge is not after ``now_us`` (``refunds.invalid_time``,
``refunds.charge_after_now``); the source, status and flag must have their types
(``refunds.invalid_source``, ``refunds.invalid_status``, ``refunds.invalid_flag``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hongbao.identity.funding import (
    DOMESTIC_CURRENCY,
    BalanceSource,
    CreditCardSource,
    DebitCardSource,
    ForeignCardSource,
    FundingSource,
    MoneyMarketSource,
)
from hongbao.identity.users import UserStatus
from hongbao.money import Money
from hongbao.platform.errors import InvalidInput
from hongbao.platform.invariants import invariant
from hongbao.refunds.business_days import MAX_START_US, MIN_START_US, add_business_days
from hongbao.refunds.fees import refund_fee

__all__ = [
    "ACCOUNT_ABNORMAL",
    "BANK_MAINTENANCE",
    "CREDIT_CARD_BUSINESS_DAYS",
    "DEBIT_CARD_DELAY_US",
    "FX_NOT_SUPPORTED_YET",
    "STATEMENT_ISSUED",
    "NoRoute",
    "RefundPlan",
    "RefundRoute",
    "plan_refund",
]

ACCOUNT_ABNORMAL: Final = "refunds.account_abnormal"
BANK_MAINTENANCE: Final = "refunds.bank_maintenance"
STATEMENT_ISSUED: Final = "refunds.statement_issued"
FX_NOT_SUPPORTED_YET: Final = "refunds.fx_not_supported_yet"

DEBIT_CARD_DELAY_US: Final = 2 * 3600 * 1_000_000
"""A debit-card refund arrives 2 hours after it is sent (fund-return table)."""
CREDIT_CARD_BUSINESS_DAYS: Final = 3
"""A credit-card refund arrives after 3 Chinese business days (fund-return table)."""

_FUNDING_TYPES: Final = (
    BalanceSource,
    MoneyMarketSource,
    DebitCardSource,
    CreditCardSource,
    ForeignCardSource,
)


class RefundRoute(StrEnum):
    """Where refunded money goes; one route per kind of funding source."""

    BALANCE = "balance"
    MONEY_MARKET = "money_market"
    DEBIT_CARD = "debit_card"
    CREDIT_CARD = "credit_card"
    FOREIGN_CARD = "foreign_card"


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
class RefundPlan:
    """A refund that can go ahead: where, how much, at what cost and when it arrives.

    ``amount == net + fee``. ``frozen_until_us`` is set only for the money-market route: the
    money arrives at ``arrives_at_us`` but cannot be used before then. ``calendar`` names the
    business-day calendar that decided a credit card's arrival (``None`` for other routes).
    ``substituted`` is True when smart routing offered the balance instead of the original
    route; ``refused`` then says why the original route was refused.
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


def plan_refund(
    source: FundingSource,
    sender_status: UserStatus,
    amount: Money,
    *,
    charged_at_us: int,
    now_us: int,
    smart_routing: bool = False,
) -> RefundPlan | NoRoute:
    """Plan a refund of ``amount`` (CNY) to ``source``, the packet's original funding source.

    ``sender_status`` decides whether the balance may receive money; ``charged_at_us`` is when
    the packet was paid for (the credit-card statement rule); ``now_us`` is when the refund
    starts; ``smart_routing`` lets a refused route fall back to the balance. The rules are in
    the module docstring.
    """
    _check_inputs(source, sender_status, amount, charged_at_us, now_us, smart_routing)
    original = _plan_original(source, sender_status, amount, charged_at_us, now_us)
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
    charged_at_us: int,
    now_us: int,
) -> RefundPlan | NoRoute:
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
    return NoRoute(
        reason_code=FX_NOT_SUPPORTED_YET,
        message=f"Refunds to a foreign-currency card ({source.currency}) are not supported "
        "yet: the exchange-rate route is still to come.",
        retry_at_us=None,
        route=RefundRoute.FOREIGN_CARD,
    )


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
            code="refunds.invalid_source",
        )
    if not isinstance(sender_status, UserStatus):
        raise InvalidInput(
            f"The sender's status must be a UserStatus, got {sender_status!r:.40}.",
            code="refunds.invalid_status",
        )
    if type(smart_routing) is not bool:
        raise InvalidInput(
            f"smart_routing is True or False, got {smart_routing!r:.20}.",
            code="refunds.invalid_flag",
        )
    _check_amount(amount)
    now = _check_time(now_us, "now_us")
    charged = _check_time(charged_at_us, "charged_at_us")
    if charged > now:
        raise InvalidInput(
            "A packet cannot be refunded before it was paid for: charged_at_us is after now_us.",
            code="refunds.charge_after_now",
            charged_at_us=charged,
            now_us=now,
        )


def _check_amount(amount: object) -> None:
    if not isinstance(amount, Money):
        raise InvalidInput(
            f"A refund amount is Money, got {type(amount).__name__}.",
            code="refunds.not_money",
        )
    if amount.currency.code != DOMESTIC_CURRENCY:
        raise InvalidInput(
            f"Refund amounts are in {DOMESTIC_CURRENCY}, got {amount.display()}.",
            code="refunds.currency_not_supported",
            currency=amount.currency.code,
        )
    if not amount.is_positive():
        raise InvalidInput(
            f"A refunded amount must be positive, got {amount.display()}.",
            code="refunds.amount_not_positive",
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
            code="refunds.invalid_time",
            name=name,
        )
    return moment
