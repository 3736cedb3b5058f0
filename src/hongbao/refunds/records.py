"""Refunds as tracked (R-F6): where the money is now, when it arrives, and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from hongbao.distribution.model import RefundHop
from hongbao.refunds.routes import RefundRoute


class RefundState(StrEnum):
    """Where a refund stands. ``planned`` is never stored: it is what an eligibility answer
    shows before anything moves."""

    PLANNED = "planned"  # shown before the recall; nothing has moved
    IN_CLEARING = "in_clearing"  # left escrow, waiting in refund clearing for its arrival time
    FROZEN = "frozen"  # in clearing until the money-market account's confirmation time
    HELD = "held"  # in clearing: no route takes it now; planned again at next_attempt_at_us
    FAILED_RETRYING = "failed_retrying"  # the card network refused the payout; retried later
    FAILED = "failed"  # retries exhausted: waits in clearing for an operator's balance credit
    SETTLED = "settled"  # arrived where it was going (a card, the balance, a budget)
    RELEASED = "released"  # arrived in the money-market account once the freeze ended
    CREDITED = "credited"  # an operator paid a failed refund into the sender's balance
    RISK_HELD = "risk_held"  # risk control holds it in the risk-hold account for review


ARRIVED = frozenset({RefundState.SETTLED, RefundState.RELEASED, RefundState.CREDITED})

WHERE_THE_MONEY_IS: Final = MappingProxyType(
    {
        RefundState.PLANNED: "planned, nothing has moved",
        RefundState.IN_CLEARING: "in refund clearing, on its way",
        RefundState.FROZEN: "in refund clearing, frozen until the money-market confirmation",
        RefundState.HELD: "in refund clearing, waiting for a route to take it",
        RefundState.FAILED_RETRYING: "in refund clearing, the payout is being retried",
        RefundState.FAILED: "in refund clearing, waiting for an operator's balance credit",
        RefundState.SETTLED: "arrived",
        RefundState.RELEASED: "arrived (released from the freeze)",
        RefundState.CREDITED: "arrived in the balance (credited by an operator)",
        RefundState.RISK_HELD: "held for a risk review, released at its release time",
    }
)
"""Each state in words, for the tracking view (CLI and API)."""


class RefundTrigger(StrEnum):
    RECALL = "recall"
    EXPIRY = "expiry"


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    packet_id: str
    owner_id: str
    route: RefundRoute
    currency: str
    amount_minor: int
    fee_minor: int
    net_minor: int
    destination_account_id: str
    state: RefundState
    created_at_us: int
    arrives_at_us: int
    frozen_until_us: int | None
    settled_at_us: int | None
    calendar: str | None  # the business-day calendar that set a credit card's arrival
    substituted: bool  # smart routing sent it to the balance instead of the original route
    reason: str  # why this route (or why it waits), in words, for the tracking view
    trigger: RefundTrigger = RefundTrigger.RECALL
    attempts: int = 0  # payouts the card network refused so far
    next_attempt_at_us: int | None = None  # a held or failed refund's next try
    last_error: str | None = None
    # A foreign card is paid in its own currency at the rate of the refund's moment (R-F4).
    card_currency: str | None = None
    card_amount_minor: int | None = None
    rate_at_refund: str | None = None
    rate_at_refund_as_of_us: int | None = None
    rate_source: str | None = None
    rate_at_send: str | None = None
    amount_at_send_rate_minor: int | None = None  # what the refunded part cost at send time
    fx_difference_minor: int | None = None  # at-send minus at-refund, card currency
    hops: tuple[RefundHop, ...] = ()

    @property
    def has_arrived(self) -> bool:
        return self.state in ARRIVED
