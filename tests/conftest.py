"""Shared fixtures: a fresh database of each kind, and a controllable clock.

PostgreSQL tests use a real server from ``HONGBAO_TEST_DATABASE_URL`` (default
postgresql://postgres@127.0.0.1:5432/test), each test in a schema of its own. Without a
server they skip with the reason shown; with ``HONGBAO_REQUIRE_POSTGRES=1`` (set by CI) a
missing server fails the run instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from hongbao.platform.clock import ManualClock, from_datetime
from hongbao.storage import migrate
from hongbao.storage.unit_of_work import Database
from hongbao.storage.urls import parse_url
from hongbao.testing import InMemoryDatabase

DEFAULT_TEST_URL = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMA_PLACEHOLDER = "hongbao_schema_placeholder"
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


# Every test schema creates and drops some forty tables. The test server runs without
# autovacuum, so the system catalogs fill with dead rows and every later CREATE and DROP slows
# down (seen: 700,000 dead rows in pg_attribute, tests several times slower). The suite
# vacuums them at its start and after every CATALOG_VACUUM_EVERY schemas it drops.
CATALOG_VACUUM_EVERY = 40
CATALOGS = (
    "pg_attribute",
    "pg_depend",
    "pg_class",
    "pg_type",
    "pg_constraint",
    "pg_index",
    "pg_trigger",
    "pg_attrdef",
    "pg_shdepend",
    "pg_namespace",
)
_dropped_schemas = 0


def _vacuum_catalogs(connection: object) -> None:
    """Plain VACUUM (no lock against other sessions); a non-superuser gets a warning only."""
    tables = ", ".join(f"pg_catalog.{name}" for name in CATALOGS)
    connection.execute(f"VACUUM {tables}")  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def postgres_available() -> None:
    reason = _postgres_unavailable_reason()
    if reason is None:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(postgres_server_url(), autocommit=True) as connection:
            _vacuum_catalogs(connection)
        return
    if os.environ.get("HONGBAO_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"HONGBAO_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def postgres_schema_script(postgres_available: None) -> str | None:
    """The migrated schema as one SQL script with a placeholder schema name, made once per
    session: running it takes a fifth of the time of running the migrations for every test.
    None (migrate every test) without ``pg_dump``."""
    import psycopg  # noqa: PLC0415

    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return None
    template = f"template_{uuid.uuid4().hex[:12]}"
    server = postgres_server_url()
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {template}")
    try:
        migrate.upgrade(parse_url(_with_search_path(server, template)))
        dumped = subprocess.run(  # noqa: S603 - our own binary path and arguments
            [
                pg_dump,
                "--dbname",
                server,
                "--schema",
                template,
                "--inserts",
                "--no-owner",
                "--no-privileges",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {template} CASCADE")
    # Lines starting with a backslash are psql meta-commands (\restrict), not SQL.
    lines = (line for line in dumped.splitlines() if not line.startswith("\\"))
    return "\n".join(lines).replace(template, SCHEMA_PLACEHOLDER)


@pytest.fixture
def postgres_url(postgres_schema_script: str | None) -> Iterator[str]:
    """A migrated, empty schema of its own on the test server, dropped afterwards."""
    import psycopg  # noqa: PLC0415

    schema = f"test_{uuid.uuid4().hex[:12]}"
    server = postgres_server_url()
    url = _with_search_path(server, schema)
    with psycopg.connect(server, autocommit=True) as connection:
        if postgres_schema_script is None:
            connection.execute(f"CREATE SCHEMA {schema}")
        else:
            connection.execute(postgres_schema_script.replace(SCHEMA_PLACEHOLDER, schema))
    if postgres_schema_script is None:
        migrate.upgrade(parse_url(url))
    try:
        yield url
    finally:
        global _dropped_schemas  # noqa: PLW0603 - one counter for the whole session
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")
            _dropped_schemas += 1
            if _dropped_schemas % CATALOG_VACUUM_EVERY == 0:
                _vacuum_catalogs(connection)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once: a copy is a migrated database in a millisecond."""
    path = tmp_path_factory.mktemp("template") / "hongbao.db"
    migrate.upgrade(parse_url(f"sqlite:///{path}"))
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty SQLite database of its own."""
    target = tmp_path / "hongbao.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


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


@pytest.fixture
def blackout_away_from_now(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tests whose commands run on the wall clock: the default policy (``HONGBAO_POLICY``)
    with the nightly settlement blackout moved twelve hours away from now, so their recalls
    are decided the same at any hour of a CI run."""
    default = Path(__file__).parents[1] / "src" / "hongbao" / "policy" / "default.toml"
    far = datetime.now(tz=ZoneInfo("Asia/Shanghai")) + timedelta(hours=12)
    text = default.read_text()
    text = text.replace('blackout_start = "23:50"', f'blackout_start = "{far:%H:%M}"')
    far_end = far + timedelta(minutes=1)
    text = text.replace('blackout_end = "00:10"', f'blackout_end = "{far_end:%H:%M}"')
    assert 'blackout_end = "00:10"' not in text, "test setup: the default blackout moved"
    path = tmp_path / "policy-blackout-away.toml"
    path.write_text(text)
    monkeypatch.setenv("HONGBAO_POLICY", str(path))
    return path


def ten_in_the_morning_us() -> int:
    """10:00 Beijing time today: no blackout, no bank's nightly maintenance window."""
    today = datetime.now(tz=ZoneInfo("Asia/Shanghai")).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    return from_datetime(today)
