"""The console's pages through the app: sign-in on the embedded demo, the wallet, a send, a
claim by another person, a recall through its SMS check, a grey button with its cause, the
language switch and the offline API docs."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

from hongbao.entrypoints.http.auth.tokens import Role
from tests.web.conftest import Console, hidden

LI_WEI = ("li-wei", "li-wei-iphone14pro")
LIU_YANG = ("liu-yang", "liu-yang-xiaomi13u")


def send_lucky(client: TestClient, amount: str = "8.88", shares: str = "3") -> str:
    """li-wei sends a lucky packet to xinghe-team from the send form; its page's path."""
    return sending_lucky(client, amount, shares).url.path


def sending_lucky(client: TestClient, amount: str = "8.88", shares: str = "3") -> Response:
    """The send, answered with the new packet's page."""
    form = client.get("/send?group=xinghe-team").text
    sent = client.post(
        "/send",
        data={
            "key": hidden(form, "key"),
            "type": "group_lucky",
            "group_id": "xinghe-team",
            "amount": amount,
            "shares": shares,
            "funding_source_id": "li-wei-balance",
        },
    )
    assert sent.status_code == 200, sent.text
    assert sent.url.path.startswith("/packets/p-")
    return sent


def test_the_sign_in_page_lists_demo_people_and_their_devices(console: Console) -> None:
    """Nobody signed in: the demo's people, each with their devices (a watch among them)."""
    page = TestClient(console.app).get("/")  # type: ignore[arg-type]
    assert page.status_code == 200
    assert 'value="li-wei/li-wei-watch"' in page.text
    assert "HUAWEI MatePad 11" in page.text


def test_a_token_sign_in_is_all_there_is_outside_the_demo(console: Console) -> None:
    """Without the demo, a picked device signs nobody in; a token does."""
    console.context.settings.demo_sign_in = False
    client = TestClient(console.app)  # type: ignore[arg-type]
    assert 'name="token"' in client.get("/").text
    refused = client.post("/console/sign-in", data={"device": "li-wei/li-wei-iphone14pro"})
    assert refused.status_code == 401
    token, _ = console.context.signer.issue(
        "liu-yang",
        Role.USER,
        now_us=console.clock.now_us(),
        lifetime_seconds=600,
        device=("liu-yang-xiaomi13u", "sim-liu-yang-1"),
    )
    signed = client.post("/console/sign-in", data={"token": token})
    assert signed.url.path == "/wallet"
    assert "liu-yang-xiaomi13u" in signed.text


def test_the_token_cookie_is_http_only_and_strict(console: Console) -> None:
    client = TestClient(console.app, follow_redirects=False)  # type: ignore[arg-type]
    signed = client.post("/console/sign-in", data={"device": "li-wei/li-wei-iphone14pro"})
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


def test_the_wallet_shows_balances_and_the_top_up_with_its_reason(console: Console) -> None:
    page = console.person(*LI_WEI).get("/wallet").text
    assert "¥2000.00" in page
    assert "零钱通" in page
    assert "充值" in page


def test_send_claim_by_another_person_and_the_packet_page(console: Console) -> None:
    """li-wei sends; liu-yang sees it open in the group and claims; both see the claim."""
    li_wei, liu_yang = console.person(*LI_WEI), console.person(*LIU_YANG)
    packet_path = send_lucky(li_wei)
    group = liu_yang.get("/groups/xinghe-team").text
    packet_id = packet_path.rsplit("/", 1)[1]
    assert f'action="/packets/{packet_id}/claim"' in group
    claimed = liu_yang.post(
        f"/packets/{packet_id}/claim", data={"key": hidden(group, "key") + "-x"}
    )
    assert "claimed" in claimed.text
    assert "liu-yang" in li_wei.get(packet_path).text


def test_a_recall_through_the_sms_drill_ends_with_where_the_refund_is(console: Console) -> None:
    """li-wei (class I) recalls: the button asks for a check, the confirm page shows the route,
    the SMS code (revealed as a drill) passes, and the result names the refund."""
    li_wei = console.person(*LI_WEI)
    packet_path = send_lucky(li_wei)
    packet = li_wei.get(packet_path).text
    assert 'data-button="challenge"' in packet
    confirm = li_wei.get(f"{packet_path}/recall").text
    assert 'id="refund-plan"' in confirm
    challenged = li_wei.post(f"{packet_path}/recall", data={"key": hidden(confirm, "key")})
    assert challenged.url.path.endswith("/recall/verify")
    challenge_id = hidden(challenged.text, "challenge")
    revealed = li_wei.get(f"{challenged.url}&reveal={challenge_id}")
    code = re.search(r'class="drill-code">(\d+)<', revealed.text)
    assert code is not None, revealed.text
    done = li_wei.post(
        challenged.url.path,
        data={
            "key": hidden(revealed.text, "key"),
            "purpose": hidden(revealed.text, "purpose"),
            "attempt": hidden(revealed.text, "attempt"),
            "challenge": challenge_id,
            f"code-{challenge_id}": code[1],
        },
    )
    assert done.url.path.endswith("/recall/result")
    assert 'id="refund-state"' in done.text
    assert "¥8.88" in done.text


def test_a_wrong_code_asks_again(console: Console) -> None:
    li_wei = console.person(*LI_WEI)
    packet_path = send_lucky(li_wei)
    confirm = li_wei.get(f"{packet_path}/recall").text
    challenged = li_wei.post(f"{packet_path}/recall", data={"key": hidden(confirm, "key")})
    challenge_id = hidden(challenged.text, "challenge")
    again = li_wei.post(
        challenged.url.path,
        data={
            "key": hidden(challenged.text, "key"),
            "purpose": hidden(challenged.text, "purpose"),
            "attempt": hidden(challenged.text, "attempt"),
            "challenge": challenge_id,
            f"code-{challenge_id}": "000000x",
        },
    )
    assert again.url.path.endswith("/recall/verify")
    assert 'role="alert"' in again.text


def test_a_recall_from_another_device_is_a_grey_button_with_its_cause(console: Console) -> None:
    """Sent from the phone, looked at from the watch: disabled, with the cause and a step."""
    phone = console.person(*LI_WEI)
    packet_path = send_lucky(phone)
    watch = console.person("li-wei", "li-wei-watch")
    page = watch.get(packet_path).text
    assert 'data-button="disabled"' in page
    assert re.search(r'<button type="button" class="recall-button" disabled', page)
    assert 'class="cause"' in page
    assert 'class="steps"' in page


def test_the_language_switch_keeps_the_choice(console: Console) -> None:
    client = console.person(*LI_WEI)
    assert "钱包" in client.get("/wallet").text
    english = client.get("/console/language/en?back=/wallet")
    assert english.url.path == "/wallet"
    assert "Balances" in english.text
    assert "top-up" in english.text
    assert '<html lang="en">' in english.text


def test_the_language_switch_goes_back_only_to_this_site(console: Console) -> None:
    client = TestClient(console.app, follow_redirects=False)  # type: ignore[arg-type]
    answer = client.get("/console/language/en?back=//evil.example/x")
    assert answer.headers["location"] == "/wallet"


def test_the_api_docs_load_swagger_ui_from_this_server(console: Console) -> None:
    """No CDN: the page's script and style are served here."""
    client = TestClient(console.app)  # type: ignore[arg-type]
    page = client.get("/docs").text
    assert "cdn" not in page.lower()
    assets = re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', page)
    assert len(assets) >= 2
    for asset in assets:
        assert client.get(asset).status_code == 200
    assert client.get("/console/static/console.css").status_code == 200
