"""The blocking client against the served API: typed answers, safe retries, resumed streams."""

from __future__ import annotations

import json
import random
import threading

import pytest

from hongbao.client import Amount, ApiError, Client, Packet, RetryPolicy
from hongbao.entrypoints.worker import EmbeddedWorker
from hongbao.money import Money
from tests.client.conftest import LossyStreams, LostAnswers, Scripted, Served


def send(
    client: Client, amount: str | Money = "30.00", shares: int = 3, key: str | None = None
) -> Packet:
    """A group packet from li-wei's balance to xinghe-team."""
    return client.send_packet(
        type="group_normal",
        amount=amount,
        shares=shares,
        funding_source_id="li-wei-balance",
        group_id="xinghe-team",
        key=key,
    )


def error_body(code: str, **details: object) -> bytes:
    error = {"code": code, "message": code, "details": details, "decision_id": None}
    return json.dumps({"error": error}).encode()


def test_a_packet_is_sent_claimed_and_read_back_as_typed_models(served: Served) -> None:
    with served.client("li-wei") as sender, served.client("liu-yang") as member:
        packet = send(sender)
        assert packet.total == Amount(amount="30.00", currency="CNY", minor=3000)
        assert packet.total.money() == Money.of(3000, "CNY")
        claim = member.claim(packet.id)
        assert (claim.result, claim.amount) == ("claimed", Amount.of(1000, "CNY"))
        assert member.claim(packet.id).result == "already_claimed"  # a new key, one share
        assert sender.packet(packet.id).claimed_count == 1
        assert [share.claimed_by for share in sender.claims(packet.id)] == ["liu-yang"]
        assert sender.me().subject == "li-wei"


def test_an_amount_is_text_or_money_never_a_float(served: Served) -> None:
    with served.client("li-wei") as sender:
        money = send(sender, Money.parse("12.34", "CNY"))
        assert money.total.minor == 1234
        with pytest.raises(TypeError):
            send(sender, 12.34)  # type: ignore[arg-type]


def test_a_send_whose_answer_is_lost_is_retried_with_its_key_and_moves_money_once(
    served: Served,
) -> None:
    lossy = LostAnswers(lose=2)
    before = served.balance("li-wei")
    with served.client("li-wei", transport=lossy) as sender:
        packet = send(sender)
    keys = {request.headers["Idempotency-Key"] for request in lossy.seen}
    assert len(lossy.seen) == 3
    assert len(keys) == 1
    assert len({request.content for request in lossy.seen}) == 1
    assert served.balance("li-wei") == before - 3000
    assert len(served.sleeps) == 2
    assert served.context.services.packets.packet(packet.id).total_minor == 3000


def test_a_given_key_makes_a_repeat_return_the_first_packet(served: Served) -> None:
    before = served.balance("li-wei")
    with served.client("li-wei") as sender:
        first = send(sender, key="order-42")
        again = send(sender, key="order-42")
        assert first == again
        with pytest.raises(ApiError) as reused:
            send(sender, "31.00", key="order-42")
    assert (reused.value.status, reused.value.code) == (422, "idempotency.key_reused")
    assert served.balance("li-wei") == before - 3000


def test_shed_load_and_a_key_in_progress_are_retried_after_the_time_asked(served: Served) -> None:
    script = [
        (503, {"Retry-After": "3"}, error_body("api.overloaded")),
        (429, {"Retry-After": "2"}, error_body("api.rate_limited")),
        (409, {}, error_body("idempotency.in_progress")),
    ]
    scripted = Scripted(script)
    with served.client("li-wei", transport=scripted) as sender:
        packet = send(sender)
    assert packet.state == "open"
    assert served.sleeps[:2] == [3.0, 2.0]
    assert 0 < served.sleeps[2] <= 0.4
    assert len({request.headers["Idempotency-Key"] for request in scripted.seen}) == 1


def test_a_refusal_is_raised_at_once_with_its_code_details_and_message(served: Served) -> None:
    with served.client("li-wei") as sender:
        with pytest.raises(ApiError) as refused:
            send(sender, "2500.00", shares=20)
        with pytest.raises(ApiError) as unknown:
            sender.packet("p-none")
    assert (refused.value.status, refused.value.code) == (422, "packets.insufficient_funds")
    assert refused.value.message
    assert (unknown.value.status, unknown.value.code) == (404, "packets.unknown_packet")
    assert served.sleeps == []


def test_retries_are_bounded_and_end_in_an_unreachable_error(served: Served) -> None:
    refused = [(503, {"Retry-After": "1"}, error_body("api.overloaded"))] * 10
    scripted = Scripted(refused)
    with served.client("li-wei", transport=scripted) as sender:
        sender.retry = RetryPolicy(max_attempts=4)
        with pytest.raises(ApiError) as shed:
            sender.packet("p-none")
    assert (shed.value.status, shed.value.code, len(scripted.seen)) == (503, "api.overloaded", 4)
    closed = socket_nobody_listens_on()
    nowhere = Client(f"http://127.0.0.1:{closed}", sleep=lambda _: None)
    with nowhere, pytest.raises(ApiError) as unreachable:
        nowhere.packet("p-1")
    assert (unreachable.value.status, unreachable.value.code) == (0, "client.unreachable")


def socket_nobody_listens_on() -> int:
    import socket  # noqa: PLC0415 - only this helper needs it

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_answer_with_a_float_amount_is_refused_not_rounded(served: Served) -> None:
    packet = json.dumps(
        {
            "position": 0,
            "amount": {"amount": "1.5", "currency": "CNY", "minor": 1.5},
            "claimed_by": None,
            "claimed_at_us": None,
        }
    )
    scripted = Scripted([(200, {"Content-Type": "application/json"}, f"[{packet}]".encode())])
    sender = served.client("li-wei", transport=scripted)
    with sender, pytest.raises(ApiError) as invalid:
        sender.claims("p-1")
    assert invalid.value.code == "client.answer_invalid"


def test_the_events_iterator_rebuilds_the_exact_sequence_across_dropped_connections(
    served: Served,
) -> None:
    with served.client("li-wei") as sender:
        packet = send(sender)
        for who in ("liu-yang", "zhao-lei", "li-wei"):
            served.client(who).claim(packet.id)
        expected = list(sender.events(packet.id, follow=False))
    assert [(e.id, e.type) for e in expected] == [
        (1, "PacketSent"),
        (2, "PacketClaimed"),
        (3, "PacketClaimed"),
        (4, "PacketClaimed"),
        (5, "PacketExhausted"),
    ]
    assert expected[0].amount("total") == Amount.of(3000, "CNY")
    assert expected[1].amount("amount") == Amount.of(1000, "CNY")
    assert expected[1].packet_id == packet.id
    lossy = LossyStreams(random.Random(11), most=300)
    with served.client("li-wei", transport=lossy) as flaky:
        flaky.retry = RetryPolicy(max_attempts=20)  # a bad link: many drops before an event
        for _ in range(5):
            assert list(flaky.events(packet.id, follow=False)) == expected
        assert list(flaky.events(packet.id, after=3, follow=False)) == expected[3:]
    assert lossy.drops > 10


def test_following_a_packet_delivers_events_as_they_happen(served: Served) -> None:
    with served.client("li-wei") as sender:
        packet = send(sender)
        seen: list[str] = []

        def follow() -> None:
            lossy = LossyStreams(random.Random(3), most=400)
            with served.client("li-wei", transport=lossy) as flaky:
                flaky.retry = RetryPolicy(max_attempts=20)
                seen.extend(event.type for event in flaky.events(packet.id, max_events=3))

        reader = threading.Thread(target=follow)
        reader.start()
        served.client("liu-yang").claim(packet.id)
        served.client("zhao-lei").claim(packet.id)
        reader.join(timeout=20)
        assert not reader.is_alive()
    assert seen == ["PacketSent", "PacketClaimed", "PacketClaimed"]


def test_my_events_follow_my_feed_and_a_stranger_is_refused_a_packets_stream(
    served: Served,
) -> None:
    with served.client("li-wei") as sender:
        personal = sender.send_packet(
            type="personal",
            amount="5.00",
            shares=1,
            funding_source_id="li-wei-balance",
            recipient_id="liu-yang",
        )
        served.client("liu-yang").claim(personal.id)
        EmbeddedWorker(served.context.services).drain()
        feed = list(sender.my_events(follow=False))
        assert [(e.id, e.type, e.packet_id) for e in feed] == [
            (1, "PacketSent", personal.id),
            (2, "PacketClaimed", personal.id),
            (3, "PacketExhausted", personal.id),
        ]
        recipient = list(served.client("liu-yang").my_events(follow=False))
        assert [e.type for e in recipient] == ["PacketSent", "PacketClaimed", "PacketExhausted"]
        with pytest.raises(ApiError) as stranger:
            list(served.client("zhao-lei").events(personal.id, follow=False))
    assert (stranger.value.status, stranger.value.code) == (403, "auth.not_yours")


def test_a_link_that_never_lets_an_event_through_gives_up_after_the_bounded_attempts(
    served: Served,
) -> None:
    with served.client("li-wei") as sender:
        packet = send(sender)
    lossy = LossyStreams(random.Random(5), most=40)  # shorter than any message
    flaky = served.client("li-wei", transport=lossy)
    flaky.retry = RetryPolicy(max_attempts=6)
    with flaky, pytest.raises(ApiError) as gave_up:
        list(flaky.events(packet.id, follow=False))
    assert (gave_up.value.status, gave_up.value.code) == (0, "client.unreachable")
    assert (lossy.drops, len(served.sleeps)) == (6, 5)
