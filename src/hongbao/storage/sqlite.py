"""SQLite adapter: the embedded default. One writer at a time (``BEGIN IMMEDIATE``), WAL mode.

SQLite has no row locks: a write transaction holds the database's single write lock from its
first statement, which is stronger than the row locks the ledger asks for. Each thread has its
own connection; readers never block the writer in WAL mode.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from hongbao.platform.errors import (
    ConfigurationError,
    InvariantViolation,
    PlatformCode,
    StorageCode,
)
from hongbao.platform.unit_of_work import Result
from hongbao.storage import migrate
from hongbao.storage.retry import with_retry
from hongbao.storage.sql_dialect import Cursor, Row
from hongbao.storage.sql_ledger import SqlLedgerRepository
from hongbao.storage.sql_unit_of_work import SqlUnitOfWork
from hongbao.storage.unit_of_work import UnitOfWork
from hongbao.storage.urls import DatabaseUrl

BUSY_TIMEOUT_MILLISECONDS = 10_000
STREAM_BATCH = 1_000


class SqliteDialect:
    name = "sqlite"
    lock_clause = ""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._cursors: list[sqlite3.Cursor] = []

    def sql(self, statement: str) -> str:
        return statement.replace("%s", "?")

    def in_list(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    def id_table(self, values: Sequence[str]) -> tuple[str, list[Any]]:
        return "(SELECT value AS id FROM json_each(?)) AS ids", [json.dumps(list(values))]

    def keyed_select(
        self,
        table: str,
        columns: Sequence[str],
        key: Sequence[str],
        key_types: Sequence[str],
        keys: Sequence[Sequence[Any]],
        *,
        lock: bool,
    ) -> tuple[str, list[Any]]:
        values, parameters = self.rows_table(key, key_types, keys)
        key_list = ", ".join(key)
        return (
            f"SELECT {', '.join(columns)} FROM {table} WHERE ({key_list}) IN "
            f"(SELECT {key_list} FROM {values}) ORDER BY {key_list}",
            parameters,
        )

    def checked_write(
        self, statement: str, parameters: Sequence[Any], *, expected_rows: int, message: str
    ) -> None:
        written = len(self._connection.execute(self.sql(statement), list(parameters)).fetchall())
        if written != expected_rows:
            raise InvariantViolation(f"{message}: wrote {written} rows, expected {expected_rows}")

    def rows_table(
        self, columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> tuple[str, list[Any]]:
        # One JSON array of rows; ->> gives each element back as an SQL value (text, integer
        # or NULL), the way the columns store them.
        picks = ", ".join(f"value ->> {index} AS {column}" for index, column in enumerate(columns))
        return f"(SELECT {picks} FROM json_each(?)) AS v", [json.dumps([list(r) for r in rows])]

    def cursor(self) -> Cursor:
        cursor = self._connection.cursor()
        self._cursors.append(cursor)
        return cursor

    def close_cursors(self) -> None:
        """Close the unit's cursors once it ended: a read sent and never read (a request
        refused before it needed it) would otherwise keep its statement, and with it an old
        snapshot that no later write transaction on this connection could start from."""
        for cursor in self._cursors:
            cursor.close()
        self._cursors.clear()

    def stream(self, statement: str) -> Iterator[Row]:
        cursor = self._connection.execute(statement)
        while rows := cursor.fetchmany(STREAM_BATCH):
            yield from rows


def unit_of_work(dialect: SqliteDialect) -> SqlUnitOfWork:
    # SQLite has one writer at a time: there are no rows held by others to skip.
    return SqlUnitOfWork(dialect, SqlLedgerRepository(dialect), skip_locked=False)


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, sqlite3.OperationalError):
        return "locked" in str(error) or "busy" in str(error)
    # A concurrent retry of the same id inserted first: run again and find its result.
    return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, database: DatabaseUrl, *, auto_migrate: bool = True) -> None:
        if database.sqlite_path is None:
            raise ConfigurationError("not a SQLite URL", code=PlatformCode.CONFIG_DATABASE_URL)
        self._database = database
        self._path: Path = database.sqlite_path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._ensure_schema(auto_migrate)

    @property
    def url(self) -> str:
        return self._database.redacted

    def _ensure_schema(self, auto_migrate: bool) -> None:
        """The embedded database belongs to this process: create it, or move it forward.

        A schema this build does not know (written by a newer hongbao) is refused, never
        touched; PostgreSQL is only ever migrated by ``hongbao db upgrade``.
        """
        revision = migrate.current_revision(self._database) if self._path.exists() else None
        head = migrate.head_revision()
        if revision == head:
            return
        upgradable = revision is None or revision in migrate.known_revisions()
        if upgradable and auto_migrate:
            migrate.upgrade(self._database)
            return
        raise ConfigurationError(
            f"the database at {self._path} is at schema {revision or 'none'}, this hongbao "
            f"needs {head}: run `hongbao db upgrade` (or use the hongbao that wrote it)",
            code=StorageCode.SCHEMA_OUTDATED,
        )

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self._path,
                isolation_level=None,  # hongbao issues BEGIN and COMMIT itself
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_MILLISECONDS / 1000,
            )
            connection.execute("PRAGMA journal_mode = WAL")
            # FULL: a committed transfer survives a power cut, not only a process crash.
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MILLISECONDS}")
            self._local.connection = connection
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    def _run(self, begin: str, work: Callable[[UnitOfWork], Result]) -> Result:
        connection = self._connection()

        def attempt() -> Result:
            connection.execute(begin)
            dialect = SqliteDialect(connection)
            try:
                result = work(unit_of_work(dialect))
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            finally:
                dialect.close_cursors()
            return result

        return with_retry(attempt, _is_transient)

    def transact(self, work: Callable[[UnitOfWork], Result]) -> Result:
        # Threads of this process queue here rather than in SQLite's busy handler, which polls
        # with sleeps of up to 100 ms and so makes the slowest writes very slow.
        with self._write_lock:
            return self._run("BEGIN IMMEDIATE", work)

    def read(self, work: Callable[[UnitOfWork], Result]) -> Result:
        return self._run("BEGIN", work)

    def close(self) -> None:
        with self._connections_lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()
