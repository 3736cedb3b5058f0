"""R-D6 in the console: on the demo, the person acting as a Xiaomi 13 Ultra switches game
acceleration on; the grey button names it with its next step; switched off, the recall is
possible again. A hand-edited cookie reports nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import Console, hidden

LIU_YANG = ("liu-yang", "liu-yang-xiaomi13u")


def send_from_liu_yang(client: TestClient) -> str:
    form = client.get("/send?group=xinghe-team").text
    sent = client.post(
        "/send",
        data={
            "key": hidden(form, "key"),
            "type": "group_lucky",
            "group_id": "xinghe-team",
            "amount": "6.00",
            "shares": "2",
            "funding_source_id": "liu-yang-balance",
        },
    )
    assert sent.url.path.startswith("/packets/p-"), sent.text
    return sent.url.path


def test_game_acceleration_greys_the_button_with_its_own_next_step(console: Console) -> None:
    liu_yang = console.person(*LIU_YANG)
    packet_path = send_from_liu_yang(liu_yang)
    assert 'data-button="disabled"' not in liu_yang.get(packet_path).text
    assert "game_acceleration" in liu_yang.get("/console/device").text
    set_on = liu_yang.post(
        "/console/device", data={"condition": "game_acceleration", "back": packet_path}
    )
    assert set_on.url.path == packet_path
    assert 'data-condition="game_acceleration"' in set_on.text
    assert 'data-button="disabled"' in set_on.text
    assert "设备环境异常" in set_on.text
    assert "关闭游戏加速" in set_on.text
    set_off = liu_yang.post("/console/device", data={"back": packet_path})
    assert 'data-button="disabled"' not in set_off.text
    assert "data-condition" not in set_off.text


def test_a_hand_edited_condition_cookie_reports_nothing(console: Console) -> None:
    liu_yang = console.person(*LIU_YANG)
    packet_path = send_from_liu_yang(liu_yang)
    liu_yang.cookies.set("hongbao_conditions", "airplane_mode")
    page = liu_yang.get(packet_path)
    assert page.status_code == 200
    assert 'data-button="disabled"' not in page.text


def test_an_unknown_condition_is_refused_by_the_form(console: Console) -> None:
    liu_yang = console.person(*LIU_YANG)
    refused = liu_yang.post("/console/device", data={"condition": "airplane_mode"})
    assert refused.status_code == 422
