"""Risk control over HTTP (R-K2, R-K5): a client reports where it is with ``Hongbao-Geo``; a
jump of hundreds of kilometres locks the device, the review queue is for operators only, and
an operator's unlock lets the device send again."""

from __future__ import annotations

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
