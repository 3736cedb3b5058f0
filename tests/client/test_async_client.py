"""The async client against the served API: the same calls, awaited, with the same guarantees."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

import anyio
import httpx

from hongbao.client import Amount, AsyncClient, Event, Packet, RetryPolicy
from hongbao.entrypoints.worker import EmbeddedWorker
from tests.client.conftest import AsyncLossy, Served


def run(
    served: Served,
    who: str,
    work: Callable[[AsyncClient], Awaitable[None]],
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    async def main() -> None:
        http = httpx.AsyncClient(base_url=served.url, transport=transport, timeout=10.0)

        async def pause(seconds: float) -> None:
            served.sleeps.append(seconds)

        async with AsyncClient(http=http, token=served.tokens[who], sleep=pause) as client:
            client.retry = RetryPolicy(max_attempts=20)
            await work(client)
        await http.aclose()

    anyio.run(main)


async def send(client: AsyncClient) -> Packet:
    return await client.send_packet(
        type="group_lucky",
        amount="9.00",
        shares=3,
        funding_source_id="li-wei-balance",
        group_id="xinghe-team",
    )


def test_an_async_send_whose_answers_are_lost_moves_money_once(served: Served) -> None:
    lossy = AsyncLossy(random.Random(1), lose=2)
    before = served.context.services.ledger.account("user:li-wei:balance").credit_balance
    sent: list[Packet] = []

    async def work(client: AsyncClient) -> None:
        sent.append(await send(client))
        assert (await client.packet(sent[0].id)).total == Amount.of(900, "CNY")

    run(served, "li-wei", work, lossy)
    after = served.context.services.ledger.account("user:li-wei:balance").credit_balance
    assert before - after == 900
    assert len({request.headers["Idempotency-Key"] for request in lossy.seen[:3]}) == 1


def test_async_events_resume_after_forced_disconnects_without_gaps_or_repeats(
    served: Served,
) -> None:
    lossy = AsyncLossy(random.Random(2), most=300)
    got: dict[str, list[Event]] = {}

    async def work(client: AsyncClient) -> None:
        packet = await send(client)
        for who in ("liu-yang", "zhao-lei"):
            await client.with_token(served.tokens[who]).claim(packet.id)
        got["packet"] = [event async for event in client.events(packet.id, follow=False)]
        got["resumed"] = [e async for e in client.events(packet.id, after=1, follow=False)]
        EmbeddedWorker(served.context.services).drain()
        got["feed"] = [event async for event in client.my_events(follow=False, max_events=2)]

    run(served, "li-wei", work, lossy)
    assert [(e.id, e.type) for e in got["packet"]] == [
        (1, "PacketSent"),
        (2, "PacketClaimed"),
        (3, "PacketClaimed"),
    ]
    assert got["resumed"] == got["packet"][1:]
    assert [e.type for e in got["feed"]] == ["PacketSent", "PacketClaimed"]
    claimed = [event.amount("amount") for event in got["packet"][1:]]
    assert all(share is not None and 0 < share.minor < 900 for share in claimed)
    assert lossy.drops > 3


def test_following_asynchronously_sees_a_claim_made_while_it_waits(served: Served) -> None:
    seen: list[str] = []

    async def work(client: AsyncClient) -> None:
        packet = await send(client)

        async def follow() -> None:
            async for event in client.events(packet.id, max_events=2):
                seen.append(event.type)

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(follow)
                await anyio.sleep(0.1)
                await client.with_token(served.tokens["liu-yang"]).claim(packet.id)

    run(served, "li-wei", work)
    assert seen == ["PacketSent", "PacketClaimed"]
