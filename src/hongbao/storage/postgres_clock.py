"""The PostgreSQL server's clock, read over a connection of its own.

Every process of a deployment judges deadlines by this one clock (see
:class:`hongbao.platform.clock.DatabaseClock`). The connection is its own, not the pool's, so
a reading never waits behind the money path for a connection and its round trip measures the
network and the server, nothing else.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from hongbao.platform.errors import StorageCode, StorageError
from hongbao.storage.urls import DatabaseUrl

APPLICATION_NAME = "hongbao-clock"
CONNECT_TIMEOUT_SECONDS = 10
# clock_timestamp() is the moment the statement runs; now() would be the transaction's start.
SERVER_TIME_SQL = "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint"


class PostgresServerTime:
    """A callable answering the server's time in microseconds since the epoch."""

    def __init__(self, database: DatabaseUrl) -> None:
        self._database = database
        self._connection: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            try:
                connection = self._connect()
                row = connection.execute(SERVER_TIME_SQL).fetchone()
            except psycopg.Error as error:
                self._drop()  # reconnect at the next reading
                raise StorageError(
                    f"cannot read the clock of {self._database.redacted}: {error}",
                    code=StorageCode.UNAVAILABLE,
                ) from error
            if row is None or not isinstance(row[0], int):
                raise StorageError(
                    f"{self._database.redacted} answered no time", code=StorageCode.UNAVAILABLE
                )
            return row[0]

    def _connect(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(
                self._database.url,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                application_name=APPLICATION_NAME,
            )
        return self._connection

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        with self._lock:
            self._drop()
