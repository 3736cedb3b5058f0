"""The console's grey button says what the API says: a personal packet claimed in full is
"claimed in full", and the second recall of a packet is "already recalled", each with its own
next step (never "partially claimed" or "past the time window")."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import Console, hidden
from tests.web.test_console_pages import LI_WEI, LIU_YANG, send_lucky


def recall_through_sms(client: TestClient, packet_path: str) -> str:
    """A whole recall from the confirm page through the drill's SMS code; the result page."""
    confirm = client.get(f"{packet_path}/recall").text
    challenged = client.post(f"{packet_path}/recall", data={"key": hidden(confirm, "key")})
    challenge_id = hidden(challenged.text, "challenge")
    revealed = client.get(f"{challenged.url}&reveal={challenge_id}").text
    code = re.search(r'class="drill-code">(\d+)<', revealed)
    assert code is not None, revealed
    done = client.post(
        challenged.url.path,
        data={
            "key": hidden(revealed, "key"),
            "purpose": hidden(revealed, "purpose"),
            "attempt": hidden(revealed, "attempt"),
            "challenge": challenge_id,
            f"code-{challenge_id}": code[1],
        },
    )
    assert done.url.path.endswith("/recall/result"), done.text
    return done.text


def test_a_personal_packet_claimed_in_full_shows_claimed_in_full(console: Console) -> None:
    li_wei, liu_yang = console.person(*LI_WEI), console.person(*LIU_YANG)
    form = li_wei.get("/send").text
    sent = li_wei.post(
        "/send",
        data={
            "key": hidden(form, "key"),
            "type": "personal",
            "recipient_id": "liu-yang",
            "amount": "6.66",
            "shares": "1",
            "funding_source_id": "li-wei-balance",
        },
    )
    assert sent.url.path.startswith("/packets/p-"), sent.text
    claim_page = liu_yang.get(sent.url.path).text
    liu_yang.post(f"{sent.url.path}/claim", data={"key": hidden(claim_page, "key")})
    page = li_wei.get(sent.url.path).text
    assert 'data-button="disabled"' in page
    assert "红包已被全部领完" in page
    assert "转回" in page  # the step: ask the recipient to transfer it back
    assert "已有人领取" not in page


def test_a_second_recall_of_a_recalled_packet_shows_already_recalled(console: Console) -> None:
    """Two browsers of li-wei race: the one that confirms second is told it was recalled."""
    li_wei, other_browser = console.person(*LI_WEI), console.person(*LI_WEI)
    packet_path = send_lucky(li_wei)
    confirm = other_browser.get(f"{packet_path}/recall").text  # opened before the recall
    recall_through_sms(li_wei, packet_path)
    loser = other_browser.post(f"{packet_path}/recall", data={"key": hidden(confirm, "key")})
    assert loser.url.path.endswith("/recall/result")
    assert "红包已经撤回过了" in loser.text
    assert "已超过撤回时间" not in loser.text
    page = li_wei.get(packet_path).text
    assert 'data-button="disabled"' in page
    assert "红包已经撤回过了" in page
