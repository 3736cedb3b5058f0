"""The credit-card refund fee (R-F2): 0.1 % of the refunded amount, rounded half up to a fen.

**Rule.** The fee is the exact product ``refunded amount in minor units x rate``, rounded
once to a whole minor unit (a fen for CNY) with ``ROUND_HALF_UP`` (四舍五入: a half fen goes
up). The arithmetic is :meth:`hongbao.money.Money.fee`: exact Decimal, never floats. The rate
is data, a Decimal or decimal text from 0 to 1 (``"0.001"`` is 0.1 %), so a policy can supply
it; :data:`CREDIT_CARD_REFUND_FEE_RATE` is the default from the fund-return table.

With the default rate the fee in fen is ``floor((amount_fen + 500) / 1000)``:

=====================  ==================  ==========
refunded (CNY)         exact fee (fen)     fee (CNY)
=====================  ==================  ==========
0.01                   0.001               0.00
4.99                   0.499               0.00
5.00                   0.5                 0.01
14.99                  1.499               0.01
15.00                  1.5                 0.02
=====================  ==================  ==========

So refunds below 5.00 CNY cost no fee at all, and the fee is never more than the amount
(the rate is at most 1), so what reaches the card is never negative. The refunded amount must
be positive; a zero or negative refund is refused (``refunds.amount_not_positive``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from hongbao.money import Money
from hongbao.platform.errors import InvalidInput
from hongbao.platform.invariants import invariant
from hongbao.refunds.errors import RefundCode

__all__ = ["CREDIT_CARD_REFUND_FEE_RATE", "net_of_fee", "refund_fee"]

CREDIT_CARD_REFUND_FEE_RATE: Final = "0.001"
"""0.1 %, the credit-card refund fee of the fund-return table, as exact decimal text."""


def refund_fee(amount: Money, rate: Decimal | str = CREDIT_CARD_REFUND_FEE_RATE) -> Money:
    """The fee on refunding ``amount``: ``amount x rate`` rounded half up to a minor unit.

    ``rate`` is a fraction (``"0.001"`` is 0.1 %) given as a Decimal or decimal text from 0
    to 1; floats and other rates are refused with the :class:`~hongbao.money.MoneyError`
    codes of :meth:`Money.fee <hongbao.money.Money.fee>`.
    """
    _check_amount(amount)
    fee = amount.fee(rate)
    invariant(
        Money.zero(amount.currency) <= fee <= amount,
        "a refund fee is between zero and the refunded amount",
        amount=amount.minor,
        fee=fee.minor,
    )
    return fee


def net_of_fee(
    amount: Money, rate: Decimal | str = CREDIT_CARD_REFUND_FEE_RATE
) -> tuple[Money, Money]:
    """Split a refund of ``amount`` into ``(what reaches the card, the fee)``.

    The two always add up to ``amount`` exactly: 15.00 CNY -> (14.98 CNY, 0.02 CNY).
    """
    fee = refund_fee(amount, rate)
    net = amount - fee
    invariant(net + fee == amount, "net and fee add up to the refund", amount=amount.minor)
    return net, fee


def _check_amount(amount: object) -> None:
    if not isinstance(amount, Money):
        raise InvalidInput(
            f"A refund fee is taken on Money, got {type(amount).__name__}.",
            code=RefundCode.NOT_MONEY,
        )
    if not amount.is_positive():
        raise InvalidInput(
            f"A refunded amount must be positive, got {amount.display()}.",
            code=RefundCode.AMOUNT_NOT_POSITIVE,
            amount=amount.minor,
            currency=amount.currency.code,
        )
