"""Step-up checks over HTTP on every adapter: opened, read and answered by their owner only;
the simulated code only through the operator endpoint."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.api.flows import ok

SMS = {"kind": "sms_code", "purpose": "drill"}


def open_sms(api: Api, key: str = "ch-1") -> dict[str, Any]:
    answer = api.client.post("/v1/challenges", json=SMS, headers=api.headers("li-wei", key))
    return ok(answer, 201)  # type: ignore[no-any-return]


def answer(api: Api, challenge_id: str, text: str, key: str, purpose: str = "drill") -> Any:
    return api.client.post(
        f"/v1/challenges/{challenge_id}/answers",
        json={"purpose": purpose, "answer": text},
        headers=api.headers("li-wei", key),
    )


def code_of(api: Api, challenge_id: str) -> str:
    path = f"/v1/operator/challenges/{challenge_id}/code"
    return ok(api.client.get(path, headers=api.headers("ops-demo")))["code"]  # type: ignore[no-any-return]


def test_an_sms_check_is_passed_with_the_code_after_a_wrong_guess(api: Api) -> None:
    opened = open_sms(api)
    assert (opened["state"], opened["attempts_remaining"], opened["device_id"]) == (
        "pending",
        5,
        "li-wei-iphone14pro",
    )
    code = code_of(api, opened["id"])
    wrong = "000000" if code != "000000" else "111111"
    assert ok(answer(api, opened["id"], wrong, "a-1")) == {
        "challenge_id": opened["id"],
        "result": "wrong_answer",
        "attempts_remaining": 4,
    }
    assert ok(answer(api, opened["id"], code, "a-2"))["result"] == "passed"
    shown = ok(api.client.get(f"/v1/challenges/{opened['id']}", headers=api.headers("li-wei")))
    assert (shown["state"], shown["attempts_remaining"]) == ("passed", 3)
    assert code not in str(shown)


def test_an_answer_repeated_under_one_key_uses_one_attempt(api: Api) -> None:
    opened = open_sms(api)
    first = answer(api, opened["id"], "999999x", "a-1")
    again = answer(api, opened["id"], "999999x", "a-1")
    assert ok(first) == ok(again)
    shown = ok(api.client.get(f"/v1/challenges/{opened['id']}", headers=api.headers("li-wei")))
    assert shown["attempts_remaining"] == 4


def test_an_answer_for_another_purpose_learns_nothing_and_uses_no_attempt(api: Api) -> None:
    opened = open_sms(api)
    refused = ok(answer(api, opened["id"], code_of(api, opened["id"]), "a-1", purpose="other"))
    assert (refused["result"], refused["attempts_remaining"]) == ("wrong_purpose", None)


def test_only_the_owner_reads_and_answers_a_check_and_only_operators_see_its_code(
    api: Api,
) -> None:
    opened = open_sms(api)
    path = f"/v1/challenges/{opened['id']}"
    assert api.client.get(path, headers=api.headers("zhao-lei")).status_code == 403
    assert api.client.get(path, headers=api.headers("ops-demo")).status_code == 200
    for who in ("zhao-lei", "ops-demo"):
        other = api.client.post(
            f"{path}/answers",
            json={"purpose": "drill", "answer": "1"},
            headers=api.headers(who, "a"),
        )
        assert other.status_code == 403, who
    own_code = api.client.get(
        f"/v1/operator/challenges/{opened['id']}/code", headers=api.headers("li-wei")
    )
    assert (own_code.status_code, own_code.json()["error"]["code"]) == (403, "auth.operator_only")


def test_a_face_check_has_no_code_to_reveal(api: Api) -> None:
    face = api.client.post(
        "/v1/challenges",
        json={"kind": "face", "purpose": "drill"},
        headers=api.headers("li-wei", "f"),
    )
    opened = ok(face, 201)
    reveal = api.client.get(
        f"/v1/operator/challenges/{opened['id']}/code", headers=api.headers("ops-demo")
    )
    assert (reveal.status_code, reveal.json()["error"]["code"]) == (
        422,
        "verification.reveal_not_supported",
    )


def test_an_unknown_check_is_not_found(api: Api) -> None:
    missing = api.client.get("/v1/challenges/ch-none", headers=api.headers("li-wei"))
    assert (missing.status_code, missing.json()["error"]["code"]) == (
        404,
        "identity.unknown_challenge",
    )
