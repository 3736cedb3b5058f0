"""/v1/me/device/unlock: a user unlocks the device risk control locked, the one their token is
for, with a passed face verification (R-K1's step-up unlock)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hongbao.entrypoints.http.context import (
    Context,
    IdempotencyKey,
    Lang,
    RawBody,
    User,
    device_of,
    idempotent,
)
from hongbao.entrypoints.http.routes.responses import WRITE
from hongbao.entrypoints.http.schemas.risk import DeviceLockView, UnlockBody
from hongbao.entrypoints.ops.metrics import observe_review

router = APIRouter(prefix="/v1/me/device", tags=["risk"])


@router.post("/unlock", response_model=DeviceLockView, responses=WRITE)
def unlock_my_device(
    body: UnlockBody,
    request: Request,
    api: Context,
    who: User,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Spend a passed face check (opened on this device with the purpose
    ``unlock:<device id>``) to unlock the device: it may send, claim and recall again, and the
    lock's case in the review queue is decided by the user."""

    def action() -> tuple[int, object]:
        unlocked = api.services.reviews.unlock_with_face(
            who.subject, device_of(who), body.challenge_id
        )
        observe_review("unlocked")
        return 200, DeviceLockView.of(unlocked).model_dump(mode="json")

    return idempotent(api, request, who, idempotency_key, raw, lang, action)
