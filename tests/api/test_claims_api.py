"""Claims over HTTP: the claim lane answers exactly as the documented route does, and claims
committed in groups keep every rule of a claim (tokens, keys, languages, one share each)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hongbao.bootstrap import services_for
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.revocation import revoke
from hongbao.entrypoints.http.auth.tokens import TokenSigner
from hongbao.entrypoints.http.context import ApiContext
from hongbao.entrypoints.http.server import prepare_demo
from hongbao.platform.clock import ManualClock
from hongbao.storage.unit_of_work import Database
from tests.api.conftest import SECRET, STEADY, Api
from tests.api.flows import GROUP_PACKET as SEND

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture(params=["lane", "route"])
def either(request: pytest.FixtureRequest, database: Database, clock: ManualClock) -> Iterator[Api]:
    """The API with claims served by the claim lane, or by the framework's documented route."""
    settings = dataclasses.replace(STEADY, claim_lane=request.param == "lane")
    context = ApiContext(services_for(database, clock), TokenSigner(SECRET), settings)
    tokens = {entry.principal.subject: entry.token for entry in prepare_demo(context)}
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        yield Api(client, context, clock, tokens)


def conversation(api: Api, run: str = "a") -> list[tuple[int, object, str | None]]:
    """A claim's every kind of answer: status, body and the Idempotency-Key echoed. ``run``
    names this conversation's keys, so two of them on one database stay apart."""
    sent = api.client.post("/v1/packets", json=SEND, headers=api.headers("li-wei", f"{run}-send"))
    assert sent.status_code == 201, sent.text
    path = f"/v1/packets/{sent.json()['id']}/claims"
    operator = api.tokens["ops-demo"]
    asks = [
        (path, api.headers("liu-yang", f"{run}-c-1")),
        (path, api.headers("liu-yang", f"{run}-c-1")),  # a repeat
        (path, api.headers("liu-yang", f"{run}-c-2")),  # a second try under another key
        (path, api.headers("liu-yang")),  # no key
        (path, api.headers(None, f"{run}-c-3")),  # no token
        (path, {"Authorization": "Bearer nonsense", "Idempotency-Key": f"{run}-c-4"}),
        (path, {"Authorization": f"Bearer {operator}", "Idempotency-Key": f"{run}-c-5"}),
        (path, api.headers("liu-yang", "bad key with spaces")),
        ("/v1/packets/p-none/claims", api.headers("zhao-lei", f"{run}-c-6")),
        ("/v1/packets/p-none/claims", api.headers("zhao-lei", f"{run}-c-8", **ENGLISH)),
        (path, api.headers("zhao-lei", f"{run}-c-7", **ENGLISH)),
    ]
    answers = []
    for where, headers in asks:
        answer = api.client.post(where, headers=headers)
        answers.append((answer.status_code, answer.json(), answer.headers.get("idempotency-key")))
    other_body = api.client.post(path, json={"x": 1}, headers=api.headers("liu-yang", f"{run}-c-1"))
    answers.append((other_body.status_code, other_body.json(), None))
    return answers


def test_the_claim_lane_and_the_documented_route_answer_alike(either: Api) -> None:
    answers = conversation(either)
    statuses = [status for status, _body, _key in answers]
    assert statuses == [200, 200, 200, 422, 401, 401, 403, 422, 404, 404, 200, 422]
    first = answers[0][1]
    assert isinstance(first, dict)
    assert (first["result"], first["user_id"], answers[0][2]) == ("claimed", "liu-yang", "a-c-1")
    assert answers[1] == answers[0]
    assert answers[2][1]["result"] == "already_claimed"  # type: ignore[index]
    assert answers[2][1]["amount"] == first["amount"]  # type: ignore[index]
    codes = [body["error"]["code"] for status, body, _ in answers if status >= 400]  # type: ignore[index]
    assert codes == [
        "idempotency.key_missing",
        "auth.missing_token",
        "auth.invalid_token",
        "auth.forbidden",
        "idempotency.key_invalid",
        "packets.unknown_packet",
        "packets.unknown_packet",
        "idempotency.key_reused",
    ]
    zh, en = answers[8][1], answers[9][1]
    assert zh["error"]["message"] != en["error"]["message"]  # type: ignore[index]


def test_the_lane_and_the_route_give_the_same_bodies(
    database: Database, clock: ManualClock
) -> None:
    """The same conversation against both on one database: errors word for word, claims
    alike in shape (the shares differ)."""
    seen = []
    for run, lane in (("lane", True), ("route", False)):
        settings = dataclasses.replace(STEADY, claim_lane=lane)
        context = ApiContext(services_for(database, clock), TokenSigner(SECRET), settings)
        tokens = {entry.principal.subject: entry.token for entry in prepare_demo(context)}
        with TestClient(create_app(context), raise_server_exceptions=False) as client:
            answers = conversation(Api(client, context, clock, tokens), run)
        seen.append(
            [(status, body if status >= 400 else shape(body)) for status, body, _ in answers]
        )
    assert seen[0] == seen[1]


def shape(body: object) -> object:
    """A body with its values that differ between two runs (amounts, ids) replaced by types."""
    if isinstance(body, dict):
        return {key: shape(value) for key, value in body.items()}
    if isinstance(body, list):
        return [shape(item) for item in body]
    return type(body).__name__


def test_a_revoked_token_cannot_claim_and_its_key_stays_free(api: Api) -> None:
    sent = api.client.post("/v1/packets", json=SEND, headers=api.headers("li-wei", "send-1"))
    path = f"/v1/packets/{sent.json()['id']}/claims"
    revoke(api.context.services, api.context.signer, api.tokens["liu-yang"], "ops-demo")
    refused = api.client.post(path, headers=api.headers("liu-yang", "c-1"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "auth.token_revoked")
    assert api.context.services.packets.packet(sent.json()["id"]).claimed_count == 0
    found = api.context.services.database.read(
        lambda uow: uow.api.idempotency.get("liu-yang", "c-1")
    )
    assert found is None


def test_claims_answered_through_the_lane_are_counted_in_the_metrics(api: Api) -> None:
    sent = api.client.post("/v1/packets", json=SEND, headers=api.headers("li-wei", "send-1"))
    path = f"/v1/packets/{sent.json()['id']}/claims"
    for key in ("c-1", "c-2"):
        api.client.post(path, headers=api.headers("liu-yang", key))
    metrics = api.client.get("/metrics").text
    assert 'hongbao_claims_total{result="claimed"} 1.0' in metrics
    assert 'hongbao_claims_total{result="already_claimed"} 1.0' in metrics
    assert 'route="/v1/packets/{packet_id}/claims"' in metrics


def test_a_claim_body_over_the_limit_is_refused_before_anything_is_done(api: Api) -> None:
    sent = api.client.post("/v1/packets", json=SEND, headers=api.headers("li-wei", "send-1"))
    path = f"/v1/packets/{sent.json()['id']}/claims"
    big = api.client.post(path, content=b"x" * 70_000, headers=api.headers("liu-yang", "c-1"))
    assert (big.status_code, big.json()["error"]["code"]) == (413, "input.too_large")
    assert api.context.services.packets.packet(sent.json()["id"]).claimed_count == 0
