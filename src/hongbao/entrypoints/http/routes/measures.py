"""/v1/operator/measures and /v1/me/help-views: education and device measures (R-U4, R-D4)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hongbao.entrypoints.http.context import (
    Context,
    IdempotencyKey,
    Lang,
    Operator,
    RawBody,
    User,
    idempotent,
)
from hongbao.entrypoints.http.routes.responses import READ, WRITE
from hongbao.entrypoints.http.schemas import Body
from hongbao.entrypoints.http.schemas.support import MeasuresView
from hongbao.recall.review import MAX_QUEUE
from hongbao.risk.cases import CaseState as RiskCaseState
from hongbao.support.cases import CaseState

router = APIRouter(tags=["measures"])


class HelpViewView(Body):
    counted: bool


@router.get("/v1/operator/measures", response_model=MeasuresView, responses=READ)
def measures(api: Context, _: Operator) -> MeasuresView:
    """Recall outcomes by day, refusal causes, figures per age band and per device model beside
    the source's baselines, risk levels, and the risk review and support queues."""
    services = api.services
    return MeasuresView.of(
        services.measures.dashboard(),
        risk_queue=len(services.reviews.queue(RiskCaseState.OPEN, MAX_QUEUE)),
        support_queue=services.support.queue_size(CaseState.OPEN),
    )


@router.post("/v1/me/help-views", response_model=HelpViewView, responses=WRITE)
def note_help_view(
    request: Request,
    api: Context,
    who: User,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The caller opened the help page: counted for their age band (once per key)."""

    def action() -> tuple[int, object]:
        api.services.measures.note_help_view(who.subject)
        return 200, {"counted": True}

    return idempotent(api, request, who, idempotency_key, raw, lang, action)
