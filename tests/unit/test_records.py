"""RecordCodec: dataclass records to column values and back, without losing a type."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hongbao.storage.records import InMemoryRecordTable, RecordCodec


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Window:
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class Sample:
    id: str
    colour: Colour
    active: bool
    amount: int
    note: str | None
    since_us: int | None
    windows: tuple[Window, ...]


SAMPLE = Sample("s-1", Colour.BLUE, True, 1_234, None, 5, (Window(0, 30), Window(1410, 10)))


def test_a_record_survives_encoding_to_columns_and_back() -> None:
    codec = RecordCodec(Sample)
    row = codec.encode(SAMPLE)
    assert row[:6] == ("s-1", "blue", True, 1_234, None, 5)
    assert isinstance(row[6], str)  # nested records travel as JSON text
    assert codec.decode(row) == SAMPLE


def test_sqlite_style_integers_decode_back_to_booleans_and_enums() -> None:
    codec = RecordCodec(Sample)
    decoded = codec.decode(("s-2", "red", 0, 7, "n", None, "[]"))
    assert decoded == Sample("s-2", Colour.RED, False, 7, "n", None, ())


def test_the_in_memory_table_filters_orders_and_limits() -> None:
    table = InMemoryRecordTable[Sample]({}, Sample, ["id"])
    for index in (3, 1, 2):
        table.insert(Sample(f"s-{index}", Colour.RED, True, index, None, None, ()))
    assert [r.id for r in table.where("colour", Colour.RED, limit=2)] == ["s-1", "s-2"]
    assert table.get("s-3") is not None
    assert table.get("missing") is None
