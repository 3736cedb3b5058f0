"""The console's pages of the send-time guard (R-B1): a stopped send sent now or later, and a
delayed send cancelled. Like every page, they ask the API and render the answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hongbao.entrypoints.web.guard_views import SENT_FIELDS
from hongbao.entrypoints.web.pages import Shared, Visit, first, form_of, to
from hongbao.entrypoints.web.unlock_views import is_device_locked, locked_page

router = APIRouter(include_in_schema=False)


@router.post("/send/guarded")
async def send_guarded(request: Request, shared: Shared) -> Response:
    """The stopped send again, with ``confirm`` or with the offered ``deliver_at``."""
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    form = await form_of(request)
    body: dict[str, object] = {
        name: first(form, name) for name in SENT_FIELDS if first(form, name) != ""
    }
    shares = first(form, "shares")
    body["shares"] = int(shares) if shares.isdigit() else 0
    if first(form, "choice") == "later":
        body["deliver_at"] = first(form, "deliver_at")
    else:
        body["confirm"] = True
    reply = await visit.call("POST", "/v1/packets", json=body, key=first(form, "key"))
    if is_device_locked(reply):
        return locked_page(visit, reply, "/send")
    if not reply.ok:
        return visit.page("problem.html", reply.status, message=reply.message)
    return to(f"/packets/{reply.body['id']}")


@router.post("/packets/{packet_id}/cancel-scheduled")
async def cancel_scheduled(packet_id: str, request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    form = await form_of(request)
    reply = await visit.call(
        "POST", f"/v1/packets/{packet_id}/cancellations", key=first(form, "key")
    )
    if not reply.ok:
        return visit.page("problem.html", reply.status, message=reply.message)
    return to(f"/packets/{packet_id}")
