"""R-D6 over HTTP: the client reports its device's conditions in Hongbao-Device-Conditions. A
Mate 50 in power-saving mode and a Xiaomi 13 Ultra with game acceleration on are refused with
"device environment abnormal", the condition named and its own next step; the same report
from a model the source does not name changes nothing; a bad report is refused at the edge."""

from __future__ import annotations

from typing import Any

from hongbao.ledger.model import TransferRequest
from tests.api.conftest import Api
from tests.api.flows import bearer, ok, pass_challenges

HEADER = "Hongbao-Device-Conditions"
MATE_50 = ("wang-fang-mate50", "sim-wang-fang-1")
XIAOMI = ("liu-yang-xiaomi13u", "sim-liu-yang-1")
LI_WEI_PHONE = ("li-wei-iphone14pro", "sim-li-wei-1")
SEND = {"type": "group_lucky", "amount": "9.00", "shares": 3}


def sent_by(api: Api, user: str, device: tuple[str, str], group: str) -> tuple[str, str]:
    """A lucky packet ``user`` sent from ``device``; its id and the token used."""
    token = api.token(user, device=device)
    body = {**SEND, "funding_source_id": f"{user}-balance", "group_id": group}
    answer = api.client.post(
        "/v1/packets", json=body, headers=bearer(token, **{"Idempotency-Key": f"send-{user}"})
    )
    return ok(answer, 201)["id"], token


def button(api: Api, packet_id: str, token: str, conditions: str | None, lang: str) -> Any:
    headers = {"Accept-Language": lang} | ({HEADER: conditions} if conditions is not None else {})
    asked = api.client.get(
        f"/v1/packets/{packet_id}/recall-eligibility", headers=bearer(token, **headers)
    )
    return ok(asked)["explanation"]


def fund(api: Api, user: str) -> None:
    """wang-fang is not among the demo's funded people: 100.00 from the demo bank."""
    api.context.services.ledger.transfer(
        TransferRequest(f"fund-{user}", 1, 100_00, "demo-bank", f"user:{user}:balance", "CNY")
    )


def test_a_mate_50_in_power_saving_mode_is_told_to_turn_it_off(api: Api) -> None:
    fund(api, "wang-fang")
    packet_id, token = sent_by(api, "wang-fang", MATE_50, "li-family")
    clear = button(api, packet_id, token, None, "en")
    assert clear["button"] != "disabled", clear
    saving = button(api, packet_id, token, "power_saving", "en")
    assert (saving["button"], saving["cause"]) == ("disabled", "device_environment_abnormal")
    assert "HUAWEI Mate 50 is in power-saving mode" in " ".join(saving["reasons"])
    assert saving["next_steps"][0].startswith("Turn power-saving mode off")
    zh = button(api, packet_id, token, "power_saving", "zh-CN")
    assert "省电模式" in zh["next_steps"][0]
    recalled = api.client.post(
        f"/v1/packets/{packet_id}/recalls",
        headers=bearer(token, **{"Idempotency-Key": "r-1", HEADER: "power_saving"}),
    )
    assert ok(recalled)["state"] == "denied"


def test_a_xiaomi_13_ultra_with_game_acceleration_is_told_to_turn_it_off(api: Api) -> None:
    packet_id, token = sent_by(api, "liu-yang", XIAOMI, "xinghe-team")
    on = button(api, packet_id, token, "game_acceleration", "zh-CN")
    assert (on["button"], on["cause"]) == ("disabled", "device_environment_abnormal")
    assert "游戏加速" in " ".join(on["reasons"])
    assert "关闭游戏加速" in on["next_steps"][0]
    assert button(api, packet_id, token, "power_saving", "en")["button"] != "disabled"


def test_a_model_the_source_does_not_name_is_not_stopped_by_its_report(api: Api) -> None:
    """An iPhone reporting both conditions recalls through its SMS check as usual: the
    conditions travel with the device but are not part of which device it is."""
    packet_id, token = sent_by(api, "li-wei", LI_WEI_PHONE, "xinghe-team")
    both = "power_saving,game_acceleration"
    reported = button(api, packet_id, token, both, "en")
    assert reported["button"] == "challenge"
    headers = bearer(token, **{"Idempotency-Key": "r-iphone", HEADER: both})
    challenged = ok(api.client.post(f"/v1/packets/{packet_id}/recalls", headers=headers))
    assert challenged["state"] == "challenged"
    pass_challenges(api, challenged, "answer")
    done = api.client.post(
        f"/v1/packets/{packet_id}/recalls",
        json={"challenge_ids": challenged["challenge_ids"]},
        headers=headers,
    )
    assert ok(done)["state"] == "done"


def test_an_unknown_or_overlong_report_is_refused_at_the_edge(api: Api) -> None:
    packet_id, token = sent_by(api, "li-wei", LI_WEI_PHONE, "xinghe-team")
    path = f"/v1/packets/{packet_id}/recall-eligibility"
    for report, code in (
        ("airplane_mode", "identity.device_conditions_invalid"),
        ("power_saving," * 20, "input.invalid"),
    ):
        asked = api.client.get(path, headers=bearer(token, **{HEADER: report}))
        assert asked.status_code == 422, asked.text
        assert asked.json()["error"]["code"] == code
