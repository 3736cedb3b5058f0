"""Open the database a URL names."""

from __future__ import annotations

from hongbao.platform.clock import Clock, DatabaseClock, SystemClock
from hongbao.storage.unit_of_work import Database
from hongbao.storage.urls import configured_url, parse_url


def open_database(url: str | None = None, *, pool_size: int = 10) -> Database:
    """Open ``url`` (or ``HONGBAO_DATABASE_URL``, or the embedded default)."""
    database_url = parse_url(configured_url(url))
    if database_url.dialect == "sqlite":
        from hongbao.storage.sqlite import SqliteDatabase  # noqa: PLC0415 - load only what is used

        return SqliteDatabase(database_url)
    from hongbao.storage.postgres import PostgresDatabase  # noqa: PLC0415 - psycopg only when needed

    return PostgresDatabase(database_url, pool_size=pool_size)


def open_clock(url: str | None = None) -> Clock:
    """The clock a deployment on ``url`` judges deadlines by: on PostgreSQL the server's clock,
    which every process reads (see ``DatabaseClock``); on the embedded SQLite database, served
    by one process, that process's own clock."""
    database_url = parse_url(configured_url(url))
    if database_url.dialect == "sqlite":
        return SystemClock()
    from hongbao.storage.postgres_clock import PostgresServerTime  # noqa: PLC0415

    clock = DatabaseClock(PostgresServerTime(database_url))
    clock.start()
    return clock
