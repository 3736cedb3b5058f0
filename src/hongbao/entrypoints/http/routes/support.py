"""/v1/me/support: a person's support cases (R-U3); /v1/operator/support: the queue that
operators answer and close. A person sees their own cases only; every write takes an
Idempotency-Key and goes through the write pipeline, and each answer or closing is kept on the
case as a note (who, when, why)."""

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
    User,
    idempotent,
)
from hongbao.entrypoints.http.routes.responses import READ, WRITE
from hongbao.entrypoints.http.schemas.support import (
    CaseFileView,
    CaseView,
    OpenCaseBody,
    TextBody,
)
from hongbao.platform.i18n import Language
from hongbao.support.cases import Author, CaseState
from hongbao.support.service import MAX_QUEUE, CaseFile, CaseRequest

mine = APIRouter(prefix="/v1/me/support", tags=["support"])
desk = APIRouter(prefix="/v1/operator/support", tags=["support"])
Limit = Annotated[int, Query(ge=1, le=MAX_QUEUE, description="at most this many")]


@mine.get("/cases", response_model=list[CaseView], responses=READ)
def my_cases(api: Context, who: User, limit: Limit = 100) -> list[CaseView]:
    """The caller's cases, newest first, with their state."""
    found = api.services.support.cases_of(who.subject, limit)
    return [CaseView.of(case) for case in reversed(found)]


@mine.get("/cases/{support_case_id}", response_model=CaseFileView, responses=READ)
def my_case(support_case_id: str, api: Context, who: User) -> CaseFileView:
    """One of the caller's cases with its answers; another person's is not found."""
    return CaseFileView.of_file(api.services.support.case_of(who.subject, support_case_id))


@mine.post("/cases", response_model=CaseFileView, status_code=201, responses=WRITE)
def open_case(
    body: OpenCaseBody,
    request: Request,
    api: Context,
    who: User,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Ask support. The case carries the decision and packet named, the caller's device and
    their recent recall attempts on that packet, read by hongbao (not taken from the body)."""
    request_of = CaseRequest(
        user_id=who.subject,
        device_id=who.device_id or "-",
        origin=body.origin,
        question=body.question,
        decision_id=body.decision_id,
        packet_id=body.packet_id,
    )
    return _write(
        api,
        request,
        (who, idempotency_key, raw, lang),
        201,
        lambda: api.services.support.open(request_of),
    )


@mine.post("/cases/{support_case_id}/notes", response_model=CaseFileView, responses=WRITE)
def write_to_case(
    support_case_id: str,
    body: TextBody,
    request: Request,
    api: Context,
    who: User,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Add to one's own case: it waits for an operator again."""
    return _write(
        api,
        request,
        (who, idempotency_key, raw, lang),
        200,
        lambda: api.services.support.write(support_case_id, who.subject, body.text),
    )


@mine.post("/cases/{support_case_id}/close", response_model=CaseFileView, responses=WRITE)
def close_my_case(
    support_case_id: str,
    body: TextBody,
    request: Request,
    api: Context,
    who: User,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Close one's own case (solved), saying why."""
    return _write(
        api,
        request,
        (who, idempotency_key, raw, lang),
        200,
        lambda: api.services.support.close(support_case_id, (Author.USER, who.subject), body.text),
    )


@desk.get("/cases", response_model=list[CaseView], responses=READ)
def queue(
    api: Context, _: Operator, state: CaseState = CaseState.OPEN, limit: Limit = 100
) -> list[CaseView]:
    """Cases in one state, oldest first (``open``: the queue waiting for an answer)."""
    return [CaseView.of(case) for case in api.services.support.queue(state, limit)]


@desk.get("/cases/{support_case_id}", response_model=CaseFileView, responses=READ)
def case(support_case_id: str, api: Context, _: Operator) -> CaseFileView:
    """A case with its context (decision, packet, device, attempts) and its notes."""
    return CaseFileView.of_file(api.services.support.case(support_case_id))


@desk.post("/cases/{support_case_id}/answer", response_model=CaseFileView, responses=WRITE)
def answer(
    support_case_id: str,
    body: TextBody,
    request: Request,
    api: Context,
    who: Operator,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Answer the person: they see it on their case."""
    return _write(
        api,
        request,
        (who, idempotency_key, raw, lang),
        200,
        lambda: api.services.support.answer(support_case_id, who.subject, body.text),
    )


@desk.post("/cases/{support_case_id}/close", response_model=CaseFileView, responses=WRITE)
def close(
    support_case_id: str,
    body: TextBody,
    request: Request,
    api: Context,
    who: Operator,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Close the case, saying why."""
    return _write(
        api,
        request,
        (who, idempotency_key, raw, lang),
        200,
        lambda: api.services.support.close(
            support_case_id, (Author.OPERATOR, who.subject), body.text
        ),
    )


def _write(
    api: ApiContext,
    request: Request,
    parts: tuple[Principal, str | None, bytes, Language],
    status: int,
    act: Callable[[], CaseFile],
) -> Response:
    who, key, raw, lang = parts

    def action() -> tuple[int, object]:
        return status, CaseFileView.of_file(act()).model_dump(mode="json")

    return idempotent(api, request, who, key, raw, lang, action)
