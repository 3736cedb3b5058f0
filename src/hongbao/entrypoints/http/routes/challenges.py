"""/v1/challenges: step-up verifications (SMS code, face, corporate account, security
environment) opened, read and answered by their owner on the token's device (R-A2, R-A4,
R-D2). The expected answer never leaves hongbao; an operator reads the simulated provider's
code at /v1/operator/challenges/{id}/code."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hongbao.entrypoints.http.auth.tokens import AuthError, Principal
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.entrypoints.http.context import (
    Caller,
    Context,
    IdempotencyKey,
    Lang,
    RawBody,
    User,
    derived_id,
    device_of,
    idempotent,
)
from hongbao.entrypoints.http.routes.responses import READ, WRITE
from hongbao.entrypoints.http.schemas.recall import (
    AnswerBody,
    AnswerView,
    ChallengeBody,
    ChallengeView,
)
from hongbao.identity.verification import AnswerAttempt, Challenge, ChallengeRequest
from hongbao.platform.invariants import present

router = APIRouter(prefix="/v1/challenges", tags=["challenges"])


@router.post("", status_code=201, response_model=ChallengeView, responses=WRITE)
def open_challenge(
    body: ChallengeBody,
    request: Request,
    api: Context,
    who: User,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Open a check for the caller on the token's device; its id comes from the
    Idempotency-Key. The provider delivers the secret (an SMS code to the phone)."""

    def action() -> tuple[int, object]:
        key = present(idempotency_key, "idempotent() checked the Idempotency-Key")
        challenge_id = derived_id("ch", who, key)
        opened = api.services.identity.open_challenge(
            ChallengeRequest(
                challenge_id,
                body.kind,
                who.subject,
                device_of(who),
                body.purpose,
                corporate_account=body.corporate_account,
            )
        )
        view = ChallengeView.of(opened, api.services.clock.now_us())
        return 201, view.model_dump(mode="json")

    return idempotent(api, request, who, idempotency_key, raw, lang, action)


@router.get("/{challenge_id}", response_model=ChallengeView, responses=READ)
def show_challenge(challenge_id: str, api: Context, who: Caller) -> ChallengeView:
    """A check's state and attempts left: for its owner and operators."""
    challenge = _own_challenge(api.services.identity.challenge(challenge_id), who)
    return ChallengeView.of(challenge, api.services.clock.now_us())


@router.post("/{challenge_id}/answers", response_model=AnswerView, responses=WRITE)
def answer_challenge(
    challenge_id: str,
    body: AnswerBody,
    request: Request,
    api: Context,
    who: User,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The owner answers from the device the check was opened for, naming its purpose. Wrong
    answers, a lock and expiry are results (200); a repeat under one key is one attempt."""
    _own_challenge(api.services.identity.challenge(challenge_id), who)

    def action() -> tuple[int, object]:
        attempt = AnswerAttempt(who.subject, device_of(who), body.purpose, body.answer)
        outcome = api.services.identity.answer_challenge(challenge_id, attempt)
        return 200, AnswerView.of(challenge_id, outcome).model_dump(mode="json")

    return idempotent(api, request, who, idempotency_key, raw, lang, action)


def _own_challenge(challenge: Challenge, who: Principal) -> Challenge:
    if not who.is_operator and challenge.user_id != who.subject:
        raise AuthError("this check is not yours", code=AuthCode.NOT_YOURS)
    return challenge
