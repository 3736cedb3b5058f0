"""Send, claim and read packets over HTTP on every adapter; idempotency and the error shape."""

from __future__ import annotations

from tests.api.conftest import Api

SEND = {
    "type": "group_normal",
    "amount": "30.00",
    "shares": 3,
    "funding_source_id": "li-wei-balance",
    "group_id": "xinghe-team",
}


def send(api: Api, key: str = "k-1", body: dict[str, object] | None = None) -> dict[str, object]:
    response = api.client.post("/v1/packets", json=body or SEND, headers=api.headers("li-wei", key))
    assert response.status_code == 201, response.text
    return response.json()


def test_a_packet_is_sent_claimed_and_read_back(api: Api) -> None:
    packet = send(api)
    assert (packet["state"], packet["total"]) == (
        "open",
        {"amount": "30.00", "currency": "CNY", "minor": 3000},
    )
    claim = api.client.post(
        f"/v1/packets/{packet['id']}/claims", headers=api.headers("liu-yang", "c-1")
    )
    assert claim.status_code == 200, claim.text
    assert claim.json()["result"] == "claimed"
    status = api.client.get(f"/v1/packets/{packet['id']}", headers=api.headers("li-wei"))
    assert status.json()["claimed_count"] == 1
    claims = api.client.get(f"/v1/packets/{packet['id']}/claims", headers=api.headers("li-wei"))
    assert [c["claimed_by"] for c in claims.json()] == ["liu-yang"]


def test_a_repeated_send_returns_the_first_packet_and_moves_money_once(api: Api) -> None:
    first, again = send(api), send(api)
    assert first == again
    balance = api.context.services.ledger.account("user:li-wei:balance").credit_balance
    assert balance == 2_000_00 - 30_00


def test_a_key_reused_with_another_body_is_refused_with_its_own_code(api: Api) -> None:
    send(api)
    other = api.client.post(
        "/v1/packets", json={**SEND, "amount": "31.00"}, headers=api.headers("li-wei", "k-1")
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency.key_reused"


def test_a_post_without_a_key_or_a_token_is_refused_in_the_one_error_shape(api: Api) -> None:
    no_key = api.client.post("/v1/packets", json=SEND, headers=api.headers("li-wei"))
    assert (no_key.status_code, no_key.json()["error"]["code"]) == (422, "idempotency.key_missing")
    no_token = api.client.post("/v1/packets", json=SEND, headers={"Idempotency-Key": "k"})
    assert no_token.status_code == 401
    assert set(no_token.json()["error"]) == {"code", "message", "details", "decision_id"}


def test_errors_speak_the_language_asked_for(api: Api) -> None:
    poor = {**SEND, "amount": "2500.00", "shares": 20}
    zh = api.client.post("/v1/packets", json=poor, headers=api.headers("li-wei", "k-zh"))
    en = api.client.post(
        "/v1/packets", json=poor, headers=api.headers("li-wei", "k-en", **{"Accept-Language": "en"})
    )
    assert zh.json()["error"]["code"] == en.json()["error"]["code"]
    assert zh.json()["error"]["message"] != en.json()["error"]["message"]


def test_another_user_cannot_read_a_personal_packet(api: Api) -> None:
    personal = {
        "type": "personal",
        "amount": "5.00",
        "shares": 1,
        "funding_source_id": "li-wei-balance",
        "recipient_id": "liu-yang",
    }
    packet = send(api, "k-p", personal)
    stranger = api.client.get(f"/v1/packets/{packet['id']}", headers=api.headers("zhao-lei"))
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (403, "auth.not_yours")
    recipient = api.client.get(f"/v1/packets/{packet['id']}", headers=api.headers("liu-yang"))
    assert recipient.status_code == 200


def test_an_expired_token_is_refused(api: Api) -> None:
    token = api.token("li-wei", device=("li-wei-iphone14pro", "sim-li-wei-1"), lifetime=60)
    api.clock.advance(seconds=60)
    answer = api.client.get("/v1/packets/p-x", headers={"Authorization": f"Bearer {token}"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "auth.token_expired")
