"""Risk control over HTTP (R-K2, R-K5): a client reports where it is with ``Hongbao-Geo``; a
jump of hundreds of kilometres locks the device, the review queue is for operators only, and
an operator's unlock lets the device send again."""

from __future__ import annotations

from hongbao.entrypoints.worker import EmbeddedWorker
from tests.api.conftest import Api
from tests.api.flows import ok, recall, send

SHANGHAI = "31.2304,121.4737"
BEIJING = "39.9042,116.4074"


def test_a_jump_locks_the_device_and_an_operator_unlocks_it_from_the_queue(api: Api) -> None:
    first = send(api, "send-1")
    challenged = api.client.post(
        f"/v1/packets/{first['id']}/recalls",
        headers=api.headers("li-wei", "recall-1", **{"Hongbao-Geo": SHANGHAI}),
    )
    assert ok(challenged)["state"] == "challenged"
    second = send(api, "send-2")
    jumped = ok(
        api.client.post(
            f"/v1/packets/{second['id']}/recalls",
            headers=api.headers("li-wei", "recall-2", **{"Hongbao-Geo": BEIJING}),
        )
    )
    assert jumped["state"] == "denied"
    refused = api.client.post(
        "/v1/packets",
        json={
            "type": "group_lucky",
            "amount": "30.00",
            "shares": 3,
            "funding_source_id": "li-wei-balance",
            "group_id": "xinghe-team",
        },
        headers=api.headers("li-wei", "send-4"),
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (
        403,
        "packets.device_locked",
    )
    assert (
        api.client.get("/v1/operator/risk/cases", headers=api.headers("li-wei")).status_code == 403
    )
    (case,) = ok(api.client.get("/v1/operator/risk/cases", headers=api.headers("ops-demo")))
    assert (case["kind"], case["state"]) == ("lock", "open")
    assert [signal["name"] for signal in case["evidence"]] == ["travel_km"]
    unlocked = ok(
        api.client.post(
            f"/v1/operator/risk/cases/{case['id']}/unlock",
            json={"note": "customer on a flight, called back"},
            headers=api.headers("ops-demo", "unlock-1"),
        )
    )
    assert (unlocked["state"], unlocked["decided_by"]) == ("unlocked", "ops-demo")
    assert send(api, "send-5")["id"]


def test_a_malformed_location_is_refused_and_an_absent_one_is_unknown(api: Api) -> None:
    packet = send(api, "send-1")
    bad = api.client.post(
        f"/v1/packets/{packet['id']}/recalls",
        headers=api.headers("li-wei", "recall-1", **{"Hongbao-Geo": "north pole"}),
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "risk.geo_invalid")
    assert recall(api, packet["id"], "recall-2")["state"] == "challenged"


def test_the_review_metrics_count_the_decisions_and_are_for_operators_only(api: Api) -> None:
    """The lock above, decided by a reviewer: one of two decisions reached level >= 2, and the
    one reviewed case was not confirmed (precision 0 of 1)."""
    first = send(api, "send-1")
    api.client.post(
        f"/v1/packets/{first['id']}/recalls",
        headers=api.headers("li-wei", "recall-1", **{"Hongbao-Geo": SHANGHAI}),
    )
    second = send(api, "send-2")
    api.client.post(
        f"/v1/packets/{second['id']}/recalls",
        headers=api.headers("li-wei", "recall-2", **{"Hongbao-Geo": BEIJING}),
    )
    (case,) = ok(api.client.get("/v1/operator/risk/cases", headers=api.headers("ops-demo")))
    api.client.post(
        f"/v1/operator/risk/cases/{case['id']}/unlock",
        json={"note": "called back"},
        headers=api.headers("ops-demo", "unlock-1"),
    )
    EmbeddedWorker(api.context.services).drain()
    assert (
        api.client.get("/v1/operator/risk/stats", headers=api.headers("li-wei")).status_code == 403
    )
    stats = ok(api.client.get("/v1/operator/risk/stats?days=7", headers=api.headers("ops-demo")))
    assert (stats["decisions"], stats["decisions_at_level_2_or_more"]) == (2, 1)
    assert stats["trigger_rate_bp"] == 5_000
    assert (stats["cases"]["reviewed"], stats["cases"]["unlocked"], stats["precision_bp"]) == (
        1,
        1,
        0,
    )
