"""What SQLite and PostgreSQL differ in, behind one protocol every SQL adapter writes to.

Statements are written once with ``%s`` placeholders; a :class:`SqlDialect` adapts the few
places where the engines differ (placeholders, ``IN`` lists, row locks, batches as tables,
streaming reads).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

Row = tuple[Any, ...]


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def execute(self, statement: Any, parameters: Any = ..., /) -> Any: ...

    def executemany(self, statement: Any, parameters: Any, /) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class SqlDialect(Protocol):
    name: str

    def sql(self, statement: str) -> str:
        """Translate ``%s`` placeholders to the driver's own."""
        ...

    def in_list(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        """A condition "column is one of values" and its parameters."""
        ...

    lock_clause: str

    def id_table(self, values: Sequence[str]) -> tuple[str, list[Any]]:
        """A table expression named ``ids`` with one column ``id`` holding ``values``."""
        ...

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
        """``SELECT columns FROM table`` for the rows of ``keys`` (sorted), one index look-up
        per key, locked in key order with ``lock``; the statement and its parameters."""
        ...

    def checked_write(
        self, statement: str, parameters: Sequence[Any], *, expected_rows: int, message: str
    ) -> None:
        """Run ``statement`` (a write ending ``RETURNING 1``) and fail the unit of work with
        an invariant violation unless it wrote ``expected_rows`` rows. PostgreSQL checks it
        inside the database (``hongbao_assert``), so no round trip waits for the count."""
        ...

    def rows_table(
        self, columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> tuple[str, list[Any]]:
        """A table expression named ``v`` with ``columns`` (of SQL ``types``: text, bigint,
        boolean) holding ``rows``, and its parameters: a whole batch in a fixed number of
        parameters, so the statement stays prepared whatever the batch size."""
        ...

    def cursor(self) -> Cursor: ...

    def stream(self, statement: str) -> Iterator[Row]:
        """Rows of a large query without holding them all in memory."""
        ...
