"""Recall (撤回) over HTTP: the button, the recall itself, its status and its decisions.

The Idempotency-Key of ``POST /v1/packets/{id}/recalls`` is the recall key. A recall that asks
for verifications is answered ``challenged`` with the challenge ids it opened; answer them
(``POST /v1/challenges/{id}/answers``) and post the recall again under the same key with those
ids: each distinct body is its own idempotent request, and the recall service carries the one
recall forward (R-M3, R-M4). The answers are kept on the recall record itself, read with the
recall's own reads: the key is recorded once. Denials are answers (200, ``state: denied``),
explained in the request's language with the decision id to quote (R-U1).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from hongbao.entrypoints.http.auth.tokens import AuthError, Principal
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.entrypoints.http.context import (
    ApiContext,
    Caller,
    Conditions,
    Context,
    IdempotencyKey,
    Lang,
    MoneyUser,
    RawBody,
    User,
    device_of,
    on_money_path,
)
from hongbao.entrypoints.http.routes.responses import READ, WRITE
from hongbao.entrypoints.http.schemas.recall import (
    DecisionView,
    EligibilityView,
    RecallBody,
    RecallView,
)
from hongbao.entrypoints.ops.metrics import observe_decision, observe_recall
from hongbao.packets.model import Packet
from hongbao.packets.service import known_packet
from hongbao.packets.social_feed import recalled_packet
from hongbao.platform.i18n import Language
from hongbao.platform.invariants import present
from hongbao.platform.pipeline import Answer, Prepared
from hongbao.recall.errors import RecallCode
from hongbao.recall.gather import RecallError
from hongbao.recall.records import RecallAnswer
from hongbao.recall.service import RecallCommand, RecallOutcome
from hongbao.risk.geo import parse_place
from hongbao.social.words import RecallCost
from hongbao.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1", tags=["recalls"])


@router.get(
    "/packets/{packet_id}/recall-eligibility", response_model=EligibilityView, responses=READ
)
def recall_eligibility(
    packet_id: str, api: Context, who: User, lang: Lang, conditions: Conditions
) -> EligibilityView:
    """The recall button for the sender on the token's device: enabled, challenge (which
    checks) or disabled (the cause, what to do next), with the refund plan. Recorded as a
    decision; nothing moves."""
    packet = api.services.packets.packet(packet_id)
    _ensure_sender(packet, who.subject)
    device = device_of(who, conditions)
    decision = api.services.recalls.eligibility(packet_id, who.subject, device)
    observe_decision(decision)
    return EligibilityView.of(packet_id, decision, lang, social_cost_of(api, packet))


@router.post("/packets/{packet_id}/recalls", response_model=RecallView, responses=WRITE)
def recall_packet(
    packet_id: str,
    request: Request,
    api: Context,
    caller: MoneyUser,
    lang: Lang,
    raw: RawBody,
    conditions: Conditions,
    body: RecallBody | None = None,
    idempotency_key: IdempotencyKey = None,
    geo: Annotated[
        str | None,
        Header(
            alias="Hongbao-Geo",
            description="Where the request comes from: 'latitude,longitude' in decimal "
            "degrees (risk control's travel rule); absent means unknown.",
        ),
    ] = None,
) -> Response:
    """The sender recalls the packet from the device that sent it (R-A1). The Idempotency-Key
    is the recall key: repeat freely; after a challenge, repeat with the passed challenge ids
    (or ``accept_balance``). A key used for another packet is refused (409)."""
    who = caller.who
    wanted = body or RecallBody()
    place = parse_place(geo)

    def prepare(uow: UnitOfWork, fingerprint: str) -> Prepared:
        command = RecallCommand(
            idempotency_key=present(idempotency_key, "on_money_path() checked the key"),
            packet_id=packet_id,
            requester_id=who.subject,
            device=device_of(who, conditions),
            challenge_ids=tuple(wanted.challenge_ids),
            accept_balance=wanted.accept_balance,
            place=place,
        )
        attempt = _RecallAttempt(api, uow, command, fingerprint, lang)
        return Prepared(
            attempt.step,
            authorize=attempt.authorize,
            kept=attempt.kept,
            keeps_its_answers=True,
            committed=attempt.committed,
        )

    return on_money_path(
        api, request, caller, idempotency_key, raw, lang, prepare, continuable=True
    )


class _RecallAttempt:
    """One attempt at a recall inside the request's transaction: its reads are sent on
    creation, with the caller's and the key's; the recall record keeps the answer."""

    def __init__(
        self,
        api: ApiContext,
        uow: UnitOfWork,
        command: RecallCommand,
        fingerprint: str,
        lang: Language,
    ) -> None:
        self._recalls = api.services.recalls
        self._uow = uow
        self._command = command
        self._fingerprint = fingerprint
        self._lang = lang
        self._reads = self._recalls.read_in(uow, command)
        self._outcome: RecallOutcome | None = None

    def authorize(self) -> None:
        """Only the packet's sender recalls it; the packet was read (and locked) once."""
        packet = known_packet(self._command.packet_id, self._reads.packet)
        _ensure_sender(packet, self._command.requester_id)

    def kept(self) -> Answer | None:
        return _kept(self._reads.answer_to(self._command, self._fingerprint))

    def step(self) -> Answer:
        answers: list[RecallAnswer] = []

        def answer(outcome: RecallOutcome) -> RecallAnswer:
            view = RecallView.of(outcome, self._lang).model_dump(mode="json")
            answers.append(RecallAnswer(self._fingerprint, 200, view))
            return answers[-1]

        command, reads = self._command, self._reads
        self._outcome = self._recalls.recall_in(self._uow, command, reads, answer=answer)
        return Answer(answers[-1].status, answers[-1].body)

    def committed(self) -> None:
        """Counted once, after the commit of the attempt that recalled."""
        if self._outcome is not None:
            observe_recall(self._outcome)


def _kept(answer: RecallAnswer | None) -> Answer | None:
    return None if answer is None else Answer(answer.status, answer.body)


@router.get("/recalls/{recall_key}", response_model=RecallView, responses=READ)
def recall_status(recall_key: str, api: Context, who: Caller, lang: Lang) -> RecallView:
    """Where a recall stands now, by its key: for the sender who asked and operators."""
    outcome = api.services.recalls.status(recall_key)
    _ensure_own(who, outcome.recall.requester_id, "recall")
    return RecallView.of(outcome, lang)


@router.get("/decisions/{decision_id}", response_model=DecisionView, responses=READ)
def show_decision(decision_id: str, api: Context, who: Caller, lang: Lang) -> DecisionView:
    """A recorded decision: its policy version, every rule's outcome with the facts it used,
    and the explanation. For the requester and operators; shadow-policy decisions are for
    operators only."""
    record, decision = api.services.recalls.decision(decision_id)
    _ensure_own(who, record.requester_id, "decision")
    if record.shadow and not who.is_operator:
        raise RecallError(f"no decision {decision_id!r}", code=RecallCode.UNKNOWN_DECISION)
    return DecisionView.of(record, decision, lang)


def social_cost_of(api: ApiContext, packet: Packet) -> RecallCost:
    """What recalling ``packet`` now would cost its sender socially (R-S1..R-S5)."""
    now_us = api.services.clock.now_us()
    preview = recalled_packet(packet, f"preview:{packet.id}", packet.remainder_minor, now_us)
    return api.services.social.recall_cost(preview)


def _ensure_sender(packet: Packet, user_id: str) -> None:
    """R-A5: only the sender asks about or recalls a packet."""
    if packet.sender_id != user_id:
        raise AuthError("only the sender may recall this packet", code=AuthCode.NOT_YOURS)


def _ensure_own(who: Principal, owner_id: str, what: str) -> None:
    if not who.is_operator and who.subject != owner_id:
        raise AuthError(f"this {what} is not yours to see", code=AuthCode.NOT_YOURS)
