"""The console's pages. Each handler reads the signed-in person's token from its cookie, asks
the HTTP API (in process, :mod:`hongbao.entrypoints.web.calls`) and renders the answer; forms
post back here and carry an idempotency key made when the form was shown, so a double submit
acts once. Handlers stay thin: the API holds the rules."""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Final
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hongbao.entrypoints.http.auth.tokens import Role
from hongbao.entrypoints.http.context import CONDITIONS_HEADER, ApiContext
from hongbao.entrypoints.web.calls import ApiCalls, Reply
from hongbao.entrypoints.web.guard_views import is_stopped, stopped_page
from hongbao.entrypoints.web.unlock_views import is_device_locked, locked_page
from hongbao.entrypoints.web.views import BEIJING, LANGUAGE_COOKIE, language_of, render
from hongbao.funding.sources import BalanceSource
from hongbao.identity.devices import parse_conditions
from hongbao.identity.hints import Hint, HintEvent
from hongbao.platform.clock import to_datetime
from hongbao.platform.errors import InvalidInput
from hongbao.platform.i18n import Language

TOKEN_COOKIE: Final = "hongbao_console"  # noqa: S105 - the cookie's name, not a secret
CONDITIONS_COOKIE: Final = "hongbao_conditions"
RECALL_COOKIE: Final = "hongbao_recall_"  # + the packet id: the key of its recall in flight
RECALL_COOKIE_SECONDS: Final = 24 * 3600
DRILL_OPERATOR: Final = "console-drill"
DRILL_TOKEN_SECONDS: Final = 60
MAX_FORM_BYTES: Final = 16 * 1024
SEE_OTHER: Final = 303
PACKET_TYPES: Final = ("group_lucky", "group_normal", "personal")
HINTS: Final = tuple(hint.value for hint in Hint)
SETTLEMENT: Final = Hint.SETTLEMENT.value
SETTLEMENT_HINT_FROM: Final = 23 * 60 + 30  # minutes after midnight, Beijing time
SETTLEMENT_HINT_UNTIL: Final = 10

router = APIRouter(include_in_schema=False)


class Console:
    """What the pages share: the API context, the in-process API and whether this is the
    embedded demo (where a person is picked instead of signing in with a token)."""

    def __init__(self, api: ApiContext, calls: ApiCalls) -> None:
        self.api = api
        self.calls = calls

    @property
    def demo(self) -> bool:
        return self.api.settings.demo_sign_in


async def console(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


Shared = Annotated[Console, Depends(console)]


class Visit:
    """One page visit: the reader's language, token and (once asked) who they are."""

    def __init__(self, shared: Console, request: Request) -> None:
        self.shared = shared
        self.request = request
        self.language: Language = language_of(request)
        self.token = request.cookies.get(TOKEN_COOKIE)
        self.me: dict[str, Any] | None = None
        # What the demo device says about itself (R-D6), set on /console/device.
        self.conditions = _reported(request.cookies.get(CONDITIONS_COOKIE))

    async def call(
        self, method: str, path: str, *, json: object | None = None, key: str | None = None
    ) -> Reply:
        extra = {CONDITIONS_HEADER: self.conditions} if self.conditions else None
        return await self.shared.calls.call(
            method, path, token=self.token, language=self.language, json=json, key=key, extra=extra
        )

    async def who(self) -> dict[str, Any] | None:
        """The signed-in person (the API's /v1/me), or None: no token, an expired or revoked
        one, or an operator's (the console is for people sending red packets)."""
        if self.token is None:
            return None
        reply = await self.call("GET", "/v1/me")
        if not reply.ok or reply.body.get("role") != Role.USER.value:
            return None
        self.me = reply.body
        return self.me

    async def hint(self, *candidates: str) -> list[str]:
        """The first of ``candidates`` this person has not met yet, noted as shown now: each
        guidance bubble appears once per person, on whichever device."""
        candidates = (*candidates, *((SETTLEMENT,) if self._near_settlement() else ()))
        if not candidates:
            return []
        seen = await self.call("GET", "/v1/me/hints")
        met = {entry["hint"] for entry in seen.body} if seen.ok else set(candidates)
        for candidate in candidates:
            if candidate not in met:
                noted = await self.call(
                    "POST",
                    f"/v1/me/hints/{candidate}",
                    json={"event": "shown"},
                    key=f"console-hint-{candidate}-shown",
                )
                return [candidate] if noted.ok else []
        return []

    def _near_settlement(self) -> bool:
        """From 23:30 to 00:10 Beijing time: the settlement blackout is near or on."""
        now = to_datetime(self.shared.api.services.clock.now_us()).astimezone(BEIJING)
        minutes = now.hour * 60 + now.minute
        return minutes >= SETTLEMENT_HINT_FROM or minutes < SETTLEMENT_HINT_UNTIL

    async def on_watch(self) -> bool:
        me = self.me or {}
        devices = await self.call("GET", f"/v1/users/{me.get('subject')}/devices")
        if not devices.ok:
            return False
        return any(
            d["device_id"] == me.get("device_id") and d["form_factor"] == "watch"
            for d in devices.body
        )

    def page(self, template: str, status: int = 200, **values: Any) -> Response:
        return render(
            self.request,
            template,
            status,
            me=self.me,
            demo=self.shared.demo,
            conditions=[c for c in self.conditions.split(",") if c],
            **values,
        )


def _reported(kept: str | None) -> str:
    """The device conditions the cookie keeps, as the header sends them; a cookie that is not
    a valid report (edited by hand) reports nothing."""
    try:
        return ",".join(sorted(condition.value for condition in parse_conditions(kept)))
    except InvalidInput:
        return ""


def new_key(prefix: str) -> str:
    return f"console-{prefix}-{secrets.token_hex(8)}"


async def form_of(request: Request) -> dict[str, list[str]]:
    """An urlencoded form (the console's forms send nothing else), size-bounded."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def first(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def to(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=SEE_OTHER)


def local_path(candidate: str | None) -> str:
    """Where to go back to: a path of this site only, never another site's address."""
    if candidate and candidate.startswith("/") and not candidate.startswith("//"):
        return candidate
    return "/wallet"


# ------------------------------------------------------------------------ sign-in, language


@router.get("/")
async def home(request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is not None:
        return to("/wallet")
    return visit.page("signin.html", people=_demo_people(shared) if shared.demo else [])


def _demo_people(shared: Console) -> list[dict[str, Any]]:
    """The demo population with their devices (embedded demo only), the funded first: they
    are the ones who can send right away."""
    services = shared.api.services
    users = services.identity.users(100)
    accounts = {u.id: BalanceSource(f"{u.id}-balance", u.id).ledger_account_id for u in users}
    held = services.ledger.accounts(list(accounts.values()))
    people: list[dict[str, Any]] = []
    for user in users:
        devices = services.identity.devices_of(user.id)
        if devices:
            account = held.get(accounts[user.id])
            funds = 0 if account is None else account.credit_balance
            people.append({"user": user, "devices": devices, "funds": funds})
    people.sort(key=lambda person: -person["funds"])
    return people


@router.post("/console/sign-in")
async def sign_in(request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    form = await form_of(request)
    if shared.demo and first(form, "device"):
        token = _demo_token(shared, first(form, "device"))
    else:
        token = first(form, "token") or None
    visit.token = token
    if token is None or await visit.who() is None:
        people = _demo_people(shared) if shared.demo else []
        return visit.page("signin.html", 401, people=people, failed=True)
    response = to("/wallet")
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=shared.api.settings.token_lifetime_seconds,
        httponly=True,
        samesite="strict",  # a form posted from another site arrives without the token
        secure=request.url.scheme == "https",
    )
    return response


def _demo_token(shared: Console, device_value: str) -> str | None:
    """A token for the chosen demo device, issued by the API's own signer: bound to that user,
    device and SIM, so every device rule applies to what the console does."""
    user_id, _, device_id = device_value.partition("/")
    identity = shared.api.services.identity
    device = next((d for d in identity.devices_of(user_id) if d.device_id == device_id), None)
    if device is None:
        return None
    token, _ = shared.api.signer.issue(
        user_id,
        Role.USER,
        now_us=shared.api.services.clock.now_us(),
        lifetime_seconds=shared.api.settings.token_lifetime_seconds,
        device=(device.device_id, device.sim_id),
    )
    return token


@router.post("/console/sign-out")
async def sign_out() -> Response:
    response = to("/")
    response.delete_cookie(TOKEN_COOKIE)
    return response


@router.get("/console/language/{code}")
async def switch_language(code: str, back: str | None = None) -> Response:
    response = to(local_path(back))
    if code in {"zh", "en"}:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.post("/console/hints/{hint}")
async def hint_event(hint: Hint, request: Request, shared: Shared) -> Response:
    """The page's bubble was dismissed or its link followed (the script posts JSON here)."""
    visit = Visit(shared, request)
    if await visit.who() is None:
        return JSONResponse({"noted": False}, status_code=401)
    try:
        event = HintEvent((await request.json()).get("event"))
    except (ValueError, AttributeError):
        return JSONResponse({"noted": False}, status_code=422)
    reply = await visit.call(
        "POST",
        f"/v1/me/hints/{hint.value}",
        json={"event": event.value},
        key=f"console-hint-{hint.value}-{event.value}",
    )
    return JSONResponse({"noted": reply.ok}, status_code=reply.status)


@router.get("/help")
async def help_page(request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is not None:
        # Help views per age band (R-U4): one per page visit.
        await visit.call("POST", "/v1/me/help-views", key=new_key("help"))
    return visit.page("help.html", all_hints=HINTS)


# ------------------------------------------------------------------------------------ wallet


@router.get("/wallet")
async def wallet(request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    balances = await visit.call("GET", "/v1/me/balances")
    movements = await visit.call("GET", "/v1/me/movements?limit=50")
    groups = await visit.call("GET", "/v1/me/groups")
    hints = await visit.hint(*([Hint.WATCH_CAP.value] if await visit.on_watch() else []))
    return visit.page(
        "wallet.html",
        hints=hints,
        balances=balances.body if balances.ok else [],
        movements=movements.body if movements.ok else [],
        groups=groups.body if groups.ok else [],
    )


# -------------------------------------------------------------------------------------- send


@router.get("/send")
async def send_form(request: Request, shared: Shared, group: str | None = None) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    return await _send_page(visit, {"group_id": group or "", "type": "group_lucky"})


async def _send_page(
    visit: Visit, chosen: dict[str, str], error: str | None = None, status: int = 200
) -> Response:
    user_id = visit.me["subject"]  # type: ignore[index]
    sources = await visit.call("GET", f"/v1/users/{user_id}/funding-sources")
    groups = await visit.call("GET", "/v1/me/groups")
    hints = await visit.hint(*([Hint.WATCH_CAP.value] if await visit.on_watch() else []))
    return visit.page(
        "send.html",
        status,
        hints=hints,
        sources=sources.body if sources.ok else [],
        groups=groups.body if groups.ok else [],
        types=PACKET_TYPES,
        chosen=chosen,
        key=new_key("send"),
        error=error,
    )


@router.post("/send")
async def send(request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    form = await form_of(request)
    chosen = {
        name: first(form, name)
        for name in ("type", "amount", "shares", "funding_source_id", "group_id", "recipient_id")
    }
    body: dict[str, object] = {
        "type": chosen["type"],
        "amount": chosen["amount"],
        "shares": int(chosen["shares"]) if chosen["shares"].isdigit() else 0,
        "funding_source_id": chosen["funding_source_id"],
    }
    if chosen["type"] == "personal":
        body["recipient_id"] = chosen["recipient_id"]
    else:
        body["group_id"] = chosen["group_id"]
    reply = await visit.call("POST", "/v1/packets", json=body, key=first(form, "key"))
    if is_stopped(reply):  # R-B1: the guard's reasons, then send now or later
        return stopped_page(visit, body, first(form, "key"), reply)
    if is_device_locked(reply):  # unlock with a face check, then back to the send form
        return locked_page(visit, reply, "/send")
    if not reply.ok:
        return await _send_page(visit, chosen, _refusal(reply), 422)
    hint = "&sent=lucky" if chosen["type"] == "group_lucky" else "&sent=1"
    return to(f"/packets/{reply.body['id']}?{hint[1:]}")


def _refusal(reply: Reply) -> str:
    if reply.status == 422 and isinstance(reply.body, dict):
        problems = reply.body.get("error", {}).get("details", {}).get("problems")
        if problems:
            return f"{reply.message} ({'; '.join(str(p) for p in problems)})"
    return reply.message


# ------------------------------------------------------------------------- groups and claims


@router.get("/groups/{group_id}")
async def group_page(group_id: str, request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    group = await visit.call("GET", f"/v1/groups/{group_id}")
    if not group.ok:
        return visit.page("problem.html", group.status, message=group.message)
    packets = await visit.call("GET", f"/v1/groups/{group_id}/packets")
    listed = list(reversed(packets.body)) if packets.ok else []
    return visit.page(
        "group.html",
        group=group.body,
        open_packets=[p for p in listed if p["state"] == "open"],
        other_packets=[p for p in listed if p["state"] != "open"],
        key=new_key("claim"),
        claimed=request.query_params.get("claimed"),
    )


@router.post("/packets/{packet_id}/claim")
async def claim(packet_id: str, request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    form = await form_of(request)
    reply = await visit.call("POST", f"/v1/packets/{packet_id}/claims", key=first(form, "key"))
    if is_device_locked(reply):
        return locked_page(visit, reply, f"/packets/{packet_id}")
    result = reply.body.get("result", "refused") if reply.ok else reply.message
    return to(f"/packets/{packet_id}?" + urlencode({"claimed": result}))


# ------------------------------------------------------------------------ a packet and recall


@router.get("/packets/{packet_id}")
async def packet_page(packet_id: str, request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    packet = await visit.call("GET", f"/v1/packets/{packet_id}")
    if not packet.ok:
        return visit.page("problem.html", packet.status, message=packet.message)
    claims = await visit.call("GET", f"/v1/packets/{packet_id}/claims")
    eligibility, candidates = None, []
    if packet.body["sender_id"] == visit.me["subject"]:  # type: ignore[index]
        asked = await visit.call("GET", f"/v1/packets/{packet_id}/recall-eligibility")
        eligibility = asked.body if asked.ok else None
        if packet.body["type"] == "group_lucky" and packet.body["state"] == "open":
            candidates.append(Hint.LUCKY_RECALL.value)
    return visit.page(
        "packet.html",
        hints=await visit.hint(*candidates),
        packet=packet.body,
        claims=claims.body if claims.ok else [],
        eligibility=eligibility,
        claimed=request.query_params.get("claimed"),
        key=new_key("claim"),
    )


@router.get("/packets/{packet_id}/recall")
async def recall_confirm(packet_id: str, request: Request, shared: Shared) -> Response:
    """Before anything moves: the refund route, its fee and arrival, the credit note."""
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    key, resumed = await _recall_key(visit, packet_id)
    if resumed is not None:
        return resumed
    packet = await visit.call("GET", f"/v1/packets/{packet_id}")
    asked = await visit.call("GET", f"/v1/packets/{packet_id}/recall-eligibility")
    if not (packet.ok and asked.ok):
        failed = asked if packet.ok else packet
        return visit.page("problem.html", failed.status, message=failed.message)
    page = visit.page("recall_confirm.html", packet=packet.body, eligibility=asked.body, key=key)
    page.set_cookie(
        RECALL_COOKIE + packet_id,
        key,
        max_age=RECALL_COOKIE_SECONDS,
        path=f"/packets/{packet_id}",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return page


async def _recall_key(visit: Visit, packet_id: str) -> tuple[str, Response | None]:
    """The key of this browser's recall of this packet (R-D5): a tablet that rotates or
    reloads mid-recall comes back to the same recall, never starts a second one. A recall
    waiting for its checks resumes at them, a done one shows where its refund is; after a
    denial (or with no recall yet) the confirm page is shown, with a new key after a denial so
    that a later retry is a new attempt."""
    kept = visit.request.cookies.get(RECALL_COOKIE + packet_id)
    if not kept:
        return new_key("recall"), None
    status = await visit.call("GET", f"/v1/recalls/{kept}")
    if not status.ok or status.body.get("packet_id") != packet_id:
        return kept, None  # nothing was recalled under it yet: the same key, asked once
    if status.body["state"] == "denied":
        return new_key("recall"), None
    return kept, _after_recall(visit, packet_id, kept, status)


@router.post("/packets/{packet_id}/recall")
async def recall(packet_id: str, request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    form = await form_of(request)
    key = first(form, "key")
    body = {"accept_balance": first(form, "accept_balance") == "yes"}
    reply = await visit.call("POST", f"/v1/packets/{packet_id}/recalls", json=body, key=key)
    return _after_recall(visit, packet_id, key, reply)


def _after_recall(visit: Visit, packet_id: str, key: str, reply: Reply) -> Response:
    if is_device_locked(reply):
        return locked_page(visit, reply, f"/packets/{packet_id}")
    if not reply.ok:
        return visit.page("problem.html", reply.status, message=reply.message)
    state = reply.body["state"]
    if state == "challenged":
        query = urlencode(
            {
                "key": key,
                "challenge": reply.body["challenge_ids"],
                "purpose": reply.body["challenge_purpose"] or "",
            },
            doseq=True,
        )
        return to(f"/packets/{packet_id}/recall/verify?{query}")
    return to(f"/packets/{packet_id}/recall/result?" + urlencode({"key": key}))


@router.get("/packets/{packet_id}/recall/verify")
async def recall_verify(packet_id: str, request: Request, shared: Shared) -> Response:
    """The checks a recall asked for (an SMS code): on the embedded demo the simulated
    provider's code may be shown, marked as a drill."""
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    params = request.query_params
    challenges = []
    for challenge_id in params.getlist("challenge"):
        found = await visit.call("GET", f"/v1/challenges/{challenge_id}")
        if not found.ok:
            return visit.page("problem.html", found.status, message=found.message)
        revealed = None
        if shared.demo and params.get("reveal") == challenge_id:
            revealed = await _drill_code(visit, challenge_id)
        challenges.append({"view": found.body, "code": revealed})
    return visit.page(
        "recall_verify.html",
        packet_id=packet_id,
        recall_key=params.get("key", ""),
        purpose=params.get("purpose", ""),
        challenges=challenges,
        query=str(params),
        attempt=new_key("answer"),
        wrong=params.get("wrong") == "1",
    )


async def _drill_code(visit: Visit, challenge_id: str) -> str | None:
    """The simulated SMS code of the person's own check, read as an operator would: the demo
    is the only place a code is ever shown."""
    api = visit.shared.api
    token, _ = api.signer.issue(
        DRILL_OPERATOR,
        Role.OPERATOR,
        now_us=api.services.clock.now_us(),
        lifetime_seconds=DRILL_TOKEN_SECONDS,
    )
    reply = await visit.shared.calls.call(
        "GET",
        f"/v1/operator/challenges/{challenge_id}/code",
        token=token,
        language=visit.language,
    )
    return str(reply.body["code"]) if reply.ok else None


@router.get("/console/drill-code/{challenge_id}")
async def drill_code(challenge_id: str, request: Request, shared: Shared) -> Response:
    """The page's drill button asks here (JSON); the person must own the check."""
    visit = Visit(shared, request)
    if not shared.demo or await visit.who() is None:
        return JSONResponse({"code": None}, status_code=404)
    own = await visit.call("GET", f"/v1/challenges/{challenge_id}")
    if not own.ok:
        return JSONResponse({"code": None}, status_code=own.status)
    return JSONResponse({"code": await _drill_code(visit, challenge_id)})


@router.post("/packets/{packet_id}/recall/verify")
async def recall_answer(packet_id: str, request: Request, shared: Shared) -> Response:
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    form = await form_of(request)
    key, purpose, attempt = first(form, "key"), first(form, "purpose"), first(form, "attempt")
    challenge_ids = form.get("challenge", [])
    for challenge_id in challenge_ids:
        answer = {"purpose": purpose, "answer": first(form, f"code-{challenge_id}") or "-"}
        reply = await visit.call(
            "POST",
            f"/v1/challenges/{challenge_id}/answers",
            json=answer,
            key=f"{attempt}-{challenge_id}"[:64],
        )
        if not reply.ok or reply.body.get("result") not in {"passed", "already_passed"}:
            query = urlencode(
                {"key": key, "challenge": challenge_ids, "purpose": purpose, "wrong": "1"},
                doseq=True,
            )
            return to(f"/packets/{packet_id}/recall/verify?{query}")
    reply = await visit.call(
        "POST", f"/v1/packets/{packet_id}/recalls", json={"challenge_ids": challenge_ids}, key=key
    )
    return _after_recall(visit, packet_id, key, reply)


@router.get("/packets/{packet_id}/recall/result")
async def recall_result(
    packet_id: str, request: Request, shared: Shared, key: str = ""
) -> Response:
    """Where the recall stands, and where the refund is."""
    visit = Visit(shared, request)
    if await visit.who() is None:
        return to("/")
    status = await visit.call("GET", f"/v1/recalls/{key}")
    if not status.ok:
        return visit.page("problem.html", status.status, message=status.message)
    refund = None
    if status.body.get("refund_id"):
        found = await visit.call("GET", f"/v1/refunds/{status.body['refund_id']}")
        refund = found.body if found.ok else None
    return visit.page("recall_result.html", packet_id=packet_id, recall=status.body, refund=refund)
