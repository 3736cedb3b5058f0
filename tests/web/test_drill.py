"""The simulation drill (模拟演练) through the app: a practice room of its own, play money and
two friends, the real policy's grey button after each clock button, a recall through the
practice SMS code, and the bounds on rooms; the real store is never touched."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from hongbao.entrypoints.web.drill_rooms import DrillRooms, RoomLimits
from tests.web.conftest import Console

LI_WEI_BALANCE = "user:li-wei:balance"
LI_WEI = ("li-wei", "li-wei-iphone14pro")
LIU_YANG = ("liu-yang", "liu-yang-xiaomi13u")


def drill_client(console: Console, who: tuple[str, str] = LI_WEI) -> TestClient:
    """A signed-in person who started a practice."""
    client = console.person(*who)
    started = client.post("/drill/start")
    assert started.status_code == 200, started.text
    assert 'id="drill-now"' in started.text
    return client


def key_of(page: str) -> str:
    found = re.search(r'name="key" value="([^"]*)-send"', page)
    assert found is not None, page
    return found[1]


def send(client: TestClient, kind: str = "group_lucky", shares: str = "3") -> tuple[str, str]:
    """A practice packet sent; its id and the page after."""
    page = client.get("/drill").text
    data = {"key": key_of(page) + "-send", "type": kind, "amount": "8.88", "shares": shares}
    after = client.post("/drill/send", data=data).text
    found = re.search(r'data-packet="([^"]+)"', after)
    assert found is not None, after
    return found[1], after


def claim(client: TestClient, packet_id: str, friend: str = "liu-yang") -> str:
    """The friend's claim with the key the page's form carries."""
    page = client.get("/drill").text
    card = page.split(f'data-packet="{packet_id}"', 1)[1]
    form = card.split(f'name="friend" value="{friend}"', 1)[0]
    data = {"key": re.findall(r'name="key" value="([^"]*)"', form)[-1], "friend": friend}
    return client.post(f"/drill/packets/{packet_id}/claim", data=data).text


def press(client: TestClient, move: str, key: str | None = None) -> str:
    return client.post("/drill/clock", data={"key": key or f"press-{move}", "move": move}).text


def button_of(page: str, packet_id: str) -> str:
    card = page.split(f'data-packet="{packet_id}"', 1)[1].split("</article>", 1)[0]
    found = re.search(r'data-button="(\w+)"', card)
    assert found is not None, card
    return found[1]


def test_every_drill_page_says_it_is_practice(console: Console) -> None:
    client = TestClient(console.app)  # type: ignore[arg-type]
    start = client.get("/drill").text
    assert 'class="practice"' in start
    assert "不会动你真实的账户" in start
    assert 'class="practice"' in drill_client(console).get("/drill").text


def test_the_drill_is_in_the_navigation_and_on_the_sign_in_page(console: Console) -> None:
    signed_in = console.person("li-wei", "li-wei-iphone14pro")
    assert 'href="/drill"' in signed_in.get("/wallet").text
    assert 'href="/drill"' in TestClient(console.app).get("/").text  # type: ignore[arg-type]


def test_a_practice_recall_through_the_practice_code_leaves_the_real_store_alone(
    console: Console,
) -> None:
    ledger = console.context.services.ledger
    before = ledger.account(LI_WEI_BALANCE).credit_balance
    client = drill_client(console)
    packet_id, page = send(client)
    assert "¥1991.12" in page  # 2000.00 of play money less the packet
    assert button_of(page, packet_id) == "challenge"
    recall_key = re.search(r'name="key" value="([^"]*-r-[^"]*)"', page)
    assert recall_key is not None
    challenged = client.post(f"/drill/packets/{packet_id}/recall", data={"key": recall_key[1]})
    code = re.search(r'class="drill-code">(\d+)<', challenged.text)
    assert code is not None, challenged.text
    done = client.post(
        f"/drill/packets/{packet_id}/verify", data={"key": "answer-1", "code": code[1]}
    ).text
    assert "已撤回 · ¥8.88" in done
    assert "已到账" in done
    assert "¥2000.00" in done
    assert button_of(done, packet_id) == "disabled"
    assert "红包已经撤回过了" in done
    assert ledger.account(LI_WEI_BALANCE).credit_balance == before
    assert console.context.services.packets.sent_to_group("xinghe-team") == []


def test_after_31_minutes_the_claimed_lucky_packet_turns_grey(console: Console) -> None:
    client = drill_client(console)
    packet_id, _ = send(client)
    assert button_of(claim(client, packet_id), packet_id) == "challenge"
    later = press(client, "jump_31_minutes")
    assert "2026-12-01 10:31" in later
    assert button_of(later, packet_id) == "disabled"
    assert "红包已有人领取" in later


def test_at_23_55_the_settlement_blackout_greys_the_button_until_00_10(
    console: Console,
) -> None:
    client = drill_client(console)
    packet_id, _ = send(client)
    night = press(client, "set_23_55")
    assert "2026-12-01 23:55" in night
    assert button_of(night, packet_id) == "disabled"
    assert "系统正在结算" in night
    assert "00:10" in night


def test_after_24_hours_the_packet_has_expired_and_its_money_came_back(console: Console) -> None:
    client = drill_client(console)
    packet_id, _ = send(client)
    claim(client, packet_id)
    later = press(client, "pass_24_hours")
    assert button_of(later, packet_id) == "disabled"
    assert "已超过撤回时间" in later
    assert "已过期" in later  # the room's worker expired it and refunded the remainder


def test_only_a_signed_in_person_opens_a_room_and_one_room_each(console: Console) -> None:
    rooms: DrillRooms = console.app.state.drill_rooms  # type: ignore[attr-defined]
    anonymous = TestClient(console.app, follow_redirects=False)  # type: ignore[arg-type]
    refused = anonymous.post("/drill/start")
    assert (refused.status_code, refused.headers["location"]) == (303, "/")
    assert "登录后即可开始演练" in anonymous.get("/drill").text
    drill_client(console)
    drill_client(console)  # the same person again, in another browser: replaces the first
    assert len(rooms) == 1


def test_a_double_press_moves_the_practice_clock_once(console: Console) -> None:
    client = drill_client(console)
    press(client, "jump_31_minutes", key="same")
    again = press(client, "jump_31_minutes", key="same")
    assert "2026-12-01 10:31" in again


def test_rooms_are_bounded_in_number_lifetime_and_actions(console: Console) -> None:
    rooms = DrillRooms(
        console.clock, RoomLimits(max_rooms=1, lifetime_us=60_000_000, max_actions=2)
    )
    console.app.state.drill_rooms = rooms  # type: ignore[attr-defined]
    first = drill_client(console)
    second = console.person(*LIU_YANG).post("/drill/start")
    assert second.status_code == 503
    assert "练习房间都在使用中" in second.text
    press(first, "jump_31_minutes", key="a")
    press(first, "jump_31_minutes", key="b")
    worn = first.post("/drill/clock", data={"key": "c", "move": "jump_31_minutes"})
    assert worn.status_code == 429
    assert len(rooms) == 0
    client = drill_client(console)
    room = rooms.find(client.cookies.get("hongbao_drill"))
    assert room is not None
    folder = room.folder
    assert Path(folder).exists()
    console.clock.advance(seconds=61)
    assert "开始演练" in client.get("/drill").text  # expired: closed, a new one may start
    assert len(rooms) == 0
    assert not Path(folder).exists()
