"""R-D5 at the web level: a recall's confirm page, shown again mid-recall (a tablet rotated and
reloaded it), resumes the same recall by its idempotency key; only a denial starts afresh."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.web.conftest import Console, hidden
from tests.web.test_console_causes import recall_through_sms
from tests.web.test_console_pages import LI_WEI, send_lucky


def recalls_of(console: Console, packet_id: str) -> list[object]:
    database = console.context.services.database
    return database.read(lambda uow: uow.recalls.recalls.find({"packet_id": packet_id}, limit=10))


def test_the_confirm_page_shown_again_resumes_the_same_recall(console: Console) -> None:
    li_wei = console.person(*LI_WEI)
    packet_path = send_lucky(li_wei)
    packet_id = packet_path.rsplit("/", 1)[1]
    first = li_wei.get(f"{packet_path}/recall").text
    reloaded = li_wei.get(f"{packet_path}/recall").text  # rotated before confirming
    assert hidden(reloaded, "key") == hidden(first, "key")
    challenged = li_wei.post(f"{packet_path}/recall", data={"key": hidden(first, "key")})
    assert challenged.url.path.endswith("/recall/verify")
    again = li_wei.get(f"{packet_path}/recall")  # rotated while the SMS check waits
    assert again.url.path.endswith("/recall/verify")
    assert parse_qs(urlsplit(str(again.url)).query)["key"] == [hidden(first, "key")]
    assert len(recalls_of(console, packet_id)) == 1


def test_a_done_recall_shown_again_is_its_result_not_a_second_recall(console: Console) -> None:
    li_wei = console.person(*LI_WEI)
    packet_path = send_lucky(li_wei)
    recall_through_sms(li_wei, packet_path)
    again = li_wei.get(f"{packet_path}/recall")
    assert again.url.path.endswith("/recall/result")
    assert 'id="refund-state"' in again.text
    assert len(recalls_of(console, packet_path.rsplit("/", 1)[1])) == 1


def test_after_a_denial_the_confirm_page_offers_a_new_attempt(console: Console) -> None:
    """Denied at 23:55 (settlement): after 00:10 the person may try again under a new key."""
    li_wei = console.person(*LI_WEI)
    packet_path = send_lucky(li_wei)
    first = li_wei.get(f"{packet_path}/recall").text
    console.clock.advance(seconds=(9 * 60 + 55) * 60)  # 14:00 -> 23:55 Beijing time
    denied = li_wei.post(f"{packet_path}/recall", data={"key": hidden(first, "key")})
    assert "系统正在结算" in denied.text
    console.clock.advance(seconds=20 * 60)  # 00:15
    retry = li_wei.get(f"{packet_path}/recall").text
    assert hidden(retry, "key") != hidden(first, "key")
