"""The demo device's conditions (R-D6) at ``/console/device``: on the embedded demo a person
may say that the phone they act as is in power-saving mode or has game acceleration on, as a
real client would report it; the console then sends ``Hongbao-Device-Conditions`` with every
call, and the recall button explains the condition with its own next step."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hongbao.entrypoints.web.pages import (
    CONDITIONS_COOKIE,
    Console,
    Shared,
    Visit,
    form_of,
    local_path,
    to,
)
from hongbao.identity.devices import DeviceCondition, parse_conditions
from hongbao.platform.errors import InvalidInput

CONDITIONS: Final = tuple(condition.value for condition in DeviceCondition)

router = APIRouter(include_in_schema=False)


def _demo_only(shared: Console) -> bool:
    """Outside the demo the real client reports its device; the console does not pretend."""
    return shared.demo


@router.get("/console/device")
async def device_page(request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if not _demo_only(shared) or await visit.who() is None:
        return to("/")
    return visit.page(
        "device.html", all_conditions=CONDITIONS, back=local_path(request.query_params.get("back"))
    )


@router.post("/console/device")
async def set_conditions(request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if not _demo_only(shared) or await visit.who() is None:
        return to("/")
    form = await form_of(request)
    chosen = ",".join(sorted(form.get("condition", [])))
    try:
        kept = ",".join(sorted(condition.value for condition in parse_conditions(chosen)))
    except InvalidInput:
        return visit.page("device.html", 422, all_conditions=CONDITIONS, back="/wallet", bad=True)
    response = to(local_path((form.get("back") or ["/wallet"])[0]))
    if kept:
        response.set_cookie(CONDITIONS_COOKIE, kept, httponly=True, samesite="strict")
    else:
        response.delete_cookie(CONDITIONS_COOKIE)
    return response
