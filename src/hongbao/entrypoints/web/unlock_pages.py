"""Unlocking one's own risk-locked device from the console (docs/risk.md): a face check of
purpose ``unlock:<device id>`` opened on this device, answered (by the simulated camera on the
embedded demo), then spent by ``POST /v1/me/device/unlock``; the person returns to the page
they were on. Every step is the API's, with the person's own token."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hongbao.entrypoints.web.pages import Shared, Visit, first, form_of, local_path, new_key, to
from hongbao.entrypoints.web.words import word

router = APIRouter(include_in_schema=False)
PASSED = frozenset({"passed", "already_passed"})
CAMERA_ANSWER = "pass"  # the simulated camera's answer that passes (SimulatedProvider)


def _purpose(visit: Visit) -> str:
    return f"unlock:{(visit.me or {}).get('device_id')}"


@router.post("/console/unlock")
async def start_unlock(request: Request, shared: Shared) -> Response:
    """Open the face check on this device, then show it."""
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    form = await form_of(request)
    back = local_path(first(form, "back"))
    opened = await visit.call(
        "POST",
        "/v1/challenges",
        json={"kind": "face", "purpose": _purpose(visit)},
        key=first(form, "unlock_key"),
    )
    if not opened.ok:
        return visit.page("problem.html", opened.status, message=opened.message)
    return to("/console/unlock/face?" + urlencode({"challenge": opened.body["id"], "back": back}))


@router.get("/console/unlock/face")
async def face_page(request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    params = request.query_params
    return visit.page(
        "unlock_face.html",
        challenge_id=params.get("challenge", ""),
        back=local_path(params.get("back")),
        attempt=new_key("unlock-face"),
    )


@router.post("/console/unlock/face")
async def unlock(request: Request, shared: Shared) -> Response:
    """Answer the check (the demo's simulated camera only) and spend it on the unlock."""
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    form = await form_of(request)
    challenge_id, attempt = first(form, "challenge"), first(form, "attempt")
    back = local_path(first(form, "back"))
    if shared.demo and first(form, "answer") == CAMERA_ANSWER:
        answered = await visit.call(
            "POST",
            f"/v1/challenges/{challenge_id}/answers",
            json={"purpose": _purpose(visit), "answer": CAMERA_ANSWER},
            key=f"{attempt}-answer"[:64],
        )
        if not answered.ok or answered.body.get("result") not in PASSED:
            return _failed(visit, back)
    unlocked = await visit.call(
        "POST",
        "/v1/me/device/unlock",
        json={"challenge_id": challenge_id},
        key=f"{attempt}-unlock"[:64],
    )
    if not unlocked.ok:
        return _failed(visit, back, unlocked.message)
    return to(back)


def _failed(visit: Visit, back: str, detail: str = "") -> Response:
    """The check did not pass: say so, and offer to start again."""
    message = word("unlock_face_failed", visit.language)
    return visit.page(
        "problem.html",
        422,
        message=f"{message} {detail}".strip(),
        unlock_back=back,
        unlock_key=new_key("unlock"),
    )
