"""The social consequences of recalls over HTTP: the caller's standing, operators' views, the
send refused by a lowered pair weight, and the warning in the recall button's answer."""

from __future__ import annotations

from hongbao.entrypoints.worker import build_relay
from tests.api.conftest import Api
from tests.api.flows import ok, recall_with_sms, send

TO_LIU_YANG = {
    "type": "personal",
    "amount": "5.00",
    "shares": 1,
    "funding_source_id": "li-wei-balance",
    "recipient_id": "liu-yang",
}


def recall_to_liu_yang(api: Api) -> dict[str, object]:
    packet = send(api, "social-send", TO_LIU_YANG)
    done = recall_with_sms(api, packet["id"], "social-recall")
    build_relay(api.context.services).deliver_due()
    return done


def test_the_caller_sees_the_lowered_weight_and_its_cause(api: Api) -> None:
    recall_to_liu_yang(api)
    mine = ok(api.client.get("/v1/me/social", headers=api.headers("li-wei")))
    assert (mine["score"], mine["starting"], mine["maximum"]) == (800, 800, 1000)
    [weight] = mine["weights"]
    assert (weight["user_id"], weight["weight_permille"]) == ("liu-yang", 750)
    assert weight["cap"]["amount"] == "150.00"
    assert weight["recovers_at"].endswith("+08:00")
    kinds = {(change["kind"], change["rule"]) for change in mine["changes"]}
    # liu-yang is li-wei's 8th chat partner: within the top ten.
    assert kinds == {
        ("pair_weight", "recall_to_person"),
        ("intimacy", "close_relationship"),
    }
    as_operator = api.client.get("/v1/users/li-wei/social", headers=api.headers("ops-demo"))
    assert ok(as_operator)["weights"] == mine["weights"]


def test_a_send_above_the_pair_cap_is_refused_with_its_cause_and_recovery(api: Api) -> None:
    recall_to_liu_yang(api)
    body = {**TO_LIU_YANG, "amount": "150.01"}
    answer = api.client.post(
        "/v1/packets",
        json=body,
        headers=api.headers("li-wei", "too-much", **{"Accept-Language": "en"}),
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "social.pair_cap_exceeded"
    assert "150.00" in error["message"]
    assert error["details"]["lifts_at"].endswith("+08:00")
    assert "150.00" in error["details"]["cause_zh"]
    ok(
        api.client.post(
            "/v1/packets",
            json={**TO_LIU_YANG, "amount": "150.00"},
            headers=api.headers("li-wei", "enough"),
        ),
        201,
    )


def test_the_recall_button_warns_of_the_social_cost_without_changing_the_decision(
    api: Api,
) -> None:
    packet = send(api, "warned-send", TO_LIU_YANG)
    path = f"/v1/packets/{packet['id']}/recall-eligibility"
    zh = ok(api.client.get(path, headers=api.headers("li-wei")))
    en = ok(api.client.get(path, headers=api.headers("li-wei", **{"Accept-Language": "en"})))
    assert zh["result"] == en["result"] == "challenge"  # the SMS check, as without the warning
    assert "关系链权重将降为750‰" in zh["explanation"]["social_cost"]
    assert "drops to 750‰" in en["explanation"]["social_cost"]
    assert "intimacy drops 8 points" in en["explanation"]["social_cost"]


def test_operators_see_a_groups_senders_and_their_bans(api: Api) -> None:
    for number in range(3):
        packet = send(api, f"group-send-{number}")
        recall_with_sms(api, packet["id"], f"group-recall-{number}")
    build_relay(api.context.services).deliver_due()
    view = ok(
        api.client.get("/v1/operator/groups/xinghe-team/social", headers=api.headers("ops-demo"))
    )
    [sender] = view["senders"]
    assert sender["user_id"] == "li-wei"
    assert len(sender["recent_recalls_us"]) == 3
    # A work group tolerates 30 % more (R-S6): four recalls, not three, pause it.
    assert (view["group_type"], view["threshold"]) == ("work", 4)
    assert sender["banned_until"] is None
