"""Bodies of refunds (R-F6): where the money is now, when it arrives, why, and its path."""

from __future__ import annotations

from hongbao.distribution.model import RefundHop
from hongbao.entrypoints.http.schemas import Amount, Body, iso_time
from hongbao.refunds.records import WHERE_THE_MONEY_IS, Refund, RefundState

WHERE = WHERE_THE_MONEY_IS


class HopView(Body):
    transfer_id: str
    from_account_id: str
    to_account_id: str
    amount: Amount
    note: str

    @classmethod
    def of(cls, hop: RefundHop) -> HopView:
        return cls(
            transfer_id=hop.transfer_id,
            from_account_id=hop.from_account_id,
            to_account_id=hop.to_account_id,
            amount=Amount.of(hop.amount_minor, hop.currency),
            note=hop.note,
        )


class ForeignCardView(Body):
    """A foreign card's refund at the recall-time rate, with the rate at send (R-F4)."""

    to_card: Amount
    rate_at_refund: str | None  # decimal text, never a float
    rate_at_refund_as_of_us: int | None
    rate_source: str | None
    rate_at_send: str | None
    at_send_rate: Amount | None
    # At-send minus at-refund in the card's minor units; signed, so no decimal text.
    fx_difference_minor: int | None

    @classmethod
    def of(cls, refund: Refund) -> ForeignCardView | None:
        card, amount = refund.card_currency, refund.card_amount_minor
        if card is None or amount is None:
            return None
        at_send = refund.amount_at_send_rate_minor
        return cls(
            to_card=Amount.of(amount, card),
            rate_at_refund=refund.rate_at_refund,
            rate_at_refund_as_of_us=refund.rate_at_refund_as_of_us,
            rate_source=refund.rate_source,
            rate_at_send=refund.rate_at_send,
            at_send_rate=None if at_send is None else Amount.of(at_send, card),
            fx_difference_minor=refund.fx_difference_minor,
        )


class RefundView(Body):
    id: str
    packet_id: str
    owner_id: str
    trigger: str  # recall | expiry
    route: str
    substituted: bool  # smart routing sent it to the balance instead of the original route
    amount: Amount
    fee: Amount
    net: Amount  # what arrives
    destination_account_id: str
    state: RefundState
    where: str  # where the money is now, in words
    reason: str  # why this route, or why it waits
    created_at_us: int
    arrives_at_us: int
    arrives_at: str
    frozen_until_us: int | None
    settled_at_us: int | None
    calendar: str | None  # the business-day calendar behind a credit card's arrival
    attempts: int
    next_attempt_at_us: int | None
    last_error: str | None
    foreign_card: ForeignCardView | None
    hops: list[HopView]  # the path of the money through the ledger, in order

    @classmethod
    def of(cls, refund: Refund) -> RefundView:
        currency = refund.currency
        return cls(
            id=refund.id,
            packet_id=refund.packet_id,
            owner_id=refund.owner_id,
            trigger=refund.trigger.value,
            route=refund.route.value,
            substituted=refund.substituted,
            amount=Amount.of(refund.amount_minor, currency),
            fee=Amount.of(refund.fee_minor, currency),
            net=Amount.of(refund.net_minor, currency),
            destination_account_id=refund.destination_account_id,
            state=refund.state,
            where=WHERE[refund.state],
            reason=refund.reason,
            created_at_us=refund.created_at_us,
            arrives_at_us=refund.arrives_at_us,
            arrives_at=iso_time(refund.arrives_at_us),
            frozen_until_us=refund.frozen_until_us,
            settled_at_us=refund.settled_at_us,
            calendar=refund.calendar,
            attempts=refund.attempts,
            next_attempt_at_us=refund.next_attempt_at_us,
            last_error=refund.last_error,
            foreign_card=ForeignCardView.of(refund),
            hops=[HopView.of(hop) for hop in refund.hops],
        )
