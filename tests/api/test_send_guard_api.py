"""The send-time guard over HTTP (R-B1): a late-night large packet to a work group answers 409
with its reasons and a delayed time; the same key with ``confirm`` sends it, with
``deliver_at`` schedules it; a scheduled packet is its sender's until delivery and can be
cancelled for free."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from hongbao.platform.clock import from_datetime
from tests.api.conftest import Api
from tests.api.flows import balance, ok

BEIJING = ZoneInfo("Asia/Shanghai")
LATE = {
    "type": "group_normal",
    "amount": "250.00",
    "shares": 5,
    "funding_source_id": "li-wei-balance",
    "group_id": "xinghe-team",  # a work group
}


def to_half_past_ten(api: Api) -> datetime:
    """The test clock (08:53 Beijing) moved to 22:30 the same day; returns the next 08:00."""
    now = datetime.fromtimestamp(api.clock.now_us() / 1_000_000, BEIJING)
    late = now.replace(hour=22, minute=30, second=0, microsecond=0)
    api.clock.advance(microseconds=from_datetime(late) - api.clock.now_us())
    return (late + timedelta(days=1)).replace(hour=8, minute=0)


def post_send(api: Api, key: str, body: dict[str, object], lang: str = "en") -> httpx.Response:
    headers = api.headers("li-wei", key, **{"Accept-Language": lang})
    return api.client.post("/v1/packets", json=body, headers=headers)


def test_a_risky_send_answers_409_with_its_reasons_and_moves_nothing(api: Api) -> None:
    offered = to_half_past_ten(api)
    before = balance(api, "li-wei")
    first = post_send(api, "late-1", LATE)
    again = post_send(api, "late-1", LATE)
    assert first.status_code == again.status_code == 409
    assert first.content == again.content
    error = first.json()["error"]
    assert error["code"] == "packets.confirmation_needed"
    assert error["details"]["reasons"] == ["late_night", "large_amount", "guarded_group"]
    assert error["details"]["offered_deliver_at"] == offered.isoformat()
    assert balance(api, "li-wei") == before

    decision = ok(
        api.client.get(
            f"/v1/guard-decisions/{error['decision_id']}",
            headers=api.headers("li-wei", **{"Accept-Language": "en"}),
        )
    )
    assert decision["outcome"] == "confirmation_needed"
    assert decision["explanation"][0] == "late at night (22:30 Beijing, 22:00-06:00)"
    assert decision["signals"]["regret"]["threshold"] == 500
    stranger = api.client.get(
        f"/v1/guard-decisions/{error['decision_id']}", headers=api.headers("liu-yang")
    )
    assert stranger.status_code == 403


def test_the_same_key_with_confirm_sends_it_once(api: Api) -> None:
    to_half_past_ten(api)
    before = balance(api, "li-wei")
    assert post_send(api, "late-2", LATE).status_code == 409
    sent = ok(post_send(api, "late-2", {**LATE, "confirm": True}), 201)
    again = ok(post_send(api, "late-2", {**LATE, "confirm": True}), 201)
    assert sent == again
    assert sent["state"] == "open"
    assert balance(api, "li-wei") == before - 250_00


def test_a_delayed_send_is_the_senders_until_delivery_and_cancels_for_free(api: Api) -> None:
    offered = to_half_past_ten(api)
    before = balance(api, "li-wei")
    scheduled = ok(post_send(api, "late-3", {**LATE, "deliver_at": offered.isoformat()}), 201)
    assert (scheduled["state"], scheduled["deliver_at"]) == ("scheduled", offered.isoformat())
    packet_id = scheduled["id"]
    shown = ok(api.client.get(f"/v1/packets/{packet_id}", headers=api.headers("li-wei")))
    assert shown["state"] == "scheduled"
    member = api.client.get(f"/v1/packets/{packet_id}", headers=api.headers("liu-yang"))
    assert member.status_code == 403
    claim = ok(
        api.client.post(f"/v1/packets/{packet_id}/claims", headers=api.headers("liu-yang", "c"))
    )
    assert claim["result"] == "packet_not_delivered"
    eligibility = ok(
        api.client.get(f"/v1/packets/{packet_id}/recall-eligibility", headers=api.headers("li-wei"))
    )
    assert eligibility["result"] == "deny"
    assert eligibility["explanation"]["button"] == "disabled"

    other = api.client.post(
        f"/v1/packets/{packet_id}/cancellations", headers=api.headers("liu-yang", "x-1")
    )
    assert (other.status_code, other.json()["error"]["code"]) == (403, "packets.not_the_sender")
    cancel = api.client.post(
        f"/v1/packets/{packet_id}/cancellations", headers=api.headers("li-wei", "x-2")
    )
    repeat = api.client.post(
        f"/v1/packets/{packet_id}/cancellations", headers=api.headers("li-wei", "x-2")
    )
    assert cancel.status_code == repeat.status_code == 200
    assert cancel.content == repeat.content
    assert cancel.json()["state"] == "cancelled"
    assert balance(api, "li-wei") == before
    late = api.client.post(
        f"/v1/packets/{packet_id}/cancellations", headers=api.headers("li-wei", "x-3")
    )
    assert (late.status_code, late.json()["error"]["code"]) == (409, "packets.not_scheduled")


def test_a_delivery_time_in_the_past_is_refused(api: Api) -> None:
    past = datetime.fromtimestamp(api.clock.now_us() / 1_000_000 - 60, BEIJING)
    answer = post_send(api, "past-1", {**LATE, "deliver_at": past.isoformat()})
    assert answer.json()["error"]["code"] == "packets.deliver_at_past"
    naive = post_send(api, "past-2", {**LATE, "deliver_at": "2026-12-01T08:00:00"})
    assert naive.status_code == 422
