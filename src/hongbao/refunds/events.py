"""The refunds context's events: a refund's progress, written to its packet's stream.

A refund moves from escrow towards the sender (in clearing, frozen, held, retried, failed,
arrived); each change of its state is a ``RefundProgressed`` on ``packet:{id}``, so the
packet's live stream shows where the money is until it arrives, and the packet's hash chain
records it (R-B2, R-F6). The wire form never changes once written (a test pins it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from hongbao.refunds.records import WHERE_THE_MONEY_IS, Refund


def packet_stream(packet_id: str) -> str:
    """A packet's stream, named as the packets context names it (refunds sit below packets
    and do not import them)."""
    return f"packet:{packet_id}"


@dataclass(frozen=True, slots=True)
class RefundProgressed:
    """A refund reached a new state: where its money is now and when it is due to arrive."""

    event_type: ClassVar[str] = "RefundProgressed"
    packet_id: str
    refund: str  # the refund's id
    state: str  # a ``RefundState`` value
    where: str  # the state in words
    route: str
    amount: int  # what arrives, net of fees, in ``currency``'s minor units
    currency: str
    arrives_at_us: int

    @property
    def stream(self) -> str:
        return packet_stream(self.packet_id)

    @classmethod
    def of(cls, refund: Refund) -> RefundProgressed:
        return cls(
            packet_id=refund.packet_id,
            refund=refund.id,
            state=refund.state.value,
            where=WHERE_THE_MONEY_IS[refund.state],
            route=refund.route.value,
            amount=refund.net_minor,
            currency=refund.currency,
            arrives_at_us=refund.arrives_at_us,
        )

    def payload(self) -> dict[str, object]:
        return {
            "packet_id": self.packet_id,
            "refund": self.refund,
            "state": self.state,
            "where": self.where,
            "route": self.route,
            "amount": self.amount,
            "currency": self.currency,
            "arrives_at_us": self.arrives_at_us,
        }
