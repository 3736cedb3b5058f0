"""The person's support pages (R-U3): ask support from a refusal, a recall's result or the
help page (the decision and packet come along), read one's cases and their answers, add to a
case or close it. Every call goes to the API with the person's own token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hongbao.entrypoints.web.pages import Shared, Visit, first, form_of, new_key, to
from hongbao.entrypoints.web.words import word
from hongbao.support.cases import CaseOrigin

router = APIRouter(include_in_schema=False)
ORIGINS = frozenset(origin.value for origin in CaseOrigin)


@router.get("/support")
async def support_page(request: Request, shared: Shared) -> Response:
    """One's cases, and the question form (carrying where the person came from)."""
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    return await _cases_page(visit, _context_of(dict(request.query_params)))


async def _cases_page(
    visit: Visit, context: dict[str, str], error: str | None = None, status: int = 200
) -> Response:
    cases = await visit.call("GET", "/v1/me/support/cases")
    return visit.page(
        "support.html",
        status,
        cases=cases.body if cases.ok else [],
        context=context,
        key=new_key("support"),
        error=error,
    )


def _context_of(values: dict[str, str]) -> dict[str, str]:
    origin = values.get("from", "")
    return {
        "origin": origin if origin in ORIGINS else CaseOrigin.HELP.value,
        "packet_id": values.get("packet", "")[:128],
        "decision_id": values.get("decision", "")[:64],
    }


@router.post("/support")
async def ask(request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    form = await form_of(request)
    context = _context_of(
        {
            "from": first(form, "origin"),
            "packet": first(form, "packet_id"),
            "decision": first(form, "decision_id"),
        }
    )
    body: dict[str, object] = {"question": first(form, "question"), "origin": context["origin"]}
    body.update({name: context[name] for name in ("packet_id", "decision_id") if context[name]})
    reply = await visit.call("POST", "/v1/me/support/cases", json=body, key=first(form, "key"))
    if not reply.ok:
        return await _cases_page(visit, context, reply.message, 422)
    return to(f"/support/{reply.body['id']}")


@router.get("/support/{case_id}")
async def case_page(case_id: str, request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    found = await visit.call("GET", f"/v1/me/support/cases/{case_id}")
    if not found.ok:
        return visit.page("problem.html", found.status, message=found.message)
    return visit.page(
        "support_case.html",
        case=found.body,
        key=new_key("support-note"),
        operator_view=False,
        error=request.query_params.get("error"),
    )


@router.post("/support/{case_id}/{action}")
async def case_action(case_id: str, action: str, request: Request, shared: Shared) -> Response:
    """Add to one's case (``notes``) or close it (``close``)."""
    visit = Visit(shared, request)
    if await visit.who() is None or action not in {"notes", "close"}:
        return to("/")
    form = await form_of(request)
    text = first(form, "text") if action == "notes" else word("closed_by_user", visit.language)
    reply = await visit.call(
        "POST",
        f"/v1/me/support/cases/{case_id}/{action}",
        json={"text": text},
        key=first(form, "key"),
    )
    if not reply.ok:
        return visit.page("problem.html", reply.status, message=reply.message)
    return to(f"/support/{case_id}")
