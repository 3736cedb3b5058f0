"""Card-funded packets: a 15-minute authorization hold, paid out claim by claim (R-P2, R-X1).

A card-funded send does not charge the card. It opens a ledger *pending* transfer (the
authorization) from the card for the whole packet, and claims may start at once:

- Each claim inside the window captures exactly the claimed share from the hold (a partial
  post, which releases the rest) and re-authorizes what is left under the next hold id, in the
  same transaction. The card is charged for claimed money only, and escrow receives it just in
  time to pay the claimer, so escrow never holds money the card was not charged for.
- When the window ends (the scheduled capture, or any claim or expiry that finds the window
  over, whichever comes first) the open hold is posted in full: the card is charged for the
  rest and escrow holds the unclaimed remainder like any other packet.
- A recall inside the window (issue #5) voids the open hold instead, so the card is charged
  only for what was claimed, with no fee.

The hold's ledger timeout is a backstop far longer than the window (``card_hold_backstop_hours``):
the capture is the job's, and a capture that runs late must never find its hold released.

A foreign-currency card is charged in its own currency at the rate recorded at send time. The
card's legs go to the FX position in the card's currency and escrow is funded from the FX
position in the packet's currency, so each ledger transfer stays in one currency. The charge for
``c`` claimed fen is ``round_half_up(c * rate)`` taken cumulatively, so the charges of the
claims and the capture add up to exactly the charge for the whole packet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from hongbao.ledger import operations as ledger_operations
from hongbao.ledger.model import AccountKind, NewAccount, TransferKind, TransferRequest
from hongbao.ledger.results import TransferResultCode
from hongbao.money import Money, convert
from hongbao.packets.model import Share
from hongbao.packets.ports import UnitOfWork
from hongbao.platform.clock import MICROSECONDS_PER_SECOND
from hongbao.platform.invariants import invariant


class TransferCode:
    """Why money moved, on every ledger transfer a packet makes."""

    SEND = 101
    CLAIM = 102
    EXPIRY_REFUND = 103  # before refunds had routes; refunds use hongbao.refunds.settlement's
    CARD_HOLD = 104
    CARD_CAPTURE = 105
    FX_FUNDING = 106
    RECALL_REFUND = 107  # before refunds had routes, as EXPIRY_REFUND
    CARD_VOID = 108
    # A delayed send's money (R-B1): reserved at sending, posted at delivery or voided on
    # cancel.
    SCHEDULED_RESERVE = 109
    SCHEDULED_DELIVERY = 110
    SCHEDULED_CANCEL = 111


class AuthorizationState(StrEnum):
    HELD = "held"  # the window is open; a hold for the unclaimed part is pending
    CAPTURED = "captured"  # the card was charged for the whole packet
    RELEASED = "released"  # a recall in the window voided the rest (issue #5)


@dataclass(frozen=True, slots=True)
class CardAuthorization:
    packet_id: str
    card_account_id: str
    charge_currency: str
    authorized_minor: int  # the whole packet in the card's currency
    charged_minor: int  # captured so far, in the card's currency
    packet_currency: str
    fx_rate: str | None  # 1 packet-currency unit in card currency; None for a domestic card
    fx_rate_as_of_us: int | None
    fx_rate_source: str | None
    state: AuthorizationState
    window_ends_at_us: int
    backstop_at_us: int
    sequence: int  # the open hold is ``hold:{packet}:{sequence}``
    closed_at_us: int | None

    @property
    def hold_id(self) -> str:
        return f"hold:{self.packet_id}:{self.sequence}"

    @property
    def open_minor(self) -> int:
        """What the open hold reserves on the card."""
        return self.authorized_minor - self.charged_minor if self.is_held else 0

    @property
    def is_held(self) -> bool:
        return self.state is AuthorizationState.HELD

    @property
    def is_foreign(self) -> bool:
        return self.fx_rate is not None

    @property
    def card_leg_account_id(self) -> str:
        """Where the card's money goes: escrow directly, or the FX position of its currency."""
        return f"fx:{self.charge_currency}" if self.is_foreign else f"escrow:{self.packet_id}"

    def charge_for(self, packet_minor: int) -> int:
        """The card-currency charge for ``packet_minor`` of the packet's currency."""
        if self.fx_rate is None:
            return packet_minor
        amount = Money.of(packet_minor, self.packet_currency)
        return convert(
            amount, Decimal(self.fx_rate), self.charge_currency, ROUND_HALF_UP
        ).target.minor


def fx_accounts(*currencies: str) -> list[NewAccount]:
    return [NewAccount(f"fx:{code}", AccountKind.FX_POSITION, code) for code in currencies]


def open_hold(uow: UnitOfWork, authorization: CardAuthorization, now_us: int) -> bool:
    """The authorization at send time; False when the card cannot cover it."""
    invariant(
        authorization.sequence == 0 and authorization.is_held,
        "a new hold",
        hold=authorization.hold_id,
    )
    if authorization.is_foreign:
        created = ledger_operations.create_accounts(
            uow.ledger,
            fx_accounts(authorization.charge_currency, authorization.packet_currency),
            now_us,
        )
        invariant(all(result.succeeded for result in created), "the FX positions exist")
    (result,) = ledger_operations.create_transfers(
        uow.ledger, [_hold_request(authorization, authorization.authorized_minor, now_us)], now_us
    )
    if result.code is TransferResultCode.EXCEEDS_CREDITS:
        return False
    invariant(
        result.succeeded,
        "the card hold opens",
        hold=authorization.hold_id,
        result=result.code.value,
    )
    return True


def take(
    uow: UnitOfWork,
    authorization: CardAuthorization,
    claimed_before: int,
    share: Share,
    now_us: int,
) -> CardAuthorization:
    """Charge the card for one claimed share and move it into escrow; re-hold the rest."""
    share_minor = share.amount_minor
    invariant(
        authorization.is_held, "shares are taken from an open hold", hold=authorization.hold_id
    )
    charged_after = authorization.charge_for(claimed_before + share_minor)
    taken = charged_after - authorization.charged_minor
    rest = authorization.authorized_minor - charged_after
    invariant(taken >= 0 and rest >= 0, "a claim takes within the hold", hold=authorization.hold_id)
    requests: list[TransferRequest] = []
    following = authorization
    if taken > 0:
        requests.append(_post_request(authorization, taken))
        following = replace(
            authorization,
            charged_minor=charged_after,
            sequence=authorization.sequence + (1 if rest > 0 else 0),
            state=AuthorizationState.HELD if rest > 0 else AuthorizationState.CAPTURED,
            closed_at_us=None if rest > 0 else now_us,
        )
        if rest > 0:
            requests.append(_hold_request(following, rest, now_us))
    if authorization.is_foreign:
        requests.append(_fx_funding_request(authorization, share_minor, f"share-{share.position}"))
    _apply(uow, requests, now_us, authorization)
    return following


def capture(
    uow: UnitOfWork,
    authorization: CardAuthorization,
    claimed_minor: int,
    total_minor: int,
    now_us: int,
) -> CardAuthorization:
    """Charge the card for everything still held; escrow then holds the unclaimed remainder."""
    invariant(authorization.is_held, "only an open hold is captured", hold=authorization.hold_id)
    requests = [_post_request(authorization, None)]
    if authorization.is_foreign and total_minor > claimed_minor:
        requests.append(_fx_funding_request(authorization, total_minor - claimed_minor, "capture"))
    _apply(uow, requests, now_us, authorization)
    return replace(
        authorization,
        charged_minor=authorization.authorized_minor,
        state=AuthorizationState.CAPTURED,
        closed_at_us=now_us,
    )


def release(uow: UnitOfWork, authorization: CardAuthorization, now_us: int) -> CardAuthorization:
    """A recall inside the window: void what is still held; the card keeps only what was taken."""
    invariant(authorization.is_held, "only an open hold is released", hold=authorization.hold_id)
    request = TransferRequest(
        f"void:{authorization.packet_id}:{authorization.sequence}",
        TransferCode.CARD_VOID,
        None,
        kind=TransferKind.VOID_PENDING,
        pending_id=authorization.hold_id,
        reference=authorization.packet_id,
    )
    _apply(uow, [request], now_us, authorization)
    return replace(authorization, state=AuthorizationState.RELEASED, closed_at_us=now_us)


def _hold_request(authorization: CardAuthorization, amount: int, now_us: int) -> TransferRequest:
    remaining_us = authorization.backstop_at_us - now_us
    invariant(remaining_us > 0, "a hold is opened before its backstop", hold=authorization.hold_id)
    return TransferRequest(
        authorization.hold_id,
        TransferCode.CARD_HOLD,
        amount,
        authorization.card_account_id,
        authorization.card_leg_account_id,
        authorization.charge_currency,
        kind=TransferKind.PENDING,
        timeout_seconds=-(-remaining_us // MICROSECONDS_PER_SECOND),
        reference=authorization.packet_id,
    )


def _post_request(authorization: CardAuthorization, amount: int | None) -> TransferRequest:
    return TransferRequest(
        f"take:{authorization.packet_id}:{authorization.sequence}",
        TransferCode.CARD_CAPTURE,
        amount,
        kind=TransferKind.POST_PENDING,
        pending_id=authorization.hold_id,
        reference=authorization.packet_id,
    )


def _fx_funding_request(
    authorization: CardAuthorization, amount: int, label: str
) -> TransferRequest:
    return TransferRequest(
        f"fund:{authorization.packet_id}:{label}",
        TransferCode.FX_FUNDING,
        amount,
        f"fx:{authorization.packet_currency}",
        f"escrow:{authorization.packet_id}",
        authorization.packet_currency,
        reference=authorization.packet_id,
    )


def _apply(
    uow: UnitOfWork, requests: list[TransferRequest], now_us: int, authorization: CardAuthorization
) -> None:
    results = ledger_operations.create_transfers(uow.ledger, requests, now_us)
    for request, result in zip(requests, results, strict=True):
        invariant(
            result.code is TransferResultCode.OK,
            "a card hold moves as planned",
            transfer_id=request.id,
            hold=authorization.hold_id,
            result=result.code.value,
        )
