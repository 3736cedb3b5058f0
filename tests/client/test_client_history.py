"""A participant fetches a packet's history with the client and verifies it on their own
machine (R-B2): intact, then the first broken entry once a row is changed in the database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from hongbao.client import ApiError, AsyncClient
from tests.client.conftest import Served
from tests.client.test_async_client import run


def change_a_row(url: str, statement: str) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(Path(url.removeprefix("sqlite:///"))) as connection:
            connection.execute(statement)
        return
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)


def test_a_claimer_verifies_the_history_then_sees_where_a_changed_row_breaks_it(
    served: Served,
) -> None:
    with served.client("li-wei") as sender, served.client("liu-yang") as claimer:
        packet = sender.send_packet(
            type="group_normal",
            amount="30.00",
            shares=3,
            funding_source_id="li-wei-balance",
            group_id="xinghe-team",
        )
        claimer.claim(packet.id)
        history = claimer.history(packet.id)
        assert [entry.event_type for entry in history.entries] == ["PacketSent", "PacketClaimed"]
        verdict = claimer.verify_history(packet.id)
        assert verdict.intact
        assert str(verdict) == "intact (2 entries)"
        url = served.context.services.database.url
        if url.startswith("memory"):
            return  # no rows to change under the service
        change_a_row(
            url,
            "UPDATE platform_outbox_events SET payload = REPLACE(payload, '3000', '300000')"
            f" WHERE id = 'packet:{packet.id}#1'",
        )
        broken = claimer.verify_history(packet.id)
        assert (broken.intact, broken.broken_at) == (False, 1)
        assert str(broken) == "broken at entry 1: its content does not match its hash"


def test_someone_with_no_part_in_the_packet_is_refused_its_history(served: Served) -> None:
    with served.client("li-wei") as sender, served.client("zhao-lei") as onlooker:
        packet = sender.send_packet(
            type="group_normal",
            amount="30.00",
            shares=3,
            funding_source_id="li-wei-balance",
            group_id="xinghe-team",
        )
        with pytest.raises(ApiError) as refused:
            onlooker.history(packet.id)
        assert (refused.value.status, refused.value.code) == (403, "auth.not_yours")


def test_the_async_client_fetches_and_verifies_the_senders_history(served: Served) -> None:
    async def work(client: AsyncClient) -> None:
        packet = await client.send_packet(
            type="group_lucky",
            amount="9.00",
            shares=3,
            funding_source_id="li-wei-balance",
            group_id="xinghe-team",
        )
        history = await client.history(packet.id)
        assert (history.head.sequence, history.entries[0].event_type) == (1, "PacketSent")
        verdict = await client.verify_history(packet.id)
        assert verdict.intact

    run(served, "li-wei", work)
