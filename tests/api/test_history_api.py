"""A packet's tamper-evident history over HTTP on every adapter (R-B2): every event chained,
read by its participants and verified on their side, refused to strangers; a refund's progress
on the live stream and in the chain."""

from __future__ import annotations

from typing import Any

from hongbao.client.history import PacketHistory, verify
from hongbao.entrypoints.worker import EmbeddedWorker
from tests.api.conftest import Api
from tests.api.flows import ok, recall_with_sms, send, wang_fang
from tests.api.test_events_api import read


def history(api: Api, packet_id: str, who: str) -> dict[str, Any]:
    return ok(api.client.get(f"/v1/packets/{packet_id}/history", headers=api.headers(who)))  # type: ignore[no-any-return]


def claim(api: Api, packet_id: str, who: str) -> None:
    answer = api.client.post(
        f"/v1/packets/{packet_id}/claims", headers=api.headers(who, f"claim-{who}-{packet_id}")
    )
    assert ok(answer)["result"] == "claimed"


def test_a_claimer_reads_every_event_as_a_chain_that_verifies_on_their_side(api: Api) -> None:
    packet = send(api, "send-1")["id"]
    for who in ("liu-yang", "zhao-lei", "li-wei"):
        claim(api, packet, who)
    body = history(api, packet, "liu-yang")
    assert [entry["event_type"] for entry in body["entries"]] == [
        "PacketSent",
        "PacketClaimed",
        "PacketClaimed",
        "PacketClaimed",
        "PacketExhausted",
    ]
    assert [entry["sequence"] for entry in body["entries"]] == [1, 2, 3, 4, 5]
    assert body["entries"][0]["previous_hash"] == "0" * 64
    assert body["head"] == {"sequence": 5, "hash": body["entries"][-1]["hash"]}
    assert body["chain"] == "hongbao-chain-v1"
    assert verify(PacketHistory.model_validate(body)).intact
    assert history(api, packet, "li-wei") == body  # nothing here is the sender's own


def test_a_changed_payload_in_the_answer_is_the_first_broken_entry(api: Api) -> None:
    """The client's own check names the entry whose content no longer matches its hash."""
    packet = send(api, "send-1")["id"]
    claim(api, packet, "liu-yang")
    body = history(api, packet, "liu-yang")
    forged = dict(body["entries"][1], payload=body["entries"][1]["payload"].replace("liu", "wu"))
    verdict = verify(
        PacketHistory.model_validate({**body, "entries": [body["entries"][0], forged]})
    )
    assert (verdict.intact, verdict.broken_at) == (False, 2)
    assert verdict.reason == "its payload does not match its digest"


def test_a_stranger_and_a_member_who_did_not_claim_are_refused_the_history(api: Api) -> None:
    packet = send(api, "send-1")["id"]
    stranger = api.client.get(
        f"/v1/packets/{packet}/history", headers={"Authorization": f"Bearer {wang_fang(api)}"}
    )
    assert stranger.status_code == 403
    assert stranger.json()["error"]["code"] == "auth.not_yours"
    onlooker = api.client.get(f"/v1/packets/{packet}/history", headers=api.headers("zhao-lei"))
    assert onlooker.status_code == 403
    missing = api.client.get("/v1/packets/no-such/history", headers=api.headers("li-wei"))
    assert missing.status_code == 404
    operator = api.client.get(f"/v1/packets/{packet}/history", headers=api.headers("ops-demo"))
    assert ok(operator)["head"]["sequence"] == 1


def test_a_recalls_refund_is_on_the_live_stream_and_in_the_chain_with_its_payload_withheld(
    api: Api,
) -> None:
    """The sender follows the refund on the stream; a claimer sees the refund's entries with
    their payload withheld, and their chain still verifies."""
    packet = send(api, "send-1")["id"]
    claim(api, packet, "liu-yang")
    recall_with_sms(api, packet, "recall-1")
    EmbeddedWorker(api.context.services).drain()
    messages, _ = read(api, f"/v1/packets/{packet}/events", "li-wei")
    refunds = [m for m in messages if m.event == "RefundProgressed"]
    assert refunds, [m.event for m in messages]
    assert refunds[-1].data["where"] == "arrived"
    assert refunds[-1].data["refund"] == f"recall:{packet}"
    # A balance refund arrives at once; it is written with the recall, just before its event.
    assert [(m.event, m.data.get("state")) for m in messages] == [
        ("PacketSent", None),
        ("PacketClaimed", None),
        ("RefundProgressed", "settled"),
        ("PacketRecalled", None),
    ]
    sender_view = history(api, packet, "li-wei")
    claimer_view = history(api, packet, "liu-yang")
    assert verify(PacketHistory.model_validate(sender_view)).intact
    assert verify(PacketHistory.model_validate(claimer_view)).intact
    withheld = [e for e in claimer_view["entries"] if e["event_type"] == "RefundProgressed"]
    assert withheld
    assert all(entry["payload"] is None for entry in withheld)
    shown = [e for e in sender_view["entries"] if e["event_type"] == "RefundProgressed"]
    assert all(entry["payload"] is not None for entry in shown)
    assert claimer_view["head"] == sender_view["head"]
