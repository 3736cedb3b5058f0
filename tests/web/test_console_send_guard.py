"""The console and the send-time guard (R-B1): a late-night 250 yuan packet to a work group
shows the guard's reasons with "send at 08:00" and "send now"; the delayed packet's page
offers its free cancel, and "send now" sends at once."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

from tests.web.conftest import Console, hidden

LI_WEI = ("li-wei", "li-wei-iphone14pro")
HALF_PAST_TEN_HOURS = 8.5  # the console's clock starts at 14:00 Beijing time


def send_late(console: Console, client: TestClient) -> Response:
    console.clock.advance(seconds=int(HALF_PAST_TEN_HOURS * 3600))
    form = client.get("/send?group=xinghe-team").text
    return client.post(
        "/send",
        data={
            "key": hidden(form, "key"),
            "type": "group_normal",
            "group_id": "xinghe-team",
            "amount": "250.00",
            "shares": "5",
            "funding_source_id": "li-wei-balance",
        },
    )


def balance(console: Console) -> int:
    return console.context.services.ledger.account("user:li-wei:balance").credit_balance


def test_a_stopped_send_is_sent_at_eight_and_cancelled_from_its_page(console: Console) -> None:
    client = console.person(*LI_WEI)
    client.get("/console/language/en")
    before = balance(console)
    stopped = send_late(console, client)
    assert stopped.status_code == 409
    assert "late at night (22:30 Beijing, 22:00-06:00)" in stopped.text
    assert "2026-12-02 08:00" in stopped.text  # the button offers the next 08:00
    assert balance(console) == before

    later = client.post(
        "/send/guarded",
        data={
            "key": hidden(stopped.text, "key"),
            "type": hidden(stopped.text, "type"),
            "group_id": hidden(stopped.text, "group_id"),
            "amount": hidden(stopped.text, "amount"),
            "shares": hidden(stopped.text, "shares"),
            "funding_source_id": hidden(stopped.text, "funding_source_id"),
            "deliver_at": hidden(stopped.text, "deliver_at"),
            "choice": "later",
        },
    )
    assert later.status_code == 200, later.text
    assert 'id="scheduled"' in later.text
    assert "scheduled" in later.text
    cancelled = client.post(
        f"{later.url.path}/cancel-scheduled",
        data={"key": hidden(later.text, "key")},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert "cancelled before delivery" in cancelled.text
    assert balance(console) == before


def test_send_now_sends_the_stopped_packet_at_once(console: Console) -> None:
    client = console.person(*LI_WEI)
    before = balance(console)
    stopped = send_late(console, client)
    fields = ("key", "type", "group_id", "amount", "shares", "funding_source_id")
    now = client.post(
        "/send/guarded",
        data={**{name: hidden(stopped.text, name) for name in fields}, "choice": "now"},
    )
    assert now.status_code == 200, now.text
    assert now.url.path.startswith("/packets/p-")
    assert balance(console) == before - 250_00
