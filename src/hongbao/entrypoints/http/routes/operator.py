"""/v1/operator: what only operators do — the refund queue, balance credits, the simulated
provider's codes, the R-M2 report and bearer tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from hongbao.entrypoints.http.auth.revocation import revoke
from hongbao.entrypoints.http.auth.tokens import Role
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.entrypoints.http.context import (
    Context,
    IdempotencyKey,
    Lang,
    Operator,
    RawBody,
    idempotent,
)
from hongbao.entrypoints.http.errors import ApiError
from hongbao.entrypoints.http.routes.responses import READ, WRITE
from hongbao.entrypoints.http.schemas.operator import (
    LedgerReportView,
    PacketReportView,
    RefundReportView,
    RevokeBody,
    RevokedView,
    TokenBody,
    TokenView,
    VerifyView,
)
from hongbao.entrypoints.http.schemas.recall import CodeView
from hongbao.entrypoints.http.schemas.refunds import RefundView
from hongbao.identity.devices import DeviceFingerprint
from hongbao.identity.service import IdentityService
from hongbao.identity.verification import OperatorContext, SimulatedProvider, VerificationErrorCode
from hongbao.ledger.service import verify_ledger
from hongbao.packets.verification import verify_packets
from hongbao.platform.invariants import present
from hongbao.refunds.desk import MAX_LISTED
from hongbao.refunds.records import RefundState
from hongbao.refunds.verification import verify_refunds
from hongbao.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/operator", tags=["operator"])
Limit = Annotated[int, Query(ge=1, le=MAX_LISTED, description="at most this many")]


@router.get("/refunds", response_model=list[RefundView], responses=READ)
def refunds_in_state(
    api: Context,
    _: Operator,
    state: RefundState = RefundState.IN_CLEARING,
    limit: Limit = 100,
) -> list[RefundView]:
    """Refunds in one state, oldest first (``failed`` is the queue for balance credits)."""
    return [RefundView.of(refund) for refund in api.services.refunds.in_state(state, limit)]


@router.post("/refunds/{refund_id}/credit", response_model=RefundView, responses=WRITE)
def credit_refund(
    refund_id: str,
    request: Request,
    api: Context,
    who: Operator,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Credit a failed refund's whole amount to the sender's balance; the operator is
    recorded. Only a failed refund can be credited (409 otherwise)."""

    def action() -> tuple[int, object]:
        refund = api.services.refunds.credit_to_balance(refund_id, who.subject)
        return 200, RefundView.of(refund).model_dump(mode="json")

    return idempotent(api, request, who, idempotency_key, raw, lang, action)


@router.get("/challenges/{challenge_id}/code", response_model=CodeView, responses=READ)
def reveal_code(challenge_id: str, api: Context, who: Operator) -> CodeView:
    """The simulated provider's SMS code of a check, for demos and drills. A real provider
    never reveals one (422)."""
    identity = api.services.identity
    if not isinstance(identity.provider, SimulatedProvider):
        raise ApiError(
            "codes can be revealed only by the simulated provider",
            code=VerificationErrorCode.REVEAL_NOT_SUPPORTED,
        )
    code = identity.operator_reveal_code(challenge_id, OperatorContext(who.subject, True))
    return CodeView(challenge_id=challenge_id, code=code)


@router.get("/ledger/verify", response_model=VerifyView, responses=READ)
def verify(api: Context, _: Operator) -> VerifyView:
    """Every invariant of R-M2 on one snapshot: the ledger's, then every packet and refund
    against it. ``ok`` is false when any of the three found a problem."""
    ledger, packets, refunds = api.services.database.read(
        lambda uow: (verify_ledger(uow), verify_packets(uow), verify_refunds(uow))
    )
    return VerifyView(
        ok=ledger.ok and packets.ok and refunds.ok,
        ledger=LedgerReportView.of(ledger),
        packets=PacketReportView.of(packets),
        refunds=RefundReportView.of(refunds),
    )


@router.post("/tokens", status_code=201, response_model=TokenView, responses=WRITE)
def issue_token(
    body: TokenBody,
    request: Request,
    api: Context,
    who: Operator,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Issue a bearer token: for a user on one of their registered devices, or for an
    operator (no device)."""

    def action() -> tuple[int, object]:
        now_us = api.services.clock.now_us()
        device = _device(api.services.identity, body) if body.role is Role.USER else None
        token, principal = api.signer.issue(
            body.subject,
            body.role,
            now_us=now_us,
            lifetime_seconds=body.lifetime_seconds,
            device=device,
        )
        return 201, TokenView.of(token, principal).model_dump(mode="json")

    return idempotent(api, request, who, idempotency_key, raw, lang, action)


@router.post("/tokens/revoke", response_model=RevokedView, responses=WRITE)
def revoke_token(
    body: RevokeBody,
    request: Request,
    api: Context,
    who: Operator,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Revoke a token (one of ours, unexpired): it is refused from then on. Twice is fine."""

    def action() -> tuple[int, object]:
        revoked = revoke(api.services, api.signer, body.token, who.subject)
        view = RevokedView(
            token_id=revoked.token_id,
            subject=revoked.subject,
            revoked_at_us=revoked.revoked_at_us,
            revoked_by=revoked.revoked_by,
        )
        return 200, view.model_dump(mode="json")

    return idempotent(api, request, who, idempotency_key, raw, lang, action)


def _device(identity: IdentityService[UnitOfWork], body: TokenBody) -> tuple[str, str]:
    """A user token's device: registered, and the user's own (the body's variant has made
    sure a user token names one)."""
    device_id = present(body.device_id, "a user token's body names its device")
    sim_id = present(body.sim_id, "a user token's body names its SIM")
    registered = identity.device(DeviceFingerprint(device_id, sim_id))
    if registered.user_id != body.subject:
        raise ApiError(f"that device is not {body.subject}'s", code=AuthCode.DEVICE_OF_ANOTHER)
    return device_id, sim_id
