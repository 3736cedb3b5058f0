"""JSON as the API sends it: objects, lists, text, whole numbers, booleans and null. A float
is refused on the way in: amounts are minor units or decimal text, never binary fractions."""

from __future__ import annotations

import json
from typing import TypeAlias

JsonValue: TypeAlias = "str | int | bool | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = "dict[str, JsonValue]"


class FloatRefused(ValueError):
    """The API never sends floats; one in an answer means it is not the API talking."""


def _refuse(text: str) -> JsonValue:
    raise FloatRefused(f"a float in an API answer ({text!r}); amounts are never floats")


def loads(raw: bytes | str) -> JsonValue:
    value: JsonValue = json.loads(raw, parse_float=_refuse, parse_constant=_refuse)
    return value


def dumps(value: JsonValue) -> bytes:
    """Compact and key-sorted: a retry sends the very same bytes (the server compares them)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
