"""The live status streams over HTTP: order, exact resumption, visibility (R-B2, R-D3, R-A5)."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass

from hongbao.entrypoints.http.stream import StreamSettings
from hongbao.entrypoints.worker import EmbeddedWorker
from tests.api.conftest import Api

SEND = {
    "type": "group_normal",
    "amount": "30.00",
    "shares": 3,
    "funding_source_id": "li-wei-balance",
    "group_id": "xinghe-team",
}
CLAIMERS = ("liu-yang", "zhao-lei")


@dataclass(frozen=True)
class Message:
    id: int
    event: str
    data: dict[str, object]


def parse(raw: bytes) -> tuple[list[Message], list[str]]:
    """Complete SSE messages in ``raw`` (a cut-off last one is dropped), and the comments."""
    messages, comments = [], []
    for block in raw.decode().split("\n\n")[:-1]:
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            if name == "":
                comments.append(value)
            else:
                fields[name] = value
        if "data" in fields:
            messages.append(Message(int(fields["id"]), fields["event"], json.loads(fields["data"])))
    return messages, comments


def send(api: Api, key: str = "k-1", body: dict[str, object] | None = None) -> str:
    response = api.client.post("/v1/packets", json=body or SEND, headers=api.headers("li-wei", key))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def claim(api: Api, packet_id: str, who: str) -> None:
    response = api.client.post(
        f"/v1/packets/{packet_id}/claims", headers=api.headers(who, f"c-{who}-{packet_id}")
    )
    assert response.json()["result"] == "claimed", response.text


def read(api: Api, path: str, who: str, **params: object) -> tuple[list[Message], list[str]]:
    """A bounded read: what is there now (lifetime 0 unless asked otherwise)."""
    response = api.client.get(path, params={"lifetime": 0, **params}, headers=api.headers(who))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return parse(response.content)


def fast(api: Api, **changes: float) -> None:
    """Polls in hundredths of a second, so that waiting tests stay short."""
    settings = {"poll_seconds": 0.01, "keepalive_seconds": 0.05, **changes}
    api.client.app.state.stream_settings = StreamSettings(**settings)  # type: ignore[attr-defined, arg-type]


def test_a_packets_events_arrive_in_order_with_their_sequence_as_id(api: Api) -> None:
    packet = send(api)
    for who in (*CLAIMERS, "li-wei"):
        claim(api, packet, who)
    messages, _ = read(api, f"/v1/packets/{packet}/events", "li-wei")
    assert [(m.id, m.event) for m in messages] == [
        (1, "PacketSent"),
        (2, "PacketClaimed"),
        (3, "PacketClaimed"),
        (4, "PacketClaimed"),
        (5, "PacketExhausted"),
    ]
    assert [m.data.get("user") for m in messages[1:4]] == [*CLAIMERS, "li-wei"]
    assert messages[0].data["total"] == 3000
    assert messages[0].data["currency"] == "CNY"
    assert messages[0].data["created_at_us"] == api.clock.now_us()


def test_a_reconnect_with_last_event_id_gets_exactly_the_rest(api: Api) -> None:
    packet = send(api)
    for who in CLAIMERS:
        claim(api, packet, who)
    path = f"/v1/packets/{packet}/events"
    rest, _ = read(api, path, "li-wei", after=0)
    again = api.client.get(
        path,
        params={"lifetime": 0, "after": 0},
        headers=api.headers("li-wei", **{"Last-Event-ID": "1"}),
    )
    header_wins, _ = parse(again.content)
    assert [m.id for m in header_wins] == [2, 3] == [m.id for m in rest[1:]]
    by_query, _ = read(api, path, "li-wei", after=2)
    assert [m.id for m in by_query] == [3]
    assert read(api, path, "li-wei", after=3)[0] == []


def lossy_read(api: Api, path: str, dice: random.Random) -> list[Message]:
    """A client whose connection drops after a random number of bytes, often mid-message: it
    keeps complete messages only and reconnects after the last id it got."""
    got: list[Message] = []
    for _attempt in range(500):
        headers = api.headers("li-wei", **{"Last-Event-ID": str(got[-1].id if got else 0)})
        cut = dice.randint(1, 300)
        with api.client.stream("GET", path, params={"lifetime": 0}, headers=headers) as response:
            if response.status_code in {429, 503}:  # shed: wait as told, as a client must
                time.sleep(min(5, int(response.headers["Retry-After"])))
                continue
            assert response.status_code == 200, response.read()
            raw = b""
            for chunk in response.iter_raw():
                raw += chunk
                if len(raw) >= cut:
                    break
        got.extend(parse(raw[:cut])[0])
        if len(raw) < cut:
            return got  # the server ended the stream: everything there was has arrived
    raise AssertionError("the lossy client never got to the end")


def test_a_lossy_client_reconnecting_at_random_cuts_rebuilds_the_exact_sequence(api: Api) -> None:
    packets = [send(api, f"k-{number}") for number in range(6)]
    for packet in packets:
        for who in CLAIMERS:
            claim(api, packet, who)
    EmbeddedWorker(api.context.services).drain()
    dice = random.Random(7)
    for path, count in ((f"/v1/packets/{packets[0]}/events", 3), ("/v1/me/events", 18)):
        expected, _ = read(api, path, "li-wei")
        assert [m.id for m in expected] == list(range(1, count + 1))
        for _trial in range(3):
            assert lossy_read(api, path, dice) == expected


def test_events_committed_while_connected_arrive_live_and_keepalives_fill_the_silence(
    api: Api,
) -> None:
    fast(api)
    packet = send(api)
    with api.client.stream(
        "GET",
        f"/v1/packets/{packet}/events",
        params={"lifetime": 5, "max_events": 2},
        headers=api.headers("li-wei"),
    ) as response:
        chunks = response.iter_raw()
        raw = b""
        while b"PacketSent" not in raw:
            raw += next(chunks)
        while b"keep-alive" not in raw:
            raw += next(chunks)
        claim(api, packet, "liu-yang")
        raw += b"".join(chunks)
    messages, comments = parse(raw)
    assert [m.event for m in messages] == ["PacketSent", "PacketClaimed"]
    assert "keep-alive" in comments
    assert raw.startswith(b"retry: ")


def test_an_idle_stream_ends_at_its_lifetime(api: Api) -> None:
    fast(api)
    packet = send(api)
    messages, comments = read(api, f"/v1/packets/{packet}/events", "li-wei", lifetime=0.2)
    assert [m.event for m in messages] == ["PacketSent"]
    assert comments.count("keep-alive") >= 2


def test_the_audience_streams_a_group_packet_but_not_what_the_senders_card_was_charged(
    api: Api,
) -> None:
    packet = send(api, body={**SEND, "funding_source_id": "li-wei-icbc"})
    claim(api, packet, "liu-yang")
    api.clock.advance(seconds=15 * 60)
    EmbeddedWorker(api.context.services).drain()
    sender, _ = read(api, f"/v1/packets/{packet}/events", "li-wei")
    member, _ = read(api, f"/v1/packets/{packet}/events", "zhao-lei")
    operator, _ = read(api, f"/v1/packets/{packet}/events", "ops-demo")
    assert [m.event for m in sender] == ["PacketSent", "PacketClaimed", "AuthorizationCaptured"]
    assert sender == operator
    assert member == sender[:2]
    sender_feed, _ = read(api, "/v1/me/events", "li-wei")
    claimer_feed, _ = read(api, "/v1/me/events", "liu-yang")
    assert [m.event for m in sender_feed] == [m.event for m in sender]
    assert sender_feed[2].data["currency"] == sender[2].data["currency"]
    assert [m.event for m in claimer_feed] == ["PacketClaimed"]


def test_another_user_is_refused_and_an_unknown_packet_is_404(api: Api) -> None:
    personal = {**SEND, "type": "personal", "shares": 1, "recipient_id": "liu-yang"}
    del personal["group_id"]
    packet = send(api, "k-p", personal)
    stranger = api.client.get(f"/v1/packets/{packet}/events", headers=api.headers("zhao-lei"))
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (403, "auth.not_yours")
    recipient, _ = read(api, f"/v1/packets/{packet}/events", "liu-yang")
    assert [m.event for m in recipient] == ["PacketSent"]
    unknown = api.client.get("/v1/packets/p-none/events", headers=api.headers("li-wei"))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (
        404,
        "packets.unknown_packet",
    )
    anonymous = api.client.get(f"/v1/packets/{packet}/events")
    assert anonymous.status_code == 401


def test_a_malformed_last_event_id_is_refused(api: Api) -> None:
    packet = send(api)
    answer = api.client.get(
        f"/v1/packets/{packet}/events",
        params={"lifetime": 0},
        headers=api.headers("li-wei", **{"Last-Event-ID": "-1"}),
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "events.cursor_invalid")


def test_a_new_stream_beyond_the_open_limit_is_shed_with_503(api: Api) -> None:
    fast(api, max_open=0)
    packet = send(api)
    answer = api.client.get(f"/v1/packets/{packet}/events", headers=api.headers("li-wei"))
    assert (answer.status_code, answer.json()["error"]["code"]) == (503, "api.overloaded")


def test_each_users_feed_has_their_own_packets_events_in_a_sequence_of_its_own(api: Api) -> None:
    first = send(api)
    claim(api, first, "liu-yang")
    second = send(api, "k-2")
    claim(api, second, "zhao-lei")
    claim(api, second, "liu-yang")
    EmbeddedWorker(api.context.services).drain()
    sender, _ = read(api, "/v1/me/events", "li-wei")
    assert [(m.id, m.event, m.data["packet_id"]) for m in sender] == [
        (1, "PacketSent", first),
        (2, "PacketClaimed", first),
        (3, "PacketSent", second),
        (4, "PacketClaimed", second),
        (5, "PacketClaimed", second),
    ]
    claimer, _ = read(api, "/v1/me/events", "liu-yang")
    assert [(m.id, m.data["packet_id"], m.data["packet_sequence"]) for m in claimer] == [
        (1, first, 2),
        (2, second, 3),
    ]
    assert claimer[0].data == {**sender[1].data, "created_at_us": sender[1].data["created_at_us"]}
    resumed, _ = read(api, "/v1/me/events", "li-wei", after=3)
    assert [m.id for m in resumed] == [4, 5]


def test_an_operator_has_no_feed_of_their_own(api: Api) -> None:
    answer = api.client.get(
        "/v1/me/events", params={"lifetime": 0}, headers=api.headers("ops-demo")
    )
    assert answer.status_code == 403
