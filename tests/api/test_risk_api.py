"""Risk control over HTTP (R-K2, R-K5): a client reports where it is with ``Hongbao-Geo``; a
jump of hundreds of kilometres locks the device, the review queue is for operators only, and
an operator's unlock, or the user's own face check, lets the device send again."""

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


def lock_li_weis_phone(api: Api, round_: int) -> None:
    """Two recalls five minutes and about 1,070 km apart: the second locks the device."""
    api.clock.advance(seconds=15 * 60)  # past the travel window of any earlier place
    for number, place in enumerate((SHANGHAI, BEIJING)):
        packet = send(api, f"lock-send-{round_}-{number}")
        api.client.post(
            f"/v1/packets/{packet['id']}/recalls",
            headers=api.headers(
                "li-wei", f"lock-recall-{round_}-{number}", **{"Hongbao-Geo": place}
            ),
        )
        api.clock.advance(seconds=5 * 60)


def face_check(api: Api, key: str, purpose: str, answer: str = "pass") -> str:
    """A face check li-wei opens on his phone for ``purpose`` and answers."""
    opened = ok(
        api.client.post(
            "/v1/challenges",
            json={"kind": "face", "purpose": purpose},
            headers=api.headers("li-wei", f"{key}-open"),
        ),
        201,
    )
    api.client.post(
        f"/v1/challenges/{opened['id']}/answers",
        json={"purpose": purpose, "answer": answer},
        headers=api.headers("li-wei", f"{key}-answer"),
    )
    return str(opened["id"])


def test_a_user_unlocks_their_locked_device_with_a_face_check_spent_once(api: Api) -> None:
    """R-K1: the user's step-up unlocks the device; the check is spent, the case decided by
    the user, and a wrong, misdirected or spent check unlocks nothing."""
    unlock_path = "/v1/me/device/unlock"
    not_locked = api.client.post(
        unlock_path, json={"challenge_id": "ch-none"}, headers=api.headers("li-wei", "u-0")
    )
    assert (not_locked.status_code, not_locked.json()["error"]["code"]) == (
        409,
        "risk.device_not_locked",
    )
    lock_li_weis_phone(api, 1)
    (case,) = ok(api.client.get("/v1/operator/risk/cases", headers=api.headers("ops-demo")))
    device = case["device_id"]
    failed = face_check(api, "wrong", f"unlock:{device}", answer="fail")
    elsewhere = face_check(api, "other", "drill")
    for number, challenge_id in enumerate((failed, elsewhere, "ch-unknown")):
        refused = api.client.post(
            unlock_path,
            json={"challenge_id": challenge_id},
            headers=api.headers("li-wei", f"u-refused-{number}"),
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (
            422,
            "risk.unlock_not_verified",
        )
    passed = face_check(api, "right", f"unlock:{device}")
    unlocked = ok(
        api.client.post(
            unlock_path, json={"challenge_id": passed}, headers=api.headers("li-wei", "u-1")
        )
    )
    assert (unlocked["device_id"], unlocked["state"], unlocked["unlocked_by"]) == (
        device,
        "unlocked",
        "li-wei",
    )
    decided = ok(
        api.client.get(f"/v1/operator/risk/cases/{case['id']}", headers=api.headers("ops-demo"))
    )
    assert (decided["state"], decided["decided_by"]) == ("unlocked", "li-wei")
    assert passed in decided["note"]
    assert send(api, "after-unlock")["id"]
    lock_li_weis_phone(api, 2)
    assert len(ok(api.client.get("/v1/operator/risk/cases", headers=api.headers("ops-demo"))))
    again = api.client.post(
        unlock_path, json={"challenge_id": passed}, headers=api.headers("li-wei", "u-2")
    )
    assert again.json()["error"]["code"] == "risk.unlock_not_verified"  # spent already
