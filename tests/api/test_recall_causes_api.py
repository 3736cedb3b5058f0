"""The two packets with nothing left to recall are refused for what they are: a personal
packet claimed in full is "claimed in full" (not "partially claimed"), and the second of two
recalls of one packet is "already recalled" (not "past the time window"), each with the step
that fits it, in zh-CN and en."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.api.flows import GROUP_PACKET, balance, ok, recall, recall_with_sms, send

PERSONAL = {
    "type": "personal",
    "amount": "8.88",
    "shares": 1,
    "funding_source_id": "li-wei-balance",
    "recipient_id": "liu-yang",
}


def eligibility(api: Api, packet_id: str, language: str) -> dict[str, Any]:
    asked = api.client.get(
        f"/v1/packets/{packet_id}/recall-eligibility",
        headers=api.headers("li-wei", **{"Accept-Language": language}),
    )
    return ok(asked)["explanation"]  # type: ignore[no-any-return]


def test_a_personal_packet_claimed_in_full_is_refused_as_claimed_in_full(api: Api) -> None:
    packet = send(api, "send-personal", PERSONAL)
    claim = api.client.post(
        f"/v1/packets/{packet['id']}/claims", headers=api.headers("liu-yang", "claim-1")
    )
    ok(claim)
    en, zh = eligibility(api, packet["id"], "en"), eligibility(api, packet["id"], "zh-CN")
    assert (en["button"], en["cause"]) == ("disabled", "fully_claimed")
    assert zh["cause"] == "fully_claimed"
    assert "claimed in full" in en["cause_text"]
    assert "partially" not in en["headline"] + en["cause_text"]
    assert zh["cause_text"] == "红包已被全部领完"
    assert "transfer it back" in en["next_steps"][0]
    assert "转回" in zh["next_steps"][0]


def test_the_second_of_two_recalls_of_one_packet_is_refused_as_already_recalled(
    api: Api,
) -> None:
    """Two keys for one packet: the first recall is done; the other is answered "already
    recalled" and pointed at the refund, and money moves once."""
    packet = send(api, "send-1", GROUP_PACKET)
    recall_with_sms(api, packet["id"], "recall-winner")
    after = balance(api, "li-wei")
    loser = recall(api, packet["id"], "recall-loser")
    assert (loser["state"], loser["result"]) == ("denied", "deny")
    explanation = loser["explanation"]
    assert explanation["cause"] == "already_recalled"
    assert explanation["cause_text"] == "红包已经撤回过了"
    assert "超过" not in explanation["headline"]  # not "past the time window"
    assert "退款" in explanation["next_steps"][0]
    en = eligibility(api, packet["id"], "en")
    assert en["cause"] == "already_recalled"
    assert "already been recalled" in en["cause_text"]
    assert "refund" in en["next_steps"][0]
    assert balance(api, "li-wei") == after
