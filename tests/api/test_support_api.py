# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""Support cases over HTTP (R-U3): a refused recall handed to support carries its decision,
packet, device and attempts; operators answer and close; people see only their own cases."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.api.flows import ok, send

LI_WEI_WATCH = ("li-wei-watch", "esim-li-wei-watch")


def _refused_on_the_watch(api: Api) -> tuple[str, dict[str, Any], str]:
    """li-wei sends from the phone and tries to recall from the watch: refused."""
    packet = send(api, "send-1")
    watch = api.token("li-wei", device=LI_WEI_WATCH)
    headers = {"Authorization": f"Bearer {watch}"}
    refused = ok(
        api.client.post(
            f"/v1/packets/{packet['id']}/recalls",
            headers={**headers, "Idempotency-Key": "recall-watch"},
        )
    )
    assert refused["state"] == "denied"
    return packet["id"], refused, watch


def _open(api: Api, token: str, key: str, **body: object) -> Any:
    return api.client.post(
        "/v1/me/support/cases",
        json={"question": "为什么不能撤回？", "origin": "refusal", **body},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )


def test_a_case_carries_the_decision_packet_device_and_attempts(api: Api) -> None:
    packet_id, refused, watch = _refused_on_the_watch(api)
    case = ok(
        _open(api, watch, "case-1", packet_id=packet_id, decision_id=refused["decision_id"]),
        201,
    )
    assert (case["state"], case["packet_id"], case["device_id"]) == (
        "open",
        packet_id,
        "li-wei-watch",
    )
    assert case["decision_id"] == refused["decision_id"]
    assert [a["decision_id"] for a in case["attempts"]] == [refused["decision_id"]]
    assert case["attempts"][0]["result"] == "deny"
    assert case["age_band"] == "26-35"
    again = ok(
        _open(api, watch, "case-1", packet_id=packet_id, decision_id=refused["decision_id"]), 201
    )
    assert again["id"] == case["id"], "a repeated key answers the first case"


def test_an_operator_answers_and_closes_and_the_person_sees_it(api: Api) -> None:
    packet_id, _refused, watch = _refused_on_the_watch(api)
    case = ok(_open(api, watch, "case-1", packet_id=packet_id), 201)
    (queued,) = ok(api.client.get("/v1/operator/support/cases", headers=api.headers("ops-demo")))
    assert queued["id"] == case["id"]
    answered = ok(
        api.client.post(
            f"/v1/operator/support/cases/{case['id']}/answer",
            json={"text": "请用发红包的手机撤回。"},
            headers=api.headers("ops-demo", "answer-1"),
        )
    )
    assert answered["state"] == "answered"
    seen = ok(api.client.get(f"/v1/me/support/cases/{case['id']}", headers=api.headers("li-wei")))
    assert [(n["kind"], n["author_id"]) for n in seen["notes"]] == [
        ("opened", "li-wei"),
        ("answered", "ops-demo"),
    ]
    assert seen["notes"][1]["text"] == "请用发红包的手机撤回。"
    closed = ok(
        api.client.post(
            f"/v1/operator/support/cases/{case['id']}/close",
            json={"text": "solved: recalled from the phone"},
            headers=api.headers("ops-demo", "close-1"),
        )
    )
    assert (closed["state"], closed["closed_at"] is not None) == ("closed", True)
    late = api.client.post(
        f"/v1/operator/support/cases/{case['id']}/answer",
        json={"text": "one more thing"},
        headers=api.headers("ops-demo", "answer-2"),
    )
    assert (late.status_code, late.json()["error"]["code"]) == (409, "support.case_closed")
    (mine,) = ok(api.client.get("/v1/me/support/cases", headers=api.headers("li-wei")))
    assert mine["state"] == "closed"


def test_people_never_reach_the_queue_nor_anothers_case(api: Api) -> None:
    packet_id, _refused, watch = _refused_on_the_watch(api)
    case = ok(_open(api, watch, "case-1", packet_id=packet_id), 201)
    assert (
        api.client.get("/v1/operator/support/cases", headers=api.headers("li-wei")).status_code
        == 403
    )
    answer = api.client.post(
        f"/v1/operator/support/cases/{case['id']}/answer",
        json={"text": "I answer myself"},
        headers=api.headers("li-wei", "answer-self"),
    )
    assert answer.status_code == 403
    other = api.token("wang-fang", device=("wang-fang-mate50", "sim-wang-fang-1"))
    bearer = {"Authorization": f"Bearer {other}"}
    seen = api.client.get(f"/v1/me/support/cases/{case['id']}", headers=bearer)
    assert (seen.status_code, seen.json()["error"]["code"]) == (404, "support.unknown_case")
    assert ok(api.client.get("/v1/me/support/cases", headers=bearer)) == []
    written = api.client.post(
        f"/v1/me/support/cases/{case['id']}/notes",
        json={"text": "hijack"},
        headers={**bearer, "Idempotency-Key": "hijack-1"},
    )
    assert written.status_code == 404


def test_a_question_must_have_words(api: Api) -> None:
    """An empty question is refused with a typed code in the caller's language."""
    answer = api.client.post(
        "/v1/me/support/cases",
        json={"question": "   "},
        headers=api.headers("li-wei", "case-empty", **{"Accept-Language": "zh-CN"}),
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "support.text_invalid")
    assert "1000" in answer.json()["error"]["message"]
