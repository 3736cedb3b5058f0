"""The OpenAPI document, exactly as strict as the server.

The framework documents what the route signatures say; some of what the server checks lives
elsewhere, and is added here, in one place, so that a request the document calls valid is never
refused as malformed and one it calls invalid never gets through:

- every POST needs ``Idempotency-Key`` (the route checks it itself, to answer with its own
  codes ``idempotency.key_missing`` / ``idempotency.key_invalid``; the document says
  "required" and gives its pattern);
- ids in paths are ids as ``platform.ids`` checks them, without the "/" that would end the
  path segment;
- headers a route reads (``Last-Event-ID``, ``Hongbao-Geo`` and the rest) have the patterns the
  server parses them with; a header or query parameter is absent or a string, never ``null``;
- the edge (``edge.py``) answers every route, before the route: 413 for a body over the limit
  and 422 for a control character, invalid UTF-8 or an over-long value;
- a body whose valid fields depend on one field's value (a packet's type, a device's
  platform) is ``oneOf`` its variants with a discriminator, from the same declaration the server
  checks it with (``schemas/variants.py``).
"""

from __future__ import annotations

from typing import Any, Final

from hongbao.entrypoints.http.edge import MAX_HEADER_VALUE_BYTES
from hongbao.entrypoints.http.schemas import ErrorView
from hongbao.entrypoints.http.schemas.variants import VariantBody, variant_components
from hongbao.entrypoints.http.stream import CURSOR_PATTERN
from hongbao.identity.devices import CONDITIONS_PATTERN, MAX_CONDITIONS_TEXT
from hongbao.platform.idempotency import MAX_KEY_LENGTH
from hongbao.platform.ids import ID_PATTERN
from hongbao.platform.limits import MAX_ID_LENGTH
from hongbao.risk.geo import MAX_HEADER_LENGTH as MAX_GEO_LENGTH
from hongbao.risk.geo import PLACE_PATTERN

Document = dict[str, Any]

IDEMPOTENCY_KEY: Final = "Idempotency-Key"
KEY_SCHEMA: Final[Document] = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_KEY_LENGTH,
    "pattern": ID_PATTERN.pattern,
}
# An id in a path: a "/" in it would end the segment, so such ids are not addressable there.
PATH_ID_SCHEMA: Final[Document] = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_ID_LENGTH,
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9:._-]*$",
}
# The edge takes header values that are UTF-8 without control characters (a tab is folding
# whitespace); HTTP clients send headers as ASCII, and blanks around a value are not part of it.
HEADER_SCHEMA: Final[Document] = {
    "type": "string",
    "maxLength": MAX_HEADER_VALUE_BYTES,
    "pattern": r"^(?:[!-~](?:[\t -~]*[!-~])?)?$",
}
HEADER_SCHEMAS: Final[dict[str, Document]] = {
    IDEMPOTENCY_KEY.lower(): KEY_SCHEMA,
    "last-event-id": {"type": "string", "pattern": CURSOR_PATTERN},
    "hongbao-geo": {"type": "string", "maxLength": MAX_GEO_LENGTH, "pattern": PLACE_PATTERN},
    "hongbao-device-conditions": {
        "type": "string",
        "maxLength": MAX_CONDITIONS_TEXT,
        "pattern": CONDITIONS_PATTERN,
    },
}
# Answered by the edge on every route, before the route runs.
EDGE_STATUSES: Final = ("413", "422")
ERROR_SCHEMA_REF: Final = f"#/components/schemas/{ErrorView.__name__}"


def as_strict_as_the_server(document: Document) -> Document:
    """``document`` (the framework's) with what the server checks beyond the signatures."""
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                _parameter(parameter)
            if method == "post":
                _require_key(operation)
            _edge_answers(operation)
    _split_variants(document.get("components", {}).get("schemas", {}))
    return document


def _split_variants(components: Document) -> None:
    """Each body with variants as ``oneOf`` them (its name then names the union)."""
    for model in _variant_bodies(VariantBody):
        name = model.__name__
        if name in components:
            components.update(variant_components(name, model, components[name]))


def _variant_bodies(base: type[VariantBody]) -> list[type[VariantBody]]:
    found: list[type[VariantBody]] = []
    for model in base.__subclasses__():
        found += [model, *_variant_bodies(model)]
    return found


def _parameter(parameter: Document) -> None:
    """Absent, not null; and the schema the server checks the value against."""
    schema = _without_null(parameter.get("schema", {}))
    where, name = parameter["in"], parameter["name"].lower()
    if where == "path" and (name.endswith("_id") or name.endswith("_key")):
        schema = {**schema, **PATH_ID_SCHEMA}
    elif where == "header":
        schema = {**schema, **HEADER_SCHEMAS.get(name, HEADER_SCHEMA)}
    parameter["schema"] = schema


def _without_null(schema: Document) -> Document:
    """An optional parameter is documented as ``anyOf: [X, null]``; on the wire it is X or
    absent (a header or query value cannot be null), so only X is kept."""
    options = schema.get("anyOf")
    if options is None:
        return schema
    kept = [option for option in options if option.get("type") != "null"]
    if len(kept) != 1:
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**kept[0], **rest}


def _require_key(operation: Document) -> None:
    # A POST that declares no key is caught by the test that every POST requires one.
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"].lower() == IDEMPOTENCY_KEY.lower():
            parameter["required"] = True
            parameter.setdefault(
                "description",
                "Names the request: a repeat with the same key gets the first answer.",
            )


def _edge_answers(operation: Document) -> None:
    responses = operation.setdefault("responses", {})
    for status in EDGE_STATUSES:
        responses.setdefault(
            status,
            {
                "description": "Refused at the edge" if status == "422" else "Body too large",
                "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}},
            },
        )
