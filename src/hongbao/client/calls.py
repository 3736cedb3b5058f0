"""Every route the client knows, as a :class:`Call`: what to send and how to read the answer.

The sync and async clients run the same calls, so a route is written once, here. A call that
changes state carries its Idempotency-Key (a new uuid4 unless the caller gives one) and its body
as bytes, so each retry sends exactly the same request.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Generic, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from hongbao.client import models
from hongbao.client.history import PacketHistory
from hongbao.client.wire import JsonObject, JsonValue, dumps
from hongbao.money import Money

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[JsonValue], T]
    body: bytes | None = None
    key: str | None = None  # the Idempotency-Key of a state change
    params: tuple[tuple[str, str], ...] = ()
    place: str | None = None  # "lat,lon" sent as Hongbao-Geo (risk control's travel rule)


def new_key() -> str:
    return str(uuid.uuid4())


def one(model: type[M]) -> Callable[[JsonValue], M]:
    return model.model_validate


def many(model: type[M]) -> Callable[[JsonValue], list[M]]:
    def parse(value: JsonValue) -> list[M]:
        if not isinstance(value, list):
            raise TypeError(f"expected a list of {model.__name__}")
        return [model.model_validate(item) for item in value]

    return parse


def _path(*parts: str) -> str:
    """Ids go into the path escaped, so an id can never reach another route."""
    return "/v1/" + "/".join(quote(part, safe="") for part in parts)


def _get(parse: Callable[[JsonValue], T], *parts: str, **params: str) -> Call[T]:
    return Call("GET", _path(*parts), parse, params=tuple(params.items()))


def _post(
    parse: Callable[[JsonValue], T], body: JsonObject | None, key: str | None, *parts: str
) -> Call[T]:
    content = None if body is None else dumps(body)
    return Call("POST", _path(*parts), parse, content, key or new_key())


def _drop_none(body: dict[str, JsonValue]) -> JsonObject:
    return {name: value for name, value in body.items() if value is not None}


# ------------------------------------------------------------------------------ packets


def send_packet(
    packet_type: str,
    amount: str | Money,
    shares: int,
    funding_source_id: str,
    *,
    group_id: str | None,
    recipient_id: str | None,
    currency: str,
    key: str | None,
    confirm: bool = False,
    deliver_at: datetime | None = None,
) -> Call[models.Packet]:
    """A send the guard stops raises ``ApiError`` ``packets.confirmation_needed`` (its
    ``details``: reasons and ``offered_deliver_at``); send it again with the same key and
    ``confirm=True``, or with ``deliver_at`` (a delayed send)."""
    if isinstance(amount, Money):
        text, currency = amount.format(), amount.currency.code
    elif isinstance(amount, str):
        text = amount
    else:
        raise TypeError("an amount is decimal text ('88.88') or a Money, never a float")
    body = _drop_none(
        {
            "type": packet_type,
            "amount": text,
            "currency": currency,
            "shares": shares,
            "funding_source_id": funding_source_id,
            "group_id": group_id,
            "recipient_id": recipient_id,
            "confirm": True if confirm else None,
            "deliver_at": _aware(deliver_at).isoformat() if deliver_at is not None else None,
        }
    )
    return _post(one(models.Packet), body, key, "packets")


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("deliver_at needs its time zone (an aware datetime)")
    return moment


def cancel_scheduled(packet_id: str, key: str | None) -> Call[models.Packet]:
    return _post(one(models.Packet), None, key, "packets", packet_id, "cancellations")


def guard_decision(decision_id: str) -> Call[models.GuardDecision]:
    return _get(one(models.GuardDecision), "guard-decisions", decision_id)


def claim(packet_id: str, key: str | None) -> Call[models.Claim]:
    return _post(one(models.Claim), None, key, "packets", packet_id, "claims")


def packet(packet_id: str) -> Call[models.Packet]:
    return _get(one(models.Packet), "packets", packet_id)


def claims(packet_id: str) -> Call[list[models.Share]]:
    return _get(many(models.Share), "packets", packet_id, "claims")


def history(packet_id: str) -> Call[PacketHistory]:
    return _get(one(PacketHistory), "packets", packet_id, "history")


# ------------------------------------------------------------------------------ recalls


def recall_eligibility(packet_id: str) -> Call[models.Eligibility]:
    return _get(one(models.Eligibility), "packets", packet_id, "recall-eligibility")


def recall(
    packet_id: str,
    key: str | None,
    challenge_ids: Sequence[str],
    accept_balance: bool,
    place: str | None = None,
) -> Call[models.Recall]:
    body: JsonObject = {"challenge_ids": list(challenge_ids), "accept_balance": accept_balance}
    call = _post(one(models.Recall), body, key, "packets", packet_id, "recalls")
    return replace(call, place=place)


def recall_status(recall_key: str) -> Call[models.Recall]:
    return _get(one(models.Recall), "recalls", recall_key)


def decision(decision_id: str) -> Call[models.Decision]:
    return _get(one(models.Decision), "decisions", decision_id)


def create_challenge(
    kind: str, purpose: str, corporate_account: str | None, key: str | None
) -> Call[models.Challenge]:
    body = _drop_none({"kind": kind, "purpose": purpose, "corporate_account": corporate_account})
    return _post(one(models.Challenge), body, key, "challenges")


def challenge(challenge_id: str) -> Call[models.Challenge]:
    return _get(one(models.Challenge), "challenges", challenge_id)


def answer_challenge(
    challenge_id: str, purpose: str, answer: str, key: str | None
) -> Call[models.Answer]:
    body: JsonObject = {"purpose": purpose, "answer": answer}
    return _post(one(models.Answer), body, key, "challenges", challenge_id, "answers")


def unlock_device(challenge_id: str, key: str | None) -> Call[models.DeviceLock]:
    body: JsonObject = {"challenge_id": challenge_id}
    return _post(one(models.DeviceLock), body, key, "me", "device", "unlock")


# ------------------------------------------------------------------------------ refunds, me


def refund(refund_id: str) -> Call[models.Refund]:
    return _get(one(models.Refund), "refunds", refund_id)


def refunds_of(user_id: str, limit: int) -> Call[list[models.Refund]]:
    return _get(many(models.Refund), "users", user_id, "refunds", limit=str(limit))


def me() -> Call[models.Me]:
    return _get(one(models.Me), "me")


# ------------------------------------------------------------------------------ events

MY_EVENTS = "/v1/me/events"


def events_path(packet_id: str) -> str:
    return _path("packets", packet_id, "events")


# ------------------------------------------------------------------------------ operators


def challenge_code(challenge_id: str) -> Call[models.ChallengeCode]:
    return _get(one(models.ChallengeCode), "operator", "challenges", challenge_id, "code")


def ledger_verify() -> Call[models.LedgerVerification]:
    return _get(one(models.LedgerVerification), "operator", "ledger", "verify")


def refunds_in_state(state: str, limit: int) -> Call[list[models.Refund]]:
    return _get(many(models.Refund), "operator", "refunds", state=state, limit=str(limit))


def credit_refund(refund_id: str, key: str | None) -> Call[models.Refund]:
    return _post(one(models.Refund), None, key, "operator", "refunds", refund_id, "credit")


def issue_token(
    subject: str,
    *,
    role: str,
    device_id: str | None,
    sim_id: str | None,
    lifetime_seconds: int,
    key: str | None,
) -> Call[models.IssuedToken]:
    body = _drop_none(
        {
            "subject": subject,
            "role": role,
            "device_id": device_id,
            "sim_id": sim_id,
            "lifetime_seconds": lifetime_seconds,
        }
    )
    return _post(one(models.IssuedToken), body, key, "operator", "tokens")


def revoke_token(token: str, key: str | None) -> Call[models.RevokedToken]:
    return _post(one(models.RevokedToken), {"token": token}, key, "operator", "tokens", "revoke")
