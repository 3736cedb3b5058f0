"""The caller's wallet over HTTP: balances per funding source, movements with reasons, groups
and a group's packets (R-A5: one's own only)."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.flows import GROUP_PACKET, ok, recall_with_sms, send


def balances_by_source(api: Api, who: str) -> dict[str, dict[str, object]]:
    found = ok(api.client.get("/v1/me/balances", headers=api.headers(who)))
    return {entry["source_id"]: entry for entry in found}


def test_balances_show_the_demo_funds_and_every_funding_source(api: Api) -> None:
    """li-wei's balance holds the demo's 2,000.00; 零钱通 and the debit card are listed too."""
    found = balances_by_source(api, "li-wei")
    assert found["li-wei-balance"]["balance"] == {
        "amount": "2000.00",
        "currency": "CNY",
        "minor": 200_000,
    }
    assert found["li-wei-balance"]["available"]["minor"] == 200_000
    assert found["li-wei-lingqiantong"]["kind"] == "money_market"
    assert found["li-wei-icbc"]["kind"] == "debit_card"
    assert found["li-wei-icbc"]["holds"] == []


def test_a_send_and_its_recall_appear_as_movements_with_reasons(api: Api) -> None:
    """Newest first: the recall's refund, the send, the demo's top-up, each in words."""
    packet = send(api, "wallet-send")
    recall_with_sms(api, packet["id"], "wallet-recall")
    found = ok(
        api.client.get(
            "/v1/me/movements", headers=api.headers("li-wei", **{"Accept-Language": "en"})
        )
    )
    reasons = [(entry["reason"], entry["direction"], entry["amount"]["minor"]) for entry in found]
    assert reasons[-1] == ("top-up", "in", 200_000)
    assert ("red packet sent", "out", 3_000) in reasons
    assert reasons[0][1:] == ("in", 3_000)
    assert all(entry["packet_id"] == packet["id"] for entry in found[:-1])
    zh = api.client.get("/v1/me/movements", headers=api.headers("li-wei"))
    assert ok(zh)[-1]["reason"] == "充值"
    assert "充值".encode() in zh.content  # JSON answers keep Chinese as it is, unescaped


def test_a_member_lists_their_groups_and_a_groups_packets(api: Api) -> None:
    """liu-yang is in xinghe-team and sees li-wei's packet there; zhao-lei's other group
    hides it from wang-fang's reach."""
    packet = send(api, "wallet-group")
    groups = ok(api.client.get("/v1/me/groups", headers=api.headers("liu-yang")))
    assert {"xinghe-team", "weekend-gamers"} <= {group["id"] for group in groups}
    listed = ok(
        api.client.get(
            f"/v1/groups/{GROUP_PACKET['group_id']}/packets", headers=api.headers("liu-yang")
        )
    )
    assert [entry["id"] for entry in listed] == [packet["id"]]


def test_a_non_member_cannot_list_a_groups_packets(api: Api) -> None:
    """zhao-lei's token lists xinghe-team (a member); a group he is not in is refused."""
    refused = api.client.get("/v1/groups/weekend-gamers/packets", headers=api.headers("zhao-lei"))
    assert refused.status_code == 403
