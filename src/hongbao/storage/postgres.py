"""PostgreSQL adapter (psycopg 3): production, many processes.

Write units run in READ COMMITTED and lock the accounts they touch with ``SELECT ... FOR
UPDATE`` in ascending id order, so transfers on disjoint accounts never wait for each other and
transfers on shared accounts queue instead of failing. Reads use REPEATABLE READ, READ ONLY:
one consistent snapshot for ``ledger verify``. Serialization failures, deadlocks and lost races
on unique keys retry the whole unit (bounded, with jitter), so engines that run SERIALIZABLE
(PostgreSQL-compatible distributed databases) work unchanged.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
import sqlalchemy.exc
from psycopg import errors
from psycopg_pool import ConnectionPool

from hongbao.platform.errors import (
    ConfigurationError,
    InvariantViolation,
    StorageCode,
    StorageError,
)
from hongbao.platform.unit_of_work import Result
from hongbao.storage import migrate
from hongbao.storage.postgres_ledger import INVARIANT_SQLSTATE, PostgresLedgerRepository
from hongbao.storage.retry import with_retry
from hongbao.storage.sql_dialect import Cursor, Row
from hongbao.storage.sql_unit_of_work import SqlUnitOfWork
from hongbao.storage.unit_of_work import UnitOfWork
from hongbao.storage.urls import DatabaseUrl

APPLICATION_NAME = "hongbao"
STREAM_BATCH = 2_000
DEFAULT_POOL_SIZE = 10
CONNECT_TIMEOUT_SECONDS = 10
# A statement that waits this long for a lock is a bug or an outage, not load: fail and retry.
LOCK_TIMEOUT = "5s"
STATEMENT_TIMEOUT = "30s"
_cursor_names = itertools.count()


class PostgresDialect:
    name = "postgresql"
    lock_clause = " FOR UPDATE"

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    def sql(self, statement: str) -> str:
        return statement

    def in_list(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        # One parameter whatever the count: the statement stays prepared and cached.
        return f"{column} = ANY(%s)", [list(values)]

    def id_table(self, values: Sequence[str]) -> tuple[str, list[Any]]:
        return "unnest(%s::text[]) AS ids(id)", [list(values)]

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
        suffix = self.lock_clause if lock else ""
        if len(key) == 1:
            # An array parameter walks the index once, in key order: the rows lock in order.
            return (
                f"SELECT {', '.join(columns)} FROM {table} "
                f"WHERE {key[0]} = ANY(%s::{key_types[0]}[]) ORDER BY {key[0]}{suffix}",
                [[row[0] for row in keys]],
            )
        # A lateral look-up per key (in the keys' order, so in key order): a join on a set of
        # keys is planned without the index under the generic plans these sessions use.
        # OFFSET 0 keeps the look-up a subquery: flattened into a join, a small table was
        # read whole into a hash for every statement.
        values, parameters = self.rows_table(key, key_types, keys)
        match = " AND ".join(f"t.{column} = v.{column}" for column in key)
        inner = ", ".join(f"t.{column}" for column in columns)
        return (
            f"SELECT x.* FROM {values} CROSS JOIN LATERAL "
            f"(SELECT {inner} FROM {table} AS t WHERE {match} OFFSET 0{suffix}) AS x",
            parameters,
        )

    def checked_write(
        self, statement: str, parameters: Sequence[Any], *, expected_rows: int, message: str
    ) -> None:
        self._connection.cursor().execute(
            f"WITH written AS ({statement}) SELECT hongbao_assert("
            "(SELECT count(*) FROM written) = %s, %s)",
            [*parameters, expected_rows, message],
        )  # no fetch: a failed check arrives with the commit's sync and aborts it

    def rows_table(
        self, columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> tuple[str, list[Any]]:
        # One JSON parameter, encoded by the C json module and decoded by the server into
        # typed columns: binding a typed array per column cost more than the statement.
        definition = ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
        text = json.dumps([dict(zip(columns, row, strict=True)) for row in rows])
        return f"json_to_recordset(%s::json) AS v({definition})", [text]

    def cursor(self) -> Cursor:
        return self._connection.cursor()

    def stream(self, statement: str) -> Iterator[Row]:
        name = f"hongbao_stream_{next(_cursor_names)}"
        self._connection.execute("SET LOCAL enable_seqscan = on")
        with self._connection.cursor(name=name) as cursor:
            cursor.itersize = STREAM_BATCH
            cursor.execute(statement)
            yield from cursor


def unit_of_work(connection: psycopg.Connection[Any]) -> SqlUnitOfWork:
    dialect = PostgresDialect(connection)
    return SqlUnitOfWork(dialect, PostgresLedgerRepository(dialect), skip_locked=True)


TRANSIENT_ERRORS = (
    errors.SerializationFailure,
    errors.DeadlockDetected,
    errors.UniqueViolation,
    errors.LockNotAvailable,
)


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT_ERRORS)


def _configure(connection: psycopg.Connection[Any]) -> None:
    connection.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    connection.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
    # Online work always reads and writes by key, so each prepared statement is planned once
    # (a generic plan) instead of at every execution, which cost more than running it. With
    # sequential scans priced out, a plan made while a table was still small cannot become a
    # full scan that is kept as the table grows. Whole-table reads (``stream``, for ``ledger
    # verify``) turn sequential scans back on for themselves.
    connection.execute("SET plan_cache_mode = force_generic_plan")
    connection.execute("SET enable_seqscan = off")


def _translate(error: psycopg.Error, where: str) -> Exception:
    """hongbao's own errors for the database failures that have a meaning here."""
    if error.sqlstate == INVARIANT_SQLSTATE:
        return InvariantViolation(str(error.diag.message_primary))
    # No SQLSTATE: the client lost the socket. 08: connection exception. 57P: the server is
    # shutting down or the session was terminated by an operator.
    if isinstance(error, psycopg.OperationalError) and (
        error.sqlstate is None or error.sqlstate.startswith(("08", "57P"))
    ):
        # The outcome of an interrupted commit is unknown; callers retry with the same
        # idempotency keys, which returns the first result if it did commit.
        return StorageError(
            f"lost the connection to {where}: {error}", code=StorageCode.UNAVAILABLE
        )
    return error


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(
        self,
        database: DatabaseUrl,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        check_schema: bool = True,
    ) -> None:
        self._database = database
        if check_schema:
            self._check_schema()
        self._pool = ConnectionPool(
            database.url,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={
                "autocommit": True,
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                # Lets operators tell hongbao's sessions apart in pg_stat_activity.
                "application_name": APPLICATION_NAME,
            },
            configure=_configure,
            open=True,
            name="hongbao",
        )

    @property
    def url(self) -> str:
        return self._database.redacted

    def _check_schema(self) -> None:
        try:
            revision = migrate.current_revision(self._database)
        except sqlalchemy.exc.OperationalError as error:
            raise StorageError(
                f"cannot reach {self._database.redacted}: {error.orig}",
                code=StorageCode.UNAVAILABLE,
            ) from error
        head = migrate.head_revision()
        if revision != head:
            raise ConfigurationError(
                f"the database {self._database.redacted} is at schema {revision or 'none'}, "
                f"this hongbao needs {head}: run `hongbao db upgrade`",
                code=StorageCode.SCHEMA_OUTDATED,
            )

    def _run(self, work: Callable[[UnitOfWork], Result], *, read_only: bool) -> Result:
        def attempt() -> Result:
            with self._pool.connection() as connection:
                if read_only:
                    # No pipeline here: the server-side cursors that stream whole tables for
                    # ``ledger verify`` cannot run inside one.
                    with connection.transaction():
                        connection.execute(
                            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                        )
                        return work(unit_of_work(connection))
                # In pipeline mode BEGIN travels with the first statements and COMMIT with
                # the writes: a transfer costs two round trips (lock and read; write and commit).
                with connection.pipeline(), connection.transaction():
                    return work(unit_of_work(connection))

        try:
            return with_retry(attempt, _is_transient)
        except psycopg.Error as error:
            translated = _translate(error, self._database.redacted)
            if translated is error:
                raise
            raise translated from error

    def transact(self, work: Callable[[UnitOfWork], Result]) -> Result:
        return self._run(work, read_only=False)

    def read(self, work: Callable[[UnitOfWork], Result]) -> Result:
        return self._run(work, read_only=True)

    def close(self) -> None:
        self._pool.close()
