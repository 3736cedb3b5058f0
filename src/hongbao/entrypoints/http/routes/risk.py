"""/v1/operator/risk: the review queue of risk control (R-K5), for operators only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from hongbao.entrypoints.http.auth.tokens import Principal
from hongbao.entrypoints.http.context import (
    ApiContext,
    Context,
    IdempotencyKey,
    Lang,
    Operator,
    RawBody,
    idempotent,
)
from hongbao.entrypoints.http.routes.responses import READ, WRITE
from hongbao.entrypoints.http.schemas.risk import CaseView, DecisionBody, StatsView
from hongbao.entrypoints.ops.metrics import observe_review
from hongbao.platform.i18n import Language
from hongbao.recall.review import DEFAULT_STATS_DAYS, MAX_QUEUE
from hongbao.risk.cases import CaseState, RiskCase
from hongbao.risk.stats import MAX_STATS_DAYS

router = APIRouter(prefix="/v1/operator/risk", tags=["risk"])
Limit = Annotated[int, Query(ge=1, le=MAX_QUEUE, description="at most this many")]


@router.get("/cases", response_model=list[CaseView], responses=READ)
def review_queue(
    api: Context, _: Operator, state: CaseState = CaseState.OPEN, limit: Limit = 100
) -> list[CaseView]:
    """Held refunds and locked devices in one state, oldest first (``open``: the queue)."""
    return [CaseView.of(case) for case in api.services.reviews.queue(state, limit)]


@router.get("/stats", response_model=StatsView, responses=READ)
def review_stats(
    api: Context,
    _: Operator,
    days: Annotated[int, Query(ge=1, le=MAX_STATS_DAYS)] = DEFAULT_STATS_DAYS,
) -> StatsView:
    """The trigger rate (decisions at level >= 2 per decision) and the precision of level >= 2
    (reviewed cases confirmed per reviewed case) over the last ``days`` (R-K6)."""
    return StatsView.model_validate(api.services.reviews.stats(days).as_json())


@router.get("/cases/{case_id}", response_model=CaseView, responses=READ)
def review_case(case_id: str, api: Context, _: Operator) -> CaseView:
    """One case with its evidence and, once decided, who decided what, when and why."""
    return CaseView.of(api.services.reviews.case(case_id))


@router.post("/cases/{case_id}/release", response_model=CaseView, responses=WRITE)
def release(
    case_id: str,
    body: DecisionBody,
    request: Request,
    api: Context,
    who: Operator,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Release a held refund: its money moves on now, to where the recall sent it."""
    return _decide(
        api,
        request,
        (who, idempotency_key, raw, lang),
        lambda: api.services.reviews.release(case_id, who.subject, body.note),
    )


@router.post("/cases/{case_id}/confirm", response_model=CaseView, responses=WRITE)
def confirm(
    case_id: str,
    body: DecisionBody,
    request: Request,
    api: Context,
    who: Operator,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Confirm a hold as suspicious: the money stays held; ``escalate`` also freezes the
    account for money-moving operations (level 4)."""
    return _decide(
        api,
        request,
        (who, idempotency_key, raw, lang),
        lambda: api.services.reviews.confirm(
            case_id, who.subject, body.note, escalate=body.escalate
        ),
    )


@router.post("/cases/{case_id}/unlock", response_model=CaseView, responses=WRITE)
def unlock(
    case_id: str,
    body: DecisionBody,
    request: Request,
    api: Context,
    who: Operator,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Unlock a device risk control locked: it may send, claim and recall again."""
    return _decide(
        api,
        request,
        (who, idempotency_key, raw, lang),
        lambda: api.services.reviews.unlock(case_id, who.subject, body.note),
    )


def _decide(
    api: ApiContext,
    request: Request,
    parts: tuple[Principal, str | None, bytes, Language],
    decide: Callable[[], RiskCase],
) -> Response:
    """Run an operator's decision once per Idempotency-Key and count its outcome."""
    who, key, raw, lang = parts

    def action() -> tuple[int, object]:
        case: RiskCase = decide()
        observe_review(case.state.value)
        return 200, CaseView.of(case).model_dump(mode="json")

    return idempotent(api, request, who, key, raw, lang, action)
