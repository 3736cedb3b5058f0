"""Who may call what (R-A5), as one table: every endpoint of the API against its resource's
owner, another user, an operator, no token and an expired token, with the status each gets.

The table is checked on every adapter, and against the app's own routes so that a new
endpoint cannot be added without saying who may call it. For each endpoint the refused calls
run before the allowed ones, so a refusal that changed something would show in the answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hongbao.bootstrap import services_for
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.tokens import Role, TokenSigner
from hongbao.entrypoints.http.context import ApiContext, ApiSettings
from hongbao.packets.guard import GuardDecision
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, ManualClock
from hongbao.recall.records import Incident
from hongbao.risk.cases import CaseKind, CaseState, RiskCase
from hongbao.testing import InMemoryDatabase
from tests.api.conftest import SECRET, Api
from tests.api.flows import bearer, ok, recall_with_sms, send, wang_fang
from tests.conftest import START_US

ROLES = ("owner", "other", "operator", "none", "expired")
RUN_ORDER = ("none", "expired", "other", "operator", "owner")
LI_WEI_PHONE = ("li-wei-iphone14pro", "sim-li-wei-1")
PERSONAL_PACKET = {
    "type": "personal",
    "amount": "5.00",
    "shares": 1,
    "funding_source_id": "li-wei-balance",
    "recipient_id": "liu-yang",
}
World = dict[str, str]
BodyOf = Callable[[World], dict[str, Any]] | dict[str, Any] | None


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # the route's template; {names} are filled in from the world
    expected: tuple[int, int, int, int, int]  # in ROLES order
    body: BodyOf = None

    def body_for(self, world: World) -> dict[str, Any] | None:
        return self.body(world) if callable(self.body) else self.body


READ_OWN = (200, 403, 200, 401, 401)  # the owner and operators read it
OPERATOR_ONLY = (403, 403, 200, 401, 401)
DECIDED = (403, 403, 409, 401, 401)  # operators only, and the thing is in no state for it
OPERATOR_CREATES = (403, 403, 201, 401, 401)
USER_CREATES = (201, 201, 403, 401, 401)  # any user, for themselves; operators act as none
OWNER_ACTS = (200, 403, 403, 401, 401)  # the owner, on their device; not operators
USER_OWN = (200, 200, 403, 401, 401)  # any user, about themselves; operators have no wallet
OWN_CASE = (200, 404, 403, 401, 401)  # another person's support case is as good as absent
CLOSED_CASE = (409, 404, 403, 401, 401)
TABLE = (
    Row("GET", "/v1/me", (200, 200, 200, 401, 401)),
    Row("GET", "/v1/me/balances", USER_OWN),
    Row("GET", "/v1/me/movements", USER_OWN),
    Row("GET", "/v1/me/groups", USER_OWN),
    Row("GET", "/v1/me/hints", USER_OWN),
    Row("POST", "/v1/me/hints/{hint}", USER_OWN, {"event": "shown"}),
    Row("GET", "/v1/users", OPERATOR_ONLY),
    Row("POST", "/v1/users", OPERATOR_CREATES, {"id": "new-user", "display_name": "新用户"}),
    Row("GET", "/v1/users/{user_id}", READ_OWN),
    Row("GET", "/v1/users/{user_id}/devices", READ_OWN),
    Row(
        "POST",
        "/v1/users/{user_id}/devices",
        OPERATOR_CREATES,
        {
            "device_id": "li-wei-pixel",
            "sim_id": "sim-li-wei-2",
            "platform": "android",
            "os_version": "14",
            "model": "Pixel 8",
        },
    ),
    Row("GET", "/v1/users/{user_id}/funding-sources", READ_OWN),
    Row(
        "POST",
        "/v1/users/{user_id}/funding-sources",
        (201, 403, 403, 401, 401),
        {"kind": "debit_card", "bank_name": "CCB", "card_number": "4111111111111111"},
    ),
    Row("GET", "/v1/users/{user_id}/refunds", READ_OWN),
    Row("POST", "/v1/groups", USER_CREATES, {"name": "新群", "type": "work"}),
    Row("GET", "/v1/groups/{group_id}", READ_OWN),
    Row("POST", "/v1/groups/{group_id}/members", READ_OWN, {"user_id": "liu-yang"}),
    Row("GET", "/v1/groups/{group_id}/packets", READ_OWN),
    # Another user naming li-wei's balance finds no such source of theirs.
    Row("POST", "/v1/packets", (201, 404, 403, 401, 401), PERSONAL_PACKET),
    Row("GET", "/v1/packets/{packet_id}", READ_OWN),
    Row("GET", "/v1/packets/{packet_id}/claims", READ_OWN),
    Row("GET", "/v1/packets/{packet_id}/history", READ_OWN),
    # Claims are the caller's own; an outsider's is answered with its result.
    Row("POST", "/v1/packets/{packet_id}/claims", (200, 200, 403, 401, 401)),
    # The sender is let in; the packet is open, not a delayed send, so there is nothing to
    # cancel. Operators hold no money to act with; another user is not the sender.
    Row("POST", "/v1/packets/{packet_id}/cancellations", (409, 403, 403, 401, 401)),
    Row("GET", "/v1/guard-decisions/{decision_id}", READ_OWN),
    Row("GET", "/v1/packets/{packet_id}/recall-eligibility", OWNER_ACTS),
    Row("POST", "/v1/packets/{packet_id}/recalls", OWNER_ACTS),
    Row("GET", "/v1/recalls/{recall_key}", READ_OWN),
    Row("POST", "/v1/challenges", USER_CREATES, {"kind": "sms_code", "purpose": "matrix"}),
    Row("GET", "/v1/challenges/{challenge_id}", READ_OWN),
    Row(
        "POST",
        "/v1/challenges/{challenge_id}/answers",
        OWNER_ACTS,
        {"purpose": "drill", "answer": "not-the-code"},
    ),
    # Any user, for the device of their token: neither li-wei's nor wang-fang's is locked.
    Row(
        "POST",
        "/v1/me/device/unlock",
        (409, 409, 403, 401, 401),
        lambda world: {"challenge_id": world["challenge_id"]},
    ),
    Row("GET", "/v1/refunds/{refund_id}", READ_OWN),
    Row("GET", "/v1/decisions/{decision_id}", READ_OWN),
    Row("GET", "/v1/operator/refunds", OPERATOR_ONLY),
    Row("GET", "/v1/me/social", (200, 200, 403, 401, 401)),  # a user's own; operators have none
    Row("GET", "/v1/users/{user_id}/social", READ_OWN),
    Row("GET", "/v1/operator/groups/{group_id}/social", OPERATOR_ONLY),
    # The operator is let in; the refund arrived already, so there is nothing to credit.
    Row("POST", "/v1/operator/refunds/{refund_id}/credit", (403, 403, 409, 401, 401)),
    Row("GET", "/v1/operator/challenges/{challenge_id}/code", OPERATOR_ONLY),
    Row("GET", "/v1/operator/ledger/verify", OPERATOR_ONLY),
    Row("GET", "/v1/operator/risk/stats", OPERATOR_ONLY),
    Row(
        "POST",
        "/v1/operator/tokens",
        OPERATOR_CREATES,
        {"subject": "li-wei", "device_id": LI_WEI_PHONE[0], "sim_id": LI_WEI_PHONE[1]},
    ),
    Row(
        "POST", "/v1/operator/tokens/revoke", OPERATOR_ONLY, lambda world: {"token": world["spare"]}
    ),
    Row("GET", "/v1/operator/incidents", OPERATOR_ONLY),
    Row("GET", "/v1/operator/incidents/{incident_id}", OPERATOR_ONLY),
    Row("POST", "/v1/operator/incidents/{incident_id}/resolve", OPERATOR_ONLY, {"note": "matrix"}),
    Row("GET", "/v1/operator/risk/cases", OPERATOR_ONLY),
    Row("GET", "/v1/operator/risk/cases/{case_id}", OPERATOR_ONLY),
    Row("POST", "/v1/operator/risk/cases/{case_id}/unlock", OPERATOR_ONLY, {"note": "matrix"}),
    # The operator is let in; a lock case has no held refund to release or confirm.
    Row("POST", "/v1/operator/risk/cases/{case_id}/release", DECIDED, {"note": "matrix"}),
    Row("POST", "/v1/operator/risk/cases/{case_id}/confirm", DECIDED, {"note": "matrix"}),
    Row("GET", "/v1/me/support/cases", USER_OWN),
    Row("POST", "/v1/me/support/cases", USER_CREATES, {"question": "matrix"}),
    Row("GET", "/v1/me/support/cases/{support_case_id}", OWN_CASE),
    Row("POST", "/v1/me/support/cases/{support_case_id}/notes", OWN_CASE, {"text": "matrix"}),
    Row("GET", "/v1/operator/support/cases", OPERATOR_ONLY),
    Row("GET", "/v1/operator/support/cases/{support_case_id}", OPERATOR_ONLY),
    Row(
        "POST", "/v1/operator/support/cases/{support_case_id}/answer", OPERATOR_ONLY, {"text": "m"}
    ),
    Row("POST", "/v1/operator/support/cases/{support_case_id}/close", OPERATOR_ONLY, {"text": "m"}),
    # Runs after the operator closed the case: the owner is let in and told it is closed.
    Row("POST", "/v1/me/support/cases/{support_case_id}/close", CLOSED_CASE, {"text": "m"}),
    Row("GET", "/v1/operator/measures", OPERATOR_ONLY),
    Row("POST", "/v1/me/help-views", USER_OWN),
)
# Served and tested by their owners: the streams (SSE), docs, metrics and health.
NOT_IN_TABLE = ("/events",)


def build_world(api: Api) -> World:
    """li-wei's things: a packet (with a reconciliation incident), a recalled packet with its
    refund and decision, a check and a group; and a spare token to revoke."""
    recalled = send(api, "world-send-r")
    done = recall_with_sms(api, recalled["id"], "world-recall")
    challenge = api.client.post(
        "/v1/challenges",
        json={"kind": "sms_code", "purpose": "drill"},
        headers=api.headers("li-wei", "world-challenge"),
    )
    group = api.client.post(
        "/v1/groups",
        json={"name": "李伟的群", "type": "family"},
        headers=api.headers("li-wei", "world-group"),
    )
    packet_id = send(api, "world-send")["id"]
    incident = Incident(
        f"escrow:{packet_id}", packet_id, "d-world", "open", "drill", api.clock.now_us(), None
    )
    api.context.services.database.transact(lambda uow: uow.recalls.incidents.insert(incident))
    case = RiskCase(
        "lock:d-world",
        CaseKind.LOCK,
        "li-wei",
        CaseState.OPEN,
        3,
        "[]",
        "d-world",
        api.clock.now_us(),
        device_id="li-wei-old-phone",
        sim_id="sim-li-wei-0",
    )
    api.context.services.database.transact(lambda uow: uow.risk.cases.insert(case))
    # A guard decision of li-wei's under the recall decision's id: one {decision_id} serves
    # both routes.
    guarded = GuardDecision(
        done["decision_id"], packet_id, "li-wei", "default@x", "confirmation_needed", "[]",
        '{"checks":[],"regret":{"score":0,"threshold":500,"terms":[]}}',
        api.clock.now_us(), api.clock.now_us(),
    )  # fmt: skip # the record's fields, one line per group of them
    api.context.services.database.transact(lambda uow: uow.packets.guard_decisions.insert(guarded))
    support = api.client.post(
        "/v1/me/support/cases",
        json={"question": "matrix", "packet_id": packet_id},
        headers=api.headers("li-wei", "world-support"),
    )
    return {
        "support_case_id": ok(support, 201)["id"],
        "user_id": "li-wei",
        "packet_id": packet_id,
        "incident_id": incident.id,
        "case_id": case.id,
        "recall_key": "world-recall",
        "decision_id": done["decision_id"],
        "refund_id": done["refund_id"],
        "challenge_id": ok(challenge, 201)["id"],
        "group_id": ok(group, 201)["id"],
        "spare": api.token("li-wei", device=LI_WEI_PHONE),
        "hint": "lucky_recall",
    }


def callers(api: Api) -> dict[str, dict[str, str]]:
    clock = api.clock
    expired, _ = api.context.signer.issue(
        "li-wei",
        Role.USER,
        now_us=clock.now_us() - 2 * 3600 * MICROSECONDS_PER_SECOND,
        lifetime_seconds=3600,
        device=LI_WEI_PHONE,
    )
    return {
        "owner": api.headers("li-wei"),
        "other": bearer(wang_fang(api)),
        "operator": api.headers("ops-demo"),
        "none": {},
        "expired": bearer(expired),
    }


def test_every_endpoint_answers_each_kind_of_caller_as_the_table_says(api: Api) -> None:
    world, headers = build_world(api), callers(api)
    wrong: list[str] = []
    # Reads first: in degrade mode (R-O2) listings answer 503 to anyone, and the latency of
    # the money-path writes is what enters it on a busy machine.
    for number, row in sorted(enumerate(TABLE), key=lambda item: item[1].method != "GET"):
        path = row.path.format(**world)
        for role in RUN_ORDER:
            answer = api.client.request(
                row.method,
                path,
                json=row.body_for(world),
                headers={**headers[role], "Idempotency-Key": f"matrix-{number}-{role}"},
            )
            expected = row.expected[ROLES.index(role)]
            if answer.status_code != expected:
                wrong.append(
                    f"{row.method} {row.path} as {role}: {answer.status_code} "
                    f"(expected {expected}) {answer.text[:200]}"
                )
    assert not wrong, "\n".join(wrong)


def test_the_table_names_every_route_of_the_app() -> None:
    """Read from the OpenAPI document, which lists every route the app serves under /v1."""
    clock = ManualClock(START_US)
    context = ApiContext(
        services_for(InMemoryDatabase(), clock), TokenSigner(SECRET), ApiSettings()
    )
    paths = create_app(context).openapi()["paths"]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/v1/") and not path.endswith(NOT_IN_TABLE)
        for method in operations
    }
    assert routes == {(row.method, row.path) for row in TABLE}
