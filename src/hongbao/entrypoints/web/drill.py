"""The simulation drill's pages (模拟演练, R-U2) at ``/drill``: the person practises as 李伟
in a practice room (:mod:`hongbao.entrypoints.web.drill_rooms`) with play money, two friends
who claim when asked, and a clock with three buttons. Every action goes through the room's own
HTTP API exactly as the console's go through the real one, so the grey button, its cause and
its next step are the real policy's answers. Every page says it is practice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response

from hongbao.entrypoints.web.calls import Reply
from hongbao.entrypoints.web.drill_rooms import (
    FRIENDS,
    OPERATOR,
    PLAYER,
    PRACTICE_GROUP,
    ROOM_COOKIE,
    ClockMove,
    DrillRooms,
    Room,
    RoomsFull,
    RoomWornOut,
    beijing_time,
)
from hongbao.entrypoints.web.pages import Visit, first, form_of, new_key, to
from hongbao.entrypoints.web.views import moment
from hongbao.platform.i18n import Language

DRILL_TYPES: Final = ("group_lucky", "personal")
MAX_AMOUNT_CHARACTERS: Final = 12

router = APIRouter(include_in_schema=False)


def rooms_of(request: Request) -> DrillRooms:
    found: DrillRooms = request.app.state.drill_rooms
    return found


class Practice:
    """One visit to the drill: the console's visit (language, who is signed in) and the room."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.visit = Visit(request.app.state.console, request)
        self.rooms = rooms_of(request)
        self.room = self.rooms.find(request.cookies.get(ROOM_COOKIE))

    @property
    def language(self) -> Language:
        return self.visit.language

    def page(self, template: str, status: int = 200, **values: Any) -> Response:
        return self.visit.page(template, status, practice=True, **values)

    async def act(self, room: Room, act: Callable[[], Awaitable[dict[str, Any]]]) -> Response:
        """Run one action in the room (counted against its allowance), then show the room."""
        try:
            room.count(self.rooms.limits)
        except RoomWornOut:
            self.rooms.close(room.id)
            return self.page("drill_start.html", 429, worn_out=True)
        room.last = await act()
        return to("/drill")


@router.get("/drill")
async def drill(request: Request) -> Response:
    practice = Practice(request)
    await practice.visit.who()
    room = practice.room
    if room is None:
        return practice.page("drill_start.html", limits=practice.rooms.limits)
    language = practice.language
    packets = []
    for packet_id in reversed(room.packets):
        packet = await room.call("GET", f"/v1/packets/{packet_id}", language=language)
        claims = await room.call("GET", f"/v1/packets/{packet_id}/claims", language=language)
        button = await room.call(
            "GET", f"/v1/packets/{packet_id}/recall-eligibility", language=language
        )
        claimed_by = {c["claimed_by"] for c in claims.body} if claims.ok else set()
        packets.append(
            {
                "packet": packet.body,
                "claims": claims.body if claims.ok else [],
                "friends": [f for f in _recipients(packet.body) if f not in claimed_by],
                "eligibility": button.body if button.ok else None,
            }
        )
    balances = await room.call("GET", "/v1/me/balances", language=language)
    last, room.last = room.last, None
    return practice.page(
        "drill.html",
        room=room,
        now=beijing_time(room.clock.now_us()),
        ends=moment(room.expires_at_us),
        moves=[move.value for move in ClockMove],
        packets=packets,
        balance=next((b for b in balances.body if b["kind"] == "balance"), None)
        if balances.ok
        else None,
        last=last,
        types=DRILL_TYPES,
        friends=list(FRIENDS),
        key=new_key("drill"),
    )


def _recipients(packet: dict[str, Any]) -> list[str]:
    """The friends who may claim this packet: both for a group packet, the one it is for."""
    if packet.get("state") != "open":
        return []
    if packet.get("recipient_id"):
        return [packet["recipient_id"]] if packet["recipient_id"] in FRIENDS else []
    return list(FRIENDS)


@router.post("/drill/start")
async def start(request: Request) -> Response:
    """A room for the signed-in person: a room costs a database, so nobody unknown opens one,
    and each person has one at most."""
    practice = Practice(request)
    me = await practice.visit.who()
    if me is None:
        return to("/")
    if practice.room is not None:
        return to("/drill")
    try:
        room = await anyio.to_thread.run_sync(practice.rooms.open, str(me["subject"]))
    except RoomsFull as full:
        return practice.page("drill_start.html", 503, full=moment(full.free_at_us))
    response = to("/drill")
    response.set_cookie(
        ROOM_COOKIE,
        room.id,
        max_age=practice.rooms.limits.lifetime_us // 1_000_000,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/drill/end")
async def end(request: Request) -> Response:
    practice = Practice(request)
    if practice.room is not None:
        practice.rooms.close(practice.room.id)
    response = to("/drill")
    response.delete_cookie(ROOM_COOKIE)
    return response


@router.post("/drill/clock")
async def move_clock(request: Request) -> Response:
    practice = Practice(request)
    room = practice.room
    if room is None:
        return to("/drill")
    form = await form_of(request)
    try:
        move = ClockMove(first(form, "move"))
    except ValueError:
        return to("/drill")
    key = first(form, "key")

    async def moved() -> dict[str, Any]:
        if key and key in room.moved_keys:  # a double press moves the clock once
            return {"kind": "clock", "move": move.value}
        room.moved_keys.append(key)
        await anyio.to_thread.run_sync(room.move_clock, move)
        return {"kind": "clock", "move": move.value}

    return await practice.act(room, moved)


@router.post("/drill/send")
async def send(request: Request) -> Response:
    practice = Practice(request)
    room = practice.room
    if room is None:
        return to("/drill")
    form = await form_of(request)
    kind = first(form, "type") if first(form, "type") in DRILL_TYPES else DRILL_TYPES[0]
    shares = first(form, "shares")
    body: dict[str, object] = {
        "type": kind,
        "amount": first(form, "amount")[:MAX_AMOUNT_CHARACTERS],
        "shares": 1 if kind == "personal" else (int(shares) if shares.isdigit() else 0),
        "funding_source_id": f"{PLAYER[0]}-balance",
    }
    if kind == "personal":
        body["recipient_id"] = next(iter(FRIENDS))
    else:
        body["group_id"] = PRACTICE_GROUP

    if len(room.packets) >= practice.rooms.limits.max_packets:
        return practice.page("drill_start.html", 429, worn_out=True)

    async def sent() -> dict[str, Any]:
        reply = await room.call(
            "POST", "/v1/packets", json=body, key=first(form, "key"), language=practice.language
        )
        if not reply.ok:
            return {"kind": "refused", "message": reply.message}
        if reply.body["id"] not in room.packets:
            room.packets.append(reply.body["id"])
        return {"kind": "sent", "packet": reply.body["id"]}

    return await practice.act(room, sent)


@router.post("/drill/packets/{packet_id}/claim")
async def friend_claims(packet_id: str, request: Request) -> Response:
    practice = Practice(request)
    room = practice.room
    if room is None or packet_id not in room.packets:
        return to("/drill")
    form = await form_of(request)
    friend = first(form, "friend")
    if friend not in FRIENDS:
        return to("/drill")

    async def claimed() -> dict[str, Any]:
        reply = await room.call(
            "POST",
            f"/v1/packets/{packet_id}/claims",
            who=friend,
            key=first(form, "key"),
            language=practice.language,
        )
        if not reply.ok:
            return {"kind": "refused", "message": reply.message}
        return {"kind": "claimed", "friend": friend, "amount": reply.body.get("amount")}

    return await practice.act(room, claimed)


@router.post("/drill/packets/{packet_id}/recall")
async def recall(packet_id: str, request: Request) -> Response:
    practice = Practice(request)
    room = practice.room
    if room is None or packet_id not in room.packets:
        return to("/drill")
    form = await form_of(request)
    key = first(form, "key")

    async def recalled() -> dict[str, Any]:
        reply = await room.call(
            "POST",
            f"/v1/packets/{packet_id}/recalls",
            json={},
            key=key,
            language=practice.language,
        )
        return await _after_recall(practice, room, packet_id, key, reply)

    return await practice.act(room, recalled)


@router.post("/drill/packets/{packet_id}/verify")
async def verify(packet_id: str, request: Request) -> Response:
    """The practice SMS code typed in: each check answered, then the same recall repeated."""
    practice = Practice(request)
    room = practice.room
    pending = room.pending if room is not None else None
    if room is None or pending is None or pending["packet_id"] != packet_id:
        return to("/drill")
    form = await form_of(request)

    async def answered() -> dict[str, Any]:
        for challenge_id in pending["challenge_ids"]:
            answer = {"purpose": pending["purpose"], "answer": first(form, "code") or "-"}
            reply = await room.call(
                "POST",
                f"/v1/challenges/{challenge_id}/answers",
                json=answer,
                key=f"{first(form, 'key')}-{challenge_id}"[:64],
                language=practice.language,
            )
            if not reply.ok or reply.body.get("result") not in {"passed", "already_passed"}:
                return {"kind": "wrong_code"}
        body = {"challenge_ids": pending["challenge_ids"]}
        reply = await room.call(
            "POST",
            f"/v1/packets/{packet_id}/recalls",
            json=body,
            key=pending["key"],
            language=practice.language,
        )
        return await _after_recall(practice, room, packet_id, pending["key"], reply)

    return await practice.act(room, answered)


async def _after_recall(
    practice: Practice, room: Room, packet_id: str, key: str, reply: Reply
) -> dict[str, Any]:
    """What the recall came to: done (with its refund), denied (with the cause), or waiting for
    its SMS code, which the drill shows: it is practice, and the code is play too."""
    if not reply.ok:
        return {"kind": "refused", "message": reply.message}
    body = reply.body
    room.pending = None
    if body["state"] == "challenged":
        code = await room.call(
            "GET",
            f"/v1/operator/challenges/{body['challenge_ids'][0]}/code",
            who=OPERATOR,
            language=practice.language,
        )
        room.pending = {
            "packet_id": packet_id,
            "key": key,
            "challenge_ids": body["challenge_ids"],
            "purpose": body["challenge_purpose"] or "",
            "code": code.body.get("code") if code.ok else None,
        }
        return {"kind": "challenged", "packet": packet_id}
    refund = None
    if body.get("refund_id"):
        found = await room.call(
            "GET", f"/v1/refunds/{body['refund_id']}", language=practice.language
        )
        refund = found.body if found.ok else None
    return {"kind": "recall", "packet": packet_id, "recall": body, "refund": refund}
