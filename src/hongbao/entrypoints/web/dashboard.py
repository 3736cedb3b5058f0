"""The operators' pages: sign-in (the demo operator on the embedded default, else an operator
token), the dashboard with its charts (R-U4, R-D4, risk, queues) and the support queue with its
answer and close forms. The operator's token lives in its own HttpOnly cookie, scoped to
``/operator``; every figure comes from the API with that token."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hongbao.entrypoints.http.auth.tokens import Role
from hongbao.entrypoints.web import charts
from hongbao.entrypoints.web.calls import Reply
from hongbao.entrypoints.web.pages import Shared, first, form_of, new_key, to
from hongbao.entrypoints.web.views import language_of, render
from hongbao.entrypoints.web.words import word
from hongbao.platform.i18n import Language
from hongbao.recall.explanations import Cause, cause_name

OPERATOR_COOKIE: Final = "hongbao_operator"
DEMO_OPERATOR: Final = "ops-console"
PERCENT: Final = 100

router = APIRouter(include_in_schema=False)


class OperatorVisit:
    def __init__(self, shared: Shared, request: Request) -> None:
        self.shared = shared
        self.request = request
        self.language: Language = language_of(request)
        self.token = request.cookies.get(OPERATOR_COOKIE)
        self.subject: str | None = None

    async def call(
        self, method: str, path: str, *, json: object | None = None, key: str | None = None
    ) -> Reply:
        return await self.shared.calls.call(
            method, path, token=self.token, language=self.language, json=json, key=key
        )

    async def who(self) -> str | None:
        """The signed-in operator, or None (no token, or a person's)."""
        if self.token is None:
            return None
        reply = await self.call("GET", "/v1/me")
        if not reply.ok or reply.body.get("role") != Role.OPERATOR.value:
            return None
        self.subject = str(reply.body["subject"])
        return self.subject

    def page(self, template: str, status: int = 200, **values: Any) -> Response:
        return render(
            self.request,
            template,
            status,
            me=None,
            operator=self.subject,
            demo=self.shared.demo,
            **values,
        )

    def t(self, key: str) -> str:
        return word(key, self.language)


@router.get("/operator")
async def dashboard(request: Request, shared: Shared) -> Response:
    visit = OperatorVisit(shared, request)
    if await visit.who() is None:
        return visit.page("operator_signin.html")
    measures = await visit.call("GET", "/v1/operator/measures")
    if not measures.ok:
        return visit.page("problem.html", measures.status, message=measures.message)
    return visit.page("dashboard.html", m=measures.body, charts=_charts(visit, measures.body))


@router.post("/operator/sign-in")
async def operator_sign_in(request: Request, shared: Shared) -> Response:
    visit = OperatorVisit(shared, request)
    form = await form_of(request)
    token = first(form, "token") or None
    if shared.demo and first(form, "demo") == "yes":
        api = shared.api
        token, _ = api.signer.issue(
            DEMO_OPERATOR,
            Role.OPERATOR,
            now_us=api.services.clock.now_us(),
            lifetime_seconds=api.settings.token_lifetime_seconds,
        )
    visit.token = token
    if token is None or await visit.who() is None:
        return visit.page("operator_signin.html", 401, failed=True)
    response = to("/operator")
    response.set_cookie(
        OPERATOR_COOKIE,
        token,
        max_age=shared.api.settings.token_lifetime_seconds,
        path="/operator",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/operator/sign-out")
async def operator_sign_out() -> Response:
    response = to("/operator")
    response.delete_cookie(OPERATOR_COOKIE, path="/operator")
    return response


@router.get("/operator/support")
async def support_queue(request: Request, shared: Shared, state: str = "open") -> Response:
    visit = OperatorVisit(shared, request)
    if await visit.who() is None:
        return to("/operator")
    chosen = state if state in {"open", "answered", "closed"} else "open"
    cases = await visit.call("GET", f"/v1/operator/support/cases?state={chosen}")
    return visit.page("operator_support.html", cases=cases.body if cases.ok else [], state=chosen)


@router.get("/operator/support/{case_id}")
async def support_case(case_id: str, request: Request, shared: Shared) -> Response:
    visit = OperatorVisit(shared, request)
    if await visit.who() is None:
        return to("/operator")
    found = await visit.call("GET", f"/v1/operator/support/cases/{case_id}")
    if not found.ok:
        return visit.page("problem.html", found.status, message=found.message)
    return visit.page(
        "support_case.html", case=found.body, key=new_key("operator"), operator_view=True
    )


@router.post("/operator/support/{case_id}/{action}")
async def support_action(case_id: str, action: str, request: Request, shared: Shared) -> Response:
    """Answer (``answer``) or close (``close``) a case, as the signed-in operator."""
    visit = OperatorVisit(shared, request)
    if await visit.who() is None or action not in {"answer", "close"}:
        return to("/operator")
    form = await form_of(request)
    reply = await visit.call(
        "POST",
        f"/v1/operator/support/cases/{case_id}/{action}",
        json={"text": first(form, "text")},
        key=first(form, "key"),
    )
    if not reply.ok:
        return visit.page("problem.html", reply.status, message=reply.message)
    return to(f"/operator/support/{case_id}")


def _charts(visit: OperatorVisit, m: dict[str, Any]) -> dict[str, Any]:
    t = visit.t
    days = m["days"]
    outcomes = charts.stacked_columns(
        charts.Chart("outcomes", t("outcomes_by_day"), t("outcomes_desc")),
        [day["day"][5:] for day in days],
        [
            charts.Series(t("done"), [d["done"] for d in days], "bar-a"),
            charts.Series(t("denied"), [d["denied"] for d in days], "bar-c"),
            charts.Series(t("challenged"), [d["challenged"] for d in days], "bar-b"),
        ],
    )
    causes = charts.horizontal_bars(
        charts.Chart("causes", t("refusal_causes"), t("causes_desc")),
        [(cause_name(Cause(c), visit.language), n) for c, n in m["refusal_causes"].items()],
    )
    bands = charts.horizontal_bars(
        charts.Chart("bands", t("misoperation_rate"), t("band_desc")),
        [(band["age_band"], PERCENT * (band["misoperation_rate"] or 0)) for band in m["age_bands"]],
        unit="%",
    )
    guidance = m["guidance"]
    cohorts = charts.horizontal_bars(
        charts.Chart("guidance", t("misoperation_rate"), t("guidance_desc")),
        [
            (t(cohort), PERCENT * (guidance[cohort]["misoperation_rate"] or 0))
            for cohort in ("with_bubble", "no_bubble")
        ],
        unit="%",
    )
    devices = charts.paired_bars(
        charts.Chart("devices", t("per_device"), t("device_desc")),
        [
            (
                device["device_model"],
                None if device["success_rate"] is None else PERCENT * device["success_rate"],
                None
                if device["baseline_success_percent"] is None
                else float(device["baseline_success_percent"]),
            )
            for device in m["devices"]
        ],
        (t("measured"), t("baseline")),
        "%",
    )
    risk = charts.horizontal_bars(
        charts.Chart("risk", t("risk_levels"), t("risk_desc")),
        [(f"{t('level')} {level}", n) for level, n in m["risk_levels"].items()],
    )
    queues = charts.horizontal_bars(
        charts.Chart("queues", t("queues"), t("queues")),
        [(t("risk_queue"), m["risk_review_queue"]), (t("support_queue"), m["support_queue"])],
    )
    return {
        "outcomes": outcomes,
        "causes": causes,
        "bands": bands,
        "guidance": cohorts,
        "devices": devices,
        "risk": risk,
        "queues": queues,
    }
