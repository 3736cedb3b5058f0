# ruff: noqa: RUF001 - the Chinese verdicts use Chinese (full-width) punctuation, on purpose
"""A packet's tamper-evident history in the console (R-B2): its participants reach it from the
packet's page and read the chain with the client's own verdict; a row changed in the database
is named as the first broken entry; someone with no part in the packet is refused."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hongbao.bootstrap import services_for
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.tokens import TokenSigner
from hongbao.entrypoints.http.context import ApiContext
from hongbao.entrypoints.http.server import prepare_demo
from hongbao.platform.clock import ManualClock
from hongbao.storage.unit_of_work import Database
from tests.api.conftest import SECRET, STEADY
from tests.web.conftest import Console, hidden
from tests.web.test_console_pages import LI_WEI, LIU_YANG, send_lucky

ZHAO_LEI = ("zhao-lei", "zhao-lei-ipad")


@pytest.fixture
def stored_console(sql_database: Database) -> Iterator[Console]:
    """The console over a SQLite file, so that a test can change a stored row under it."""
    clock = ManualClock(1_796_104_800_000_000)  # Tuesday 2026-12-01 14:00, Beijing time
    demo = dataclasses.replace(STEADY, demo_sign_in=True)
    context = ApiContext(services_for(sql_database, clock), TokenSigner(SECRET), demo)
    prepare_demo(context)
    app = create_app(context)
    with TestClient(app):
        yield Console(context, clock, app)


def claimed_packet(console: Console) -> tuple[str, TestClient]:
    """li-wei sends a lucky packet and liu-yang claims a share from its page."""
    packet_path = send_lucky(console.person(*LI_WEI))
    claimer = console.person(*LIU_YANG)
    page = claimer.get(packet_path).text
    assert 'id="history-link"' not in page  # not a participant yet
    claimer.post(f"{packet_path}/claim", data={"key": hidden(page, "key")})
    return packet_path, claimer


def change_a_row(url: str, statement: str) -> None:
    with sqlite3.connect(Path(url.removeprefix("sqlite:///"))) as connection:
        connection.execute(statement)


def test_a_claimer_reads_an_intact_history_then_the_changed_entry_is_named(
    stored_console: Console,
) -> None:
    packet_path, claimer = claimed_packet(stored_console)
    page = claimer.get(packet_path).text
    assert f'href="{packet_path}/history"' in page
    history = claimer.get(f"{packet_path}/history", headers={"Accept-Language": "en"})
    assert history.status_code == 200, history.text
    assert "intact (2 entries)" in history.text
    assert "packet sent" in history.text
    assert "a share claimed" in history.text
    in_chinese = claimer.get(f"{packet_path}/history", headers={"Accept-Language": "zh-CN"})
    assert "完整（共 2 条）" in in_chinese.text
    packet_id = packet_path.removeprefix("/packets/")
    change_a_row(
        stored_console.context.services.database.url,
        "UPDATE platform_outbox_events SET payload = REPLACE(payload, '888', '88800')"
        f" WHERE id = 'packet:{packet_id}#1'",
    )
    broken = claimer.get(f"{packet_path}/history", headers={"Accept-Language": "en"})
    assert 'data-intact="no"' in broken.text
    assert "broken at entry 1: its content does not match its hash" in broken.text
    broken_zh = claimer.get(f"{packet_path}/history", headers={"Accept-Language": "zh-CN"})
    assert "第 1 条起被改动：内容与哈希不符" in broken_zh.text


def test_someone_with_no_part_in_the_packet_gets_the_refusal_page(console: Console) -> None:
    packet_path = send_lucky(console.person(*LI_WEI))
    stranger = console.person(*ZHAO_LEI)
    assert 'id="history-link"' not in stranger.get(packet_path).text
    refused = stranger.get(f"{packet_path}/history")
    assert refused.status_code == 403
    assert 'role="alert"' in refused.text
    assert "history-verdict" not in refused.text
