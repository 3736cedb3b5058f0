"""Plain records in plain tables: a frozen dataclass per row, one column per field.

Contexts other than the ledger (identity first) keep simple records whose rules live in the
domain; their storage needs only insert, read by key, list by a column and replace. A
:class:`RecordCodec` turns a dataclass into column values and back, from its type hints:
``str``, ``int``, ``bool``, ``StrEnum`` members and ``None`` map to columns directly; a tuple of
small dataclasses (e.g. a bank's maintenance windows) is stored as JSON text. The schema itself
is written out in the migrations, never derived at run time.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from enum import Enum
from typing import Any, Generic, TypeVar

from hongbao.platform.errors import LimitExceeded, StorageCode, StorageError
from hongbao.platform.invariants import invariant, present
from hongbao.platform.limits import MAX_BATCH_SIZE
from hongbao.platform.records import decode_value, encode_json
from hongbao.storage.sql_dialect import Cursor, Row, SqlDialect

Record = TypeVar("Record")


def _column_decoder(hint: Any) -> Callable[[Any], Any]:
    """A decoder for one column, chosen once from its type hint: reading hints per value cost
    more than the rest of a row's decoding."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(hint) if option is not type(None)]
        invariant(len(options) == 1, "record fields are X or X | None", hint=str(hint))
        inner = _column_decoder(options[0])
        return lambda value: None if value is None else inner(value)
    if hint is str or hint is int:
        return lambda value: value
    if hint is bool:
        return lambda value: None if value is None else bool(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return lambda value: None if value is None else hint(value)
    return lambda value: decode_value(hint, value)


def _sql_type(hint: Any) -> str:
    """The column's SQL type where a batch's values travel untyped (as JSON rows or arrays)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        (option,) = [option for option in typing.get_args(hint) if option is not type(None)]
        return _sql_type(option)
    if hint is bool:
        return "boolean"
    if hint is int:
        return "bigint"
    return "text"  # str, StrEnum members and JSON text


def _encode_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return json.dumps(encode_json(value), sort_keys=True)
    return value


class RecordCodec(Generic[Record]):
    """Columns of a dataclass, in field order, and the conversion both ways."""

    def __init__(self, cls: type[Record]) -> None:
        invariant(dataclasses.is_dataclass(cls), "records are dataclasses", cls=str(cls))
        self.cls = cls
        self.hints = typing.get_type_hints(cls)
        self.columns: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        self.sql_types: dict[str, str] = {c: _sql_type(self.hints[c]) for c in self.columns}
        self._decoders = tuple(_column_decoder(self.hints[column]) for column in self.columns)

    def encode(self, record: Record) -> tuple[Any, ...]:
        return tuple(_encode_value(getattr(record, column)) for column in self.columns)

    def decode(self, row: Sequence[Any]) -> Record:
        return self.cls(*[decode(value) for decode, value in zip(self._decoders, row, strict=True)])


_CODECS: dict[type[Any], RecordCodec[Any]] = {}


def codec_for(cls: type[Record]) -> RecordCodec[Record]:
    """One codec per record class: reading type hints is too slow to repeat per transaction."""
    codec = _CODECS.get(cls)
    if codec is None:
        codec = _CODECS[cls] = RecordCodec(cls)
    return codec


class SqlRecordTable(Generic[Record]):
    """Insert, read, list and replace records of one dataclass in one table."""

    def __init__(self, dialect: SqlDialect, table: str, cls: type[Record], key: Sequence[str]):
        self._dialect = dialect
        self._table = table
        self._codec = codec_for(cls)
        self._key = tuple(key)
        self._column_list = ", ".join(self._codec.columns)

    def _execute(self, statement: str, parameters: Sequence[Any]) -> Cursor:
        cursor = self._dialect.cursor()
        cursor.execute(self._dialect.sql(statement), list(parameters))
        return cursor

    def _where_key(self) -> str:
        return " AND ".join(f"{column} = %s" for column in self._key)

    def insert(self, record: Record) -> None:
        placeholders = ", ".join(["%s"] * len(self._codec.columns))
        statement = f"INSERT INTO {self._table} ({self._column_list}) VALUES ({placeholders})"
        self._execute(statement, self._codec.encode(record))

    def get(self, *key: Any) -> Record | None:
        statement = f"SELECT {self._column_list} FROM {self._table} WHERE {self._where_key()}"
        rows: list[Row] = self._execute(statement, key).fetchall()
        return self._codec.decode(rows[0]) if rows else None

    def lock(self, *key: Any) -> Record | None:
        """Read one record and hold its row until the unit of work ends."""
        statement = (
            f"SELECT {self._column_list} FROM {self._table} WHERE {self._where_key()}"
            f"{self._dialect.lock_clause}"
        )
        rows: list[Row] = self._execute(statement, key).fetchall()
        return self._codec.decode(rows[0]) if rows else None

    def where(
        self, column: str, value: Any, *, limit: int, order_by: str | None = None
    ) -> list[Record]:
        invariant(column in self._codec.columns, "filter on a known column", column=column)
        # The key breaks ties, so equal ordering values still list in a stable order.
        order = f" ORDER BY {', '.join(([order_by] if order_by else []) + list(self._key))}"
        statement = (
            f"SELECT {self._column_list} FROM {self._table} WHERE {column} = %s{order} LIMIT %s"
        )
        rows: list[Row] = self._execute(statement, (_encode_value(value), limit)).fetchall()
        return [self._codec.decode(row) for row in rows]

    def find(self, equal: dict[str, Any], *, limit: int) -> list[Record]:
        invariant(bool(equal) and set(equal) <= set(self._codec.columns), "filter on columns")
        condition = " AND ".join(f"{column} = %s" for column in equal)
        statement = (
            f"SELECT {self._column_list} FROM {self._table} WHERE {condition}"
            f" ORDER BY {', '.join(self._key)} LIMIT %s"
        )
        parameters = [_encode_value(value) for value in equal.values()]
        rows: list[Row] = self._execute(statement, [*parameters, limit]).fetchall()
        return [self._codec.decode(row) for row in rows]

    def page(self, after: tuple[Any, ...] | None, *, limit: int) -> list[Record]:
        order = ", ".join(self._key)
        condition = ""
        parameters: list[Any] = []
        if after is not None:
            invariant(len(after) == len(self._key), "a page starts after a whole key")
            # Row values compare column by column on both engines: keyset paging, no OFFSET.
            condition = f" WHERE ({order}) > ({', '.join(['%s'] * len(after))})"
            parameters = list(after)
        statement = (
            f"SELECT {self._column_list} FROM {self._table}{condition} ORDER BY {order} LIMIT %s"
        )
        rows: list[Row] = self._execute(statement, [*parameters, limit]).fetchall()
        return [self._codec.decode(row) for row in rows]

    def get_many(
        self, keys: Collection[tuple[Any, ...]], *, lock: bool = False
    ) -> dict[tuple[Any, ...], Record]:
        return self.read_many(keys, lock=lock)()

    def existing(self, keys: Collection[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        return self.read_existing(keys)()

    def find_in(self, options: Mapping[str, Collection[Any]], *, limit: int) -> list[Record]:
        return self.read_find_in(options, limit=limit)()

    def read_many(
        self, keys: Collection[tuple[Any, ...]], *, lock: bool = False
    ) -> Callable[[], dict[tuple[Any, ...], Record]]:
        unique = _checked_keys(keys, len(self._key))
        if not unique:
            return dict
        cursor = self._execute(*self._keyed_select(self._codec.columns, unique, lock=lock))

        def read() -> dict[tuple[Any, ...], Record]:
            records = [self._codec.decode(row) for row in cursor.fetchall()]
            return {tuple(getattr(r, column) for column in self._key): r for r in records}

        return read

    def read_existing(
        self, keys: Collection[tuple[Any, ...]]
    ) -> Callable[[], set[tuple[Any, ...]]]:
        unique = _checked_keys(keys, len(self._key))
        if not unique:
            return set
        cursor = self._execute(*self._keyed_select(self._key, unique, lock=False))

        def read() -> set[tuple[Any, ...]]:
            found = {tuple(row) for row in cursor.fetchall()}
            return {key for key in unique if tuple(_encode_value(v) for v in key) in found}

        return read

    def read_find_in(
        self, options: Mapping[str, Collection[Any]], *, limit: int
    ) -> Callable[[], list[Record]]:
        invariant(bool(options) and set(options) <= set(self._codec.columns), "filter on columns")
        if any(not values for values in options.values()):
            return list
        conditions: list[str] = []
        parameters: list[Any] = []
        for column, values in options.items():
            condition, column_parameters = self._dialect.in_list(
                column, sorted({_encode_value(value) for value in values})
            )
            conditions.append(condition)
            parameters += column_parameters
        # No ORDER BY: under a generic plan it walked the primary key in order and filtered,
        # instead of looking the options up in their indexes. One row past the limit tells
        # that there were more than the caller allowed for.
        cursor = self._execute(
            f"SELECT {self._column_list} FROM {self._table} WHERE {' AND '.join(conditions)}"
            " LIMIT %s",
            [*parameters, limit + 1],
        )

        def read() -> list[Record]:
            found = [self._codec.decode(row) for row in cursor.fetchall()]
            return _within(found, limit, self._key, self._table)

        return read

    def _keyed_select(
        self, columns: Sequence[str], keys: list[tuple[Any, ...]], *, lock: bool
    ) -> tuple[str, list[Any]]:
        types_of_key = [self._codec.sql_types[column] for column in self._key]
        encoded = [tuple(_encode_value(value) for value in key) for key in keys]
        return self._dialect.keyed_select(
            self._table, columns, self._key, types_of_key, encoded, lock=lock
        )

    def insert_many(self, records: Sequence[Record]) -> None:
        if not records:
            return
        _check_batch(len(records))
        columns = self._codec.columns
        table, parameters = self._dialect.rows_table(
            columns,
            [self._codec.sql_types[column] for column in columns],
            [self._codec.encode(record) for record in records],
        )
        # One statement for the batch: a statement per row cost more than the rows.
        statement = (
            f"INSERT INTO {self._table} ({self._column_list}) SELECT {self._column_list} "
            f"FROM {table}"
        )
        self._dialect.cursor().execute(self._dialect.sql(statement), parameters)

    def replace_many(
        self, records: Sequence[Record], *, columns: Sequence[str] | None = None
    ) -> None:
        if not records:
            return
        _check_batch(len(records))
        changed = self._codec.columns if columns is None else tuple(columns)
        invariant(set(changed) <= set(self._codec.columns), "replace known columns")
        columns = (*self._key, *(c for c in changed if c not in self._key))
        rows = [tuple(_encode_value(getattr(record, c)) for c in columns) for record in records]
        distinct = {row[: len(self._key)] for row in rows}
        invariant(len(distinct) == len(rows), "each record replaced once", table=self._table)
        table, parameters = self._dialect.rows_table(
            columns, [self._codec.sql_types[column] for column in columns], rows
        )
        assignments = ", ".join(f"{c} = v.{c}" for c in columns if c not in self._key)
        match = " AND ".join(f"{self._table}.{c} = v.{c}" for c in self._key)
        if len(self._key) == 1:
            # The key's values again, as a list: it steers the planner to the index (a join on
            # the rows alone was planned as a walk over the whole table; a composite key's
            # index is found without help).
            steer, steer_parameters = self._dialect.in_list(
                f"{self._table}.{self._key[0]}", sorted({row[0] for row in rows})
            )
            match = f"{match} AND {steer}"
            parameters = [*parameters, *steer_parameters]
        self._dialect.checked_write(
            f"UPDATE {self._table} SET {assignments} FROM {table} WHERE {match} RETURNING 1",
            parameters,
            expected_rows=len(rows),
            message=f"a replaced record of {self._table} exists",
        )

    def replace(self, record: Record) -> None:
        """Overwrite the stored record with the same key; it must exist."""
        values = dict(zip(self._codec.columns, self._codec.encode(record), strict=True))
        assignments = ", ".join(f"{c} = %s" for c in self._codec.columns if c not in self._key)
        parameters = [values[c] for c in self._codec.columns if c not in self._key]
        parameters += [values[c] for c in self._key]
        # RETURNING, not rowcount: on a pipelined connection only fetched results are final.
        cursor = self._execute(
            f"UPDATE {self._table} SET {assignments} WHERE {self._where_key()} RETURNING 1",
            parameters,
        )
        invariant(len(cursor.fetchall()) == 1, "a replaced record exists", table=self._table)


class InMemoryRecordTable(Generic[Record]):
    """The same table kept in a dict, for the in-memory database of ``hongbao.testing``."""

    def __init__(self, rows: dict[tuple[Any, ...], Record], cls: type[Record], key: Sequence[str]):
        self._rows = rows
        self._codec = codec_for(cls)
        self._key = tuple(key)

    def _key_of(self, record: Record) -> tuple[Any, ...]:
        return tuple(getattr(record, column) for column in self._key)

    def insert(self, record: Record) -> None:
        key = self._key_of(record)
        if key in self._rows:
            raise StorageError(f"duplicate key {key!r}", code=StorageCode.DUPLICATE_KEY)
        self._rows[key] = record

    def get(self, *key: Any) -> Record | None:
        return self._rows.get(tuple(key))

    def lock(self, *key: Any) -> Record | None:
        return self.get(*key)

    def where(
        self, column: str, value: Any, *, limit: int, order_by: str | None = None
    ) -> list[Record]:
        invariant(column in self._codec.columns, "filter on a known column", column=column)
        found = [record for record in self._rows.values() if getattr(record, column) == value]
        columns = ((order_by,) if order_by else ()) + self._key
        found.sort(key=lambda record: tuple(getattr(record, c) for c in columns))
        return found[:limit]

    def find(self, equal: dict[str, Any], *, limit: int) -> list[Record]:
        invariant(bool(equal) and set(equal) <= set(self._codec.columns), "filter on columns")
        found = [
            self._rows[key]
            for key in sorted(self._rows)
            if all(getattr(self._rows[key], column) == value for column, value in equal.items())
        ]
        return found[:limit]

    def page(self, after: tuple[Any, ...] | None, *, limit: int) -> list[Record]:
        keys = sorted(key for key in self._rows if after is None or key > after)
        return [self._rows[key] for key in keys[:limit]]

    def replace(self, record: Record) -> None:
        key = self._key_of(record)
        invariant(key in self._rows, "a replaced record exists", key=str(key))
        self._rows[key] = record

    def get_many(
        self, keys: Collection[tuple[Any, ...]], *, lock: bool = False
    ) -> dict[tuple[Any, ...], Record]:
        unique = _checked_keys(keys, len(self._key))
        return {key: self._rows[key] for key in unique if key in self._rows}

    def existing(self, keys: Collection[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        return {key for key in _checked_keys(keys, len(self._key)) if key in self._rows}

    def read_many(
        self, keys: Collection[tuple[Any, ...]], *, lock: bool = False
    ) -> Callable[[], dict[tuple[Any, ...], Record]]:
        found = self.get_many(keys, lock=lock)
        return lambda: found

    def read_existing(
        self, keys: Collection[tuple[Any, ...]]
    ) -> Callable[[], set[tuple[Any, ...]]]:
        found = self.existing(keys)
        return lambda: found

    def read_find_in(
        self, options: Mapping[str, Collection[Any]], *, limit: int
    ) -> Callable[[], list[Record]]:
        found = self.find_in(options, limit=limit)
        return lambda: found

    def find_in(self, options: Mapping[str, Collection[Any]], *, limit: int) -> list[Record]:
        invariant(bool(options) and set(options) <= set(self._codec.columns), "filter on columns")
        wanted = {column: set(values) for column, values in options.items()}
        found = [
            record
            for record in self._rows.values()
            if all(getattr(record, c) in values for c, values in wanted.items())
        ]
        return _within(found, limit, self._key, "records")

    def insert_many(self, records: Sequence[Record]) -> None:
        _check_batch(len(records))
        for record in records:
            self.insert(record)

    def replace_many(
        self, records: Sequence[Record], *, columns: Sequence[str] | None = None
    ) -> None:
        _check_batch(len(records))
        keys = [self._key_of(record) for record in records]
        invariant(len(set(keys)) == len(keys), "each record replaced once")
        for key, record in zip(keys, records, strict=True):
            stored = present(self._rows.get(key), "a replaced record exists", key=str(key))
            if columns is None:
                self.replace(record)
                continue
            # As the SQL tables do: only the named columns change.
            changes = {column: getattr(record, column) for column in columns}
            changed: Record = dataclasses.replace(stored, **changes)  # type: ignore[type-var]
            self.replace(changed)


def _within(found: list[Record], limit: int, key: Sequence[str], table: str) -> list[Record]:
    """``found`` in key order, when there are no more than ``limit`` of them."""
    if len(found) > limit:
        raise LimitExceeded(
            f"more than {limit} rows of {table} match", code=StorageCode.TOO_MANY_ROWS, limit=limit
        )
    return sorted(found, key=lambda record: tuple(getattr(record, c) for c in key))


def _check_batch(size: int) -> None:
    invariant(size <= MAX_BATCH_SIZE, "a bulk statement stays within the batch limit", size=size)


def _checked_keys(keys: Collection[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    """Distinct whole keys in key order (the order rows are locked in)."""
    unique = sorted(set(keys))
    _check_batch(len(unique))
    invariant(all(len(key) == width for key in unique), "keys are whole", width=width)
    return unique
