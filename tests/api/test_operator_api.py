"""Operator endpoints over HTTP on every adapter: the R-M2 report, tokens issued and revoked,
and a failed card refund credited to the sender's balance."""

from __future__ import annotations

import re

from hongbao.entrypoints.http.auth.tokens import TOKEN_PATTERN, Role, TokenSigner
from hongbao.entrypoints.worker import EmbeddedWorker
from hongbao.platform.clock import MICROSECONDS_PER_SECOND
from tests.api.conftest import Api
from tests.api.flows import balance, bearer, ok, recall_with_sms, send

LI_WEI_PHONE = {"device_id": "li-wei-iphone14pro", "sim_id": "sim-li-wei-1"}
CARD_PACKET = {
    "type": "group_normal",
    "amount": "30.00",
    "shares": 3,
    "funding_source_id": "li-wei-icbc",
    "group_id": "xinghe-team",
}


def run_worker_at(api: Api, moment_us: int) -> None:
    """Move the clock to ``moment_us`` and run everything that fell due."""
    api.clock.advance(microseconds=moment_us - api.clock.now_us())
    EmbeddedWorker(api.context.services).drain()


def test_the_ledger_report_covers_the_ledger_packets_and_refunds_and_all_hold(api: Api) -> None:
    packet = send(api, "send-1")
    recall_with_sms(api, packet["id"], "recall-1")
    report = ok(api.client.get("/v1/operator/ledger/verify", headers=api.headers("ops-demo")))
    assert report["ok"] is True
    assert (report["packets"]["packets"], report["refunds"]["refunds"]) == (1, 1)
    assert report["ledger"]["violation_count"] == 0
    assert len(report["ledger"]["root_digest"]) == 64
    (cny,) = [c for c in report["ledger"]["currencies"] if c["currency"] == "CNY"]
    assert cny["debits_posted"] == cny["credits_posted"] > 0


def test_a_user_token_is_bound_to_one_of_their_own_devices(api: Api) -> None:
    others = {"subject": "zhao-lei", **LI_WEI_PHONE}
    refused = api.client.post(
        "/v1/operator/tokens", json=others, headers=api.headers("ops-demo", "t-1")
    )
    # The device is registered, to li-wei: what is recorded refuses it, not the body (409).
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "auth.device_of_another")
    bare = api.client.post(
        "/v1/operator/tokens", json={"subject": "li-wei"}, headers=api.headers("ops-demo", "t-2")
    )
    assert (bare.status_code, bare.json()["error"]["code"]) == (422, "auth.device_binding")
    # An operator token names no device: the body's variant refuses one, as the document does.
    operator_on_phone = api.client.post(
        "/v1/operator/tokens",
        json={"subject": "ops-2", "role": "operator", **LI_WEI_PHONE},
        headers=api.headers("ops-demo", "t-4"),
    )
    assert operator_on_phone.status_code == 422
    assert operator_on_phone.json()["error"]["code"] == "auth.device_binding"
    operator = api.client.post(
        "/v1/operator/tokens",
        json={"subject": "ops-2", "role": "operator", "lifetime_seconds": 60},
        headers=api.headers("ops-demo", "t-3"),
    )
    issued = ok(operator, 201)
    assert (issued["role"], issued["device_id"]) == ("operator", None)
    assert issued["expires_at_us"] == api.clock.now_us() + 60 * MICROSECONDS_PER_SECOND
    assert ok(api.client.get("/v1/users", headers=bearer(issued["token"])))


def test_a_revoked_token_is_refused_from_then_on(api: Api) -> None:
    issued = ok(
        api.client.post(
            "/v1/operator/tokens",
            json={"subject": "li-wei", **LI_WEI_PHONE},
            headers=api.headers("ops-demo", "t-1"),
        ),
        201,
    )
    assert api.client.get("/v1/me", headers=bearer(issued["token"])).status_code == 200
    revoked = ok(
        api.client.post(
            "/v1/operator/tokens/revoke",
            json={"token": issued["token"]},
            headers=api.headers("ops-demo", "r-1"),
        )
    )
    assert (revoked["token_id"], revoked["revoked_by"]) == (issued["token_id"], "ops-demo")
    refused = api.client.get("/v1/me", headers=bearer(issued["token"]))
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "auth.token_revoked")
    assert api.client.get("/v1/me", headers=api.headers("li-wei")).status_code == 200


def test_a_failed_card_refund_is_credited_to_the_balance_by_an_operator(api: Api) -> None:
    packet = send(api, "send-1", CARD_PACKET)
    run_worker_at(api, api.clock.now_us() + 16 * 60 * MICROSECONDS_PER_SECOND)  # captured
    done = recall_with_sms(api, packet["id"], "recall-1")
    refund_path = f"/v1/refunds/{done['refund_id']}"
    planned = ok(api.client.get(refund_path, headers=api.headers("li-wei")))
    assert (planned["route"], planned["state"]) == ("debit_card", "in_clearing")
    too_early = api.client.post(
        f"{refund_path.replace('/v1/', '/v1/operator/')}/credit",
        headers=api.headers("ops-demo", "credit-0"),
    )
    assert (too_early.status_code, too_early.json()["error"]["code"]) == (409, "refunds.not_failed")

    api.context.services.refunds.network.close_card("card:li-wei-icbc")  # type: ignore[attr-defined]
    run_worker_at(api, planned["arrives_at_us"])
    failed = ok(
        api.client.get("/v1/operator/refunds?state=failed", headers=api.headers("ops-demo"))
    )
    assert [(r["id"], r["last_error"]) for r in failed] == [
        (done["refund_id"], "the card is closed")
    ]
    before = balance(api, "li-wei")
    credited = ok(
        api.client.post(
            f"/v1/operator/refunds/{done['refund_id']}/credit",
            headers=api.headers("ops-demo", "credit-1"),
        )
    )
    assert (credited["state"], credited["destination_account_id"]) == (
        "credited",
        "user:li-wei:balance",
    )
    assert balance(api, "li-wei") == before + 30_00
    mine = ok(api.client.get("/v1/users/li-wei/refunds", headers=api.headers("li-wei")))
    assert [(r["id"], r["state"]) for r in mine] == [(done["refund_id"], "credited")]
    assert ok(api.client.get("/v1/operator/ledger/verify", headers=api.headers("ops-demo")))["ok"]


def test_revoking_a_malformed_token_is_refused_with_its_own_code_not_a_401(api: Api) -> None:
    for token, reason in (
        ("hb1.not-a-token", "auth.invalid_token"),
        ("x" * 40, "auth.invalid_token"),
    ):
        refused = api.client.post(
            "/v1/operator/tokens/revoke",
            json={"token": token},
            headers=api.headers("ops-demo", f"r-{len(token)}"),
        )
        error = refused.json()["error"]
        assert (refused.status_code, error["code"]) == (422, "auth.revoked_token_invalid")
        assert error["details"] == {"reason": reason}
    # The operator's own login still works: nothing told them to sign in again.
    assert api.client.get("/v1/users", headers=api.headers("ops-demo")).status_code == 200


def test_revoking_a_token_of_our_form_that_is_not_ours_or_has_expired_finds_nothing(
    api: Api,
) -> None:
    """A token the document calls well formed is not refused as malformed: one signed with
    another secret, or one past its expiry, is no live token of ours (404)."""
    foreign, _ = TokenSigner(b"another secret, also 32 bytes or more").issue(
        "li-wei", Role.OPERATOR, now_us=api.clock.now_us(), lifetime_seconds=60
    )
    expired = api.token("ops-demo", operator=True, lifetime=1)
    api.clock.advance(microseconds=2 * MICROSECONDS_PER_SECOND)
    for key, token, reason in (
        ("r-foreign", foreign, "auth.invalid_token"),
        ("r-expired", expired, "auth.token_expired"),
    ):
        assert re.fullmatch(TOKEN_PATTERN, token)
        refused = api.client.post(
            "/v1/operator/tokens/revoke",
            json={"token": token},
            headers=api.headers("ops-demo", key),
        )
        error = refused.json()["error"]
        assert (refused.status_code, error["code"]) == (404, "auth.revoked_token_unknown")
        assert error["details"] == {"reason": reason}
