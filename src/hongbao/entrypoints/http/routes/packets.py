"""/v1/packets: send, claim, status and claims (R-P1..R-P5, R-A5)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hongbao.entrypoints.http.auth.tokens import AuthError, Principal
from hongbao.entrypoints.http.claims import ClaimCall
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.entrypoints.http.context import (
    Caller,
    Context,
    IdempotencyKey,
    Lang,
    MoneyUser,
    RawBody,
    derived_id,
    device_of,
    on_money_path,
)
from hongbao.entrypoints.http.errors import error_body, status_for
from hongbao.entrypoints.http.idempotency import check_key, keyed_reply, request_hash
from hongbao.entrypoints.http.schemas import (
    Amount,
    ClaimView,
    ErrorView,
    PacketView,
    SendPacketBody,
    ShareView,
)
from hongbao.entrypoints.http.schemas.history import PacketHistoryView
from hongbao.money import Money
from hongbao.packets.guarding import GuardStop
from hongbao.packets.history import is_participant, read_history, shown_to
from hongbao.packets.model import Packet, PacketState, PacketType
from hongbao.packets.service import SendPacket
from hongbao.platform.clock import from_datetime
from hongbao.platform.i18n import Language
from hongbao.platform.invariants import present
from hongbao.platform.pipeline import Answer, Keyed, Prepared
from hongbao.social.service import is_group_member
from hongbao.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/packets", tags=["packets"])
# A delayed send is its sender's until it is delivered.
UNDELIVERED = frozenset({PacketState.SCHEDULED, PacketState.CANCELLED})
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorView} for code in (401, 403, 404, 409, 422, 429, 503)
}


@router.post("", status_code=201, response_model=PacketView, responses=ERRORS)
def send_packet(
    body: SendPacketBody,
    request: Request,
    api: Context,
    caller: MoneyUser,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Send a red packet from the caller's device. The packet id is derived from the
    Idempotency-Key: a repeat returns the first packet and moves money once.

    A send the guard finds risky (R-B1) answers 409 ``packets.confirmation_needed`` with its
    reasons and a delayed time offered, and moves nothing; repeat it under the same key with
    ``confirm`` (send now) or ``deliver_at`` (a delayed send, state ``scheduled``)."""
    who = caller.who

    def prepare(uow: UnitOfWork, _fingerprint: str) -> Prepared:
        key = present(idempotency_key, "on_money_path() checked the Idempotency-Key")
        command = SendPacket(
            packet_id=derived_id("p", who, key),
            packet_type=body.type,
            sender_id=who.subject,
            amount=Money.parse(body.amount, body.currency),
            shares=body.shares,
            funding_source_id=body.funding_source_id,
            recipient_id=body.recipient_id,
            group_id=body.group_id,
            device=device_of(who),
            purpose=body.purpose,
            confirm=body.confirm,
            deliver_at_us=None if body.deliver_at is None else from_datetime(body.deliver_at),
        )
        send = api.services.packets.prepare_guarded_send(uow, command)

        def step() -> Answer:
            outcome = send()
            if isinstance(outcome, GuardStop):
                return _confirmation_needed(outcome, lang)
            return Answer(201, PacketView.of(outcome).model_dump(mode="json"))

        return Prepared(step)

    # A confirmed or delayed repeat of a guarded send carries the same key with another body.
    answers_guard = body.confirm or body.deliver_at is not None
    return on_money_path(
        api, request, caller, idempotency_key, raw, lang, prepare, continuable=answers_guard
    )


@router.post("/{packet_id}/cancellations", response_model=PacketView, responses=ERRORS)
def cancel_scheduled(
    packet_id: str,
    request: Request,
    api: Context,
    caller: MoneyUser,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Cancel a delayed send before its delivery (R-B1): the reserved money is released, no
    fee, whatever the source. Refused once the packet was delivered (``packets.not_scheduled``);
    a delivery and a cancel racing each other resolve to exactly one of them."""
    who = caller.who

    def prepare(_uow: UnitOfWork, _fingerprint: str) -> Prepared:
        def step() -> Answer:
            cancelled = api.services.packets.cancel_scheduled(packet_id, who.subject)
            return Answer(200, PacketView.of(cancelled).model_dump(mode="json"))

        return Prepared(step)

    return on_money_path(api, request, caller, idempotency_key, raw, lang, prepare)


@router.post("/{packet_id}/claims", response_model=ClaimView, responses=ERRORS)
async def claim_packet(
    packet_id: str,
    request: Request,
    api: Context,
    caller: MoneyUser,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Claim a share for the caller. Expected outcomes (already claimed, empty, expired, not a
    member…) are results with status 200, not errors. Claims are committed in groups: under
    load, many callers' claims share one transaction (each still answered on its own)."""
    key = check_key(idempotency_key)
    fingerprint = request_hash(request.method, request.url.path, raw, api.fingerprint_key)
    who = caller.who
    call = ClaimCall(
        who, Keyed(who.subject, key, fingerprint), packet_id, lang, caller.wants_device_label
    )
    return keyed_reply((await api.claims.answer(call)).response, key)


@router.get("/{packet_id}", response_model=PacketView, responses=ERRORS)
def packet_status(packet_id: str, api: Context, who: Caller) -> PacketView:
    """A packet's state and amounts: for its sender, its audience and operators (R-A5)."""
    packet = api.services.packets.packet(packet_id)
    _ensure_audience(api, who, packet)
    return PacketView.of(packet)


@router.get("/{packet_id}/claims", response_model=list[ShareView], responses=ERRORS)
def packet_claims(packet_id: str, api: Context, who: Caller) -> list[ShareView]:
    """The claimed shares the caller may see: the sender and claimers of a group packet see
    them all, a personal packet's recipient sees their own (as in WeChat)."""
    packet = api.services.packets.packet(packet_id)
    _ensure_audience(api, who, packet)
    shares = (
        api.services.packets.shares(packet_id)
        if who.is_operator
        else api.services.packets.claims_seen_by(packet_id, who.subject)
    )
    return [
        ShareView(
            position=s.position,
            amount=Amount.of(s.amount_minor, packet.currency),
            claimed_by=s.claimed_by,
            claimed_at_us=s.claimed_at_us,
        )
        for s in shares
        if s.claimed_by is not None
    ]


def _confirmation_needed(stop: GuardStop, lang: Language) -> Answer:
    """The guard's answer, committed with its decision (nothing else was written)."""
    error = stop.error()
    body = error_body(
        error.code,
        error.message,
        lang,
        details=error.details,
        decision_id=stop.decision.decision_id,
    )
    return Answer(status_for(error), body)


@router.get("/{packet_id}/history", response_model=PacketHistoryView, responses=ERRORS)
def packet_history(packet_id: str, api: Context, who: Caller) -> PacketHistoryView:
    """The packet's tamper-evident history (R-B2): every event of the packet as an entry of its
    hash chain, and the chain's head, for its participants: the sender, its claimers, a
    personal packet's recipient and operators. Events that are the sender's own are shown to
    the others with their payload withheld (their digest still links the chain)."""
    stored = read_history(api.services.database, packet_id)
    viewer = None if who.is_operator else who.subject
    if viewer is not None and not is_participant(stored.packet, stored.shares, viewer):
        raise AuthError("only the packet's participants see its history", code=AuthCode.NOT_YOURS)
    return PacketHistoryView.of(shown_to(stored.packet, stored.entries, viewer))


def _ensure_audience(api: Context, who: Principal, packet: Packet) -> None:
    if who.is_operator or who.subject == packet.sender_id:
        return
    if packet.state in UNDELIVERED:
        raise AuthError("this packet is not yours to see", code=AuthCode.NOT_YOURS)
    if packet.packet_type is PacketType.PERSONAL:
        if who.subject == packet.recipient_id:
            return
    else:
        now_us = api.services.clock.now_us()
        member = api.services.database.read(
            lambda uow: is_group_member(uow.social, packet.group_id, who.subject, now_us)
        )
        if member:
            return
    raise AuthError("this packet is not yours to see", code=AuthCode.NOT_YOURS)
