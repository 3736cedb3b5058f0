"""Steps of the API's main flows, shared by the API tests: send, recall with an SMS code."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api

GROUP_PACKET = {
    "type": "group_lucky",
    "amount": "30.00",
    "shares": 3,
    "funding_source_id": "li-wei-balance",
    "group_id": "xinghe-team",
}
WANG_FANG_PHONE = ("wang-fang-mate50", "sim-wang-fang-1")


def ok(response: Any, status: int = 200) -> Any:
    """The JSON body of a response that must have ``status``."""
    assert response.status_code == status, response.text
    return response.json()


def send(api: Api, key: str, body: dict[str, object] | None = None) -> dict[str, Any]:
    """li-wei sends a packet (by default 30.00 in three lucky shares to xinghe-team)."""
    answer = api.client.post(
        "/v1/packets", json=body or GROUP_PACKET, headers=api.headers("li-wei", key)
    )
    return ok(answer, 201)  # type: ignore[no-any-return]


def recall(
    api: Api, packet_id: str, key: str, body: dict[str, object] | None = None
) -> dict[str, Any]:
    answer = api.client.post(
        f"/v1/packets/{packet_id}/recalls", json=body, headers=api.headers("li-wei", key)
    )
    return ok(answer)  # type: ignore[no-any-return]


def pass_challenges(api: Api, challenged: dict[str, Any], key_prefix: str) -> None:
    """Answer every check a challenged recall opened with the code an operator reads."""
    for number, challenge_id in enumerate(challenged["challenge_ids"]):
        code = ok(
            api.client.get(
                f"/v1/operator/challenges/{challenge_id}/code", headers=api.headers("ops-demo")
            )
        )["code"]
        answer = {"purpose": challenged["challenge_purpose"], "answer": code}
        passed = api.client.post(
            f"/v1/challenges/{challenge_id}/answers",
            json=answer,
            headers=api.headers("li-wei", f"{key_prefix}-{number}"),
        )
        assert ok(passed)["result"] == "passed"


def recall_with_sms(api: Api, packet_id: str, key: str) -> dict[str, Any]:
    """The whole recall: asked, challenged, the SMS code passed, repeated and done."""
    challenged = recall(api, packet_id, key)
    assert challenged["state"] == "challenged", challenged
    pass_challenges(api, challenged, f"{key}-answer")
    done = recall(api, packet_id, key, {"challenge_ids": challenged["challenge_ids"]})
    assert done["state"] == "done", done
    return done


def balance(api: Api, user: str) -> int:
    return api.context.services.ledger.account(f"user:{user}:balance").credit_balance


def wang_fang(api: Api) -> str:
    """A token for wang-fang, a user outside xinghe-team with no part in li-wei's packets."""
    return api.token("wang-fang", device=WANG_FANG_PHONE)


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}
