"""Refunds as tracked (R-F6): where the money is now, when it arrives, and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hongbao.refunds.routes import RefundRoute


class RefundState(StrEnum):
    IN_CLEARING = "in_clearing"  # left escrow, waiting in refund clearing for its arrival time
    FROZEN = "frozen"  # in clearing until the money-market account's confirmation time
    SETTLED = "settled"  # arrived where it was going (a card, the balance)
    RELEASED = "released"  # arrived in the money-market account once the freeze ended


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
    reason: str  # why this route, in words, for the tracking view
