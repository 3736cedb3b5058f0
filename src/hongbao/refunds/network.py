"""The card network's side of a refund: paying the money out to a card.

A card refund's money waits in refund clearing until it is due; then the network is asked to
pay it out to the card, and only an accepted payout moves the money from clearing to the card's
account in the ledger. The network answers with a result code, never an exception, for the
outcomes it expects: accepted, declined for now (retried with backoff), declined for good (the
refund waits for an operator to credit the sender's balance, R-F6).

``pay_out`` must be idempotent on the refund id: the scheduler runs settlement at least once,
and a crash after the network accepted but before the ledger committed asks again; the network
then answers "accepted" for the payout it already made, and the money moves in the ledger once.

:class:`SimulatedCardNetwork` is the network of the embedded service and of tests: it accepts
every payout unless told to decline some for a card (a drill, or a test of the retry path).
A production deployment plugs its acquirer's adapter in its place.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

from hongbao.platform.errors import InvalidInput
from hongbao.refunds.errors import RefundCode
from hongbao.refunds.records import Refund

MAX_DRILLS: Final = 1_000
MAX_DECLINES_PER_DRILL: Final = 1_000


class PayoutResult(StrEnum):
    ACCEPTED = "accepted"
    DECLINED_TEMPORARILY = "declined_temporarily"  # try again later
    DECLINED_PERMANENTLY = "declined_permanently"  # the card cannot take it (closed, lost…)


@dataclass(frozen=True, slots=True)
class PayoutOutcome:
    result: PayoutResult
    message: str = ""


class CardNetwork(Protocol):
    def pay_out(self, refund: Refund) -> PayoutOutcome:
        """Pay ``refund`` out to its card; idempotent on ``refund.id``."""
        ...


@dataclass(frozen=True, slots=True)
class _Drill:
    declines: int  # how many more payouts to decline; -1 declines permanently
    message: str


class SimulatedCardNetwork:
    """Accepts payouts, remembering each refund it paid; declines on request, per card account."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paid: set[str] = set()
        self._drills: dict[str, _Drill] = {}

    def decline(
        self, card_account_id: str, times: int, message: str = "issuer unavailable"
    ) -> None:
        """Decline the next ``times`` payouts to this card temporarily."""
        if type(times) is not int or not 1 <= times <= MAX_DECLINES_PER_DRILL:
            raise InvalidInput(
                f"times is 1 to {MAX_DECLINES_PER_DRILL}", code=RefundCode.DRILL_INVALID
            )
        self._set(card_account_id, _Drill(times, message))

    def close_card(self, card_account_id: str, message: str = "the card is closed") -> None:
        """Decline every later payout to this card permanently."""
        self._set(card_account_id, _Drill(-1, message))

    def pay_out(self, refund: Refund) -> PayoutOutcome:
        with self._lock:
            if refund.id in self._paid:
                return PayoutOutcome(PayoutResult.ACCEPTED, "already paid out")
            drill = self._drills.get(refund.destination_account_id)
            if drill is not None and drill.declines < 0:
                return PayoutOutcome(PayoutResult.DECLINED_PERMANENTLY, drill.message)
            if drill is not None:
                remaining = drill.declines - 1
                if remaining == 0:
                    del self._drills[refund.destination_account_id]
                else:
                    self._drills[refund.destination_account_id] = _Drill(remaining, drill.message)
                return PayoutOutcome(PayoutResult.DECLINED_TEMPORARILY, drill.message)
            self._paid.add(refund.id)
            return PayoutOutcome(PayoutResult.ACCEPTED)

    def _set(self, card_account_id: str, drill: _Drill) -> None:
        with self._lock:
            if card_account_id not in self._drills and len(self._drills) >= MAX_DRILLS:
                raise InvalidInput(f"at most {MAX_DRILLS} drills", code=RefundCode.DRILL_INVALID)
            self._drills[card_account_id] = drill
