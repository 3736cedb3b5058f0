"""Plain records: the table port contexts ask storage for, and records as JSON text.

Contexts other than the ledger keep simple records (frozen dataclasses) whose rules live in the
domain; their storage needs only insert, read by key, list and replace. :class:`RecordTable`
is that port; ``hongbao.storage.records`` implements it on SQL and in memory.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from enum import Enum
from typing import Any, TypeVar

from hongbao.platform.invariants import invariant

Record = TypeVar("Record")


class RecordTable(typing.Protocol[Record]):
    """What a context's repository needs from a table of records."""

    def insert(self, record: Record) -> None: ...

    def get(self, *key: Any) -> Record | None: ...

    def lock(self, *key: Any) -> Record | None: ...

    def where(
        self, column: str, value: Any, *, limit: int, order_by: str | None = None
    ) -> list[Record]: ...

    def replace(self, record: Record) -> None: ...

    def page(self, after: tuple[Any, ...] | None, *, limit: int) -> list[Record]:
        """Up to ``limit`` records in key order, starting after the key ``after``."""
        ...

    def find(self, equal: dict[str, Any], *, limit: int) -> list[Record]:
        """Up to ``limit`` records whose columns equal ``equal``'s values, in key order."""
        ...

    def get_many(
        self, keys: Collection[tuple[Any, ...]], *, lock: bool = False
    ) -> dict[tuple[Any, ...], Record]:
        """The records of ``keys`` that exist, by key, in one statement; ``lock`` holds their
        rows until the unit of work ends, taken in key order (so two batches never deadlock)."""
        ...

    def find_in(self, options: Mapping[str, Collection[Any]], *, limit: int) -> list[Record]:
        """The records whose every named column holds one of its options, in key order; more
        than ``limit`` of them is refused (``LimitExceeded``), never cut short."""
        ...

    def existing(self, keys: Collection[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        """Which of ``keys`` are stored, reading the keys only."""
        ...

    # The same reads sent now and read later: a unit of work sends several, then reads them
    # all after one round trip (PostgreSQL's pipeline; the other engines answer at once).

    def read_many(
        self, keys: Collection[tuple[Any, ...]], *, lock: bool = False
    ) -> Callable[[], dict[tuple[Any, ...], Record]]: ...

    def read_existing(
        self, keys: Collection[tuple[Any, ...]]
    ) -> Callable[[], set[tuple[Any, ...]]]: ...

    def read_find_in(
        self, options: Mapping[str, Collection[Any]], *, limit: int
    ) -> Callable[[], list[Record]]: ...

    def insert_many(self, records: Sequence[Record]) -> None:
        """Insert every record (one round trip where the engine allows)."""
        ...

    def replace_many(
        self, records: Sequence[Record], *, columns: Sequence[str] | None = None
    ) -> None:
        """Overwrite the stored records with the same keys, in one statement; each must exist.
        ``columns``: only these change (the others are as stored), so only they are sent."""
        ...


def decode_value(hint: Any, value: Any) -> Any:
    """A stored value (a column, or a JSON item) as the type ``hint`` names."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(hint) if option is not type(None)]
        invariant(len(options) == 1, "record fields are X or X | None", hint=str(hint))
        return decode_value(options[0], value)
    if origin is tuple:
        (item_hint, _ellipsis) = typing.get_args(hint)
        items = json.loads(value) if isinstance(value, str) else value
        return tuple(decode_value(item_hint, item) for item in items)
    return _decode_scalar(hint, value)


def _decode_scalar(hint: Any, value: Any) -> Any:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _from_mapping(hint, value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return bool(value) if hint is bool else value


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _from_mapping(cls: type[Any], mapping: dict[str, Any]) -> Any:
    # Type hints are read once per class: reading them cost more than decoding a record.
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return cls(**{name: decode_value(hints[name], mapping.get(name)) for name in _field_names(cls)})


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _field_names(cls: type[Any]) -> tuple[str, ...]:
    """A dataclass's field names, looked up once per class (decision records encode many)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(field.name for field in dataclasses.fields(cls))
    return names


_PLAIN_TYPES: frozenset[type[Any]] = frozenset({str, int, bool, type(None)})


def encode_json(value: Any) -> Any:
    """A record, enum or tuple of them as plain JSON values."""
    if type(value) in _PLAIN_TYPES:  # exact types: a StrEnum member is not plain text here
        return value
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: encode_json(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, tuple | list):
        return [encode_json(item) for item in value]
    return value


def to_json(record: object) -> str:
    """A record (or a tuple of records) as JSON text, enums as their values."""
    return json.dumps(encode_json(record), sort_keys=True)


def from_json(cls: type[Record], text: str) -> Record:
    """The record ``to_json`` wrote, rebuilt from its type hints."""
    decoded: Record = _from_mapping(cls, json.loads(text))
    return decoded
