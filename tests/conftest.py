"""Shared fixtures: a fresh database of each kind, and a controllable clock.

PostgreSQL tests use a real server from ``HONGBAO_TEST_DATABASE_URL`` (default
postgresql://postgres@127.0.0.1:5432/test), each test in a schema of its own. Without a
server they skip with the reason shown; with ``HONGBAO_REQUIRE_POSTGRES=1`` (set by CI) a
missing server fails the run instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from hongbao.platform.clock import ManualClock
from hongbao.platform.unit_of_work import Database
from hongbao.storage import migrate
from hongbao.storage.urls import parse_url
from hongbao.testing import InMemoryDatabase

DEFAULT_TEST_URL = "postgresql://postgres@127.0.0.1:5432/test"
START_US = 1_796_000_000_000_000  # 2026-11-29 in microseconds since the epoch


def postgres_server_url() -> str:
    return os.environ.get("HONGBAO_TEST_DATABASE_URL", DEFAULT_TEST_URL)


def _postgres_unavailable_reason() -> str | None:
    import psycopg  # noqa: PLC0415 - only PostgreSQL tests need the driver

    try:
        with psycopg.connect(postgres_server_url(), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.OperationalError as error:
        return f"PostgreSQL not reachable at {postgres_server_url()}: {error}".strip()
    return None


@pytest.fixture(scope="session")
def postgres_available() -> None:
    reason = _postgres_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("HONGBAO_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"HONGBAO_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def postgres_url(postgres_available: None) -> Iterator[str]:
    """A migrated, empty schema of its own on the test server, dropped afterwards."""
    import psycopg  # noqa: PLC0415

    schema = f"test_{uuid.uuid4().hex[:12]}"
    server = postgres_server_url()
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    url = _with_search_path(server, schema)
    migrate.upgrade(parse_url(url))
    try:
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hongbao.db'}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START_US)


def open_test_database(kind: str, request: pytest.FixtureRequest) -> Database:
    from hongbao.storage.factory import open_database  # noqa: PLC0415

    if kind == "memory":
        return InMemoryDatabase()
    if kind == "sqlite":
        return open_database(request.getfixturevalue("sqlite_url"))
    return open_database(request.getfixturevalue("postgres_url"), pool_size=40)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """The same contract runs on every storage adapter."""
    opened = open_test_database(request.param, request)
    yield opened
    opened.close()


@pytest.fixture
def sql_database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """SQLite, for tests that need a real file-backed database but not PostgreSQL."""
    opened = open_test_database("sqlite", request)
    yield opened
    opened.close()


@pytest.fixture
def postgres_database(request: pytest.FixtureRequest) -> Iterator[Database]:
    opened = open_test_database("postgres", request)
    yield opened
    opened.close()
