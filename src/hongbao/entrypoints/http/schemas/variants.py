"""Request bodies whose valid fields depend on one field's value, declared once.

A personal packet names a recipient and no group, a group packet a group and no recipient; a
watch platform runs only on watches. A body declares such rules as :class:`Variants` (the field
that decides and, per value, its rules); from that one declaration the server checks every body
(answering with the rule's own code) and the OpenAPI document describes the body as ``oneOf``
its variants with a ``discriminator`` (``openapi.py``), so a body the document calls valid is
one the server accepts, and the other way round. A new value of the deciding field without a
variant stops the import with a message saying which value to declare.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import BaseModel, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from hongbao.platform.errors import ErrorCode, HongbaoError
from hongbao.platform.invariants import invariant

Document = dict[str, Any]


class VariantRefused(HongbaoError):
    """A body broke a rule of its variant (the rule's code says which); nothing was read."""


@dataclass(frozen=True, slots=True)
class Required:
    """The field is present and not null."""

    field: str
    code: ErrorCode

    def holds(self, value: object) -> bool:
        return value is not None

    def says(self) -> str:
        return f"{self.field} is required"

    def schema(self, current: Document, _info: FieldInfo) -> tuple[Document, bool]:
        return _not_null(current), True


@dataclass(frozen=True, slots=True)
class Absent:
    """The field is absent or null."""

    field: str
    code: ErrorCode

    def holds(self, value: object) -> bool:
        return value is None

    def says(self) -> str:
        return f"{self.field} is not taken"

    def schema(self, _current: Document, _info: FieldInfo) -> tuple[Document, bool]:
        return {"type": "null"}, False


@dataclass(frozen=True, slots=True)
class Within:
    """The field takes one of ``values``; present when its default is not one of them."""

    field: str
    values: tuple[StrEnum, ...]
    code: ErrorCode

    def holds(self, value: object) -> bool:
        return value in self.values

    def says(self) -> str:
        return f"{self.field} is one of {', '.join(value.value for value in self.values)}"

    def schema(self, _current: Document, info: FieldInfo) -> tuple[Document, bool]:
        required = info.default is PydanticUndefined or info.default not in self.values
        return {"type": "string", "enum": [value.value for value in self.values]}, required


Rule = Required | Absent | Within


@dataclass(frozen=True, slots=True)
class Variant:
    """The rules of the bodies whose deciding field holds one of ``values``."""

    name: str
    values: tuple[StrEnum, ...]
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Variants:
    """The deciding field and a variant for each of its values."""

    field: str
    variants: tuple[Variant, ...]

    def variant_of(self, value: object) -> Variant:
        found = [variant for variant in self.variants if value in variant.values]
        invariant(len(found) == 1, "every value of the deciding field has one variant")
        return found[0]

    def check(self, body: BaseModel) -> None:
        variant = self.variant_of(getattr(body, self.field))
        for rule in variant.rules:
            if not rule.holds(getattr(body, rule.field)):
                raise VariantRefused(
                    f"with {self.field} {getattr(body, self.field)}, {rule.says()}",
                    code=rule.code,
                    field=rule.field,
                )


class VariantBody(BaseModel):
    """A body with :class:`Variants`, checked against them once its fields are parsed: a base
    beside ``Body`` (``class SendPacketBody(Body, VariantBody)``)."""

    variants: ClassVar[Variants]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        _check_declaration(cls)

    @model_validator(mode="after")
    def _variant_holds(self) -> Self:
        self.variants.check(self)
        return self


def _check_declaration(model: type[VariantBody]) -> None:
    """Every value of the deciding field has exactly one variant; every rule names a field."""
    declared = model.variants
    fields = model.model_fields
    invariant(declared.field in fields, f"{model.__name__} decides by a field it has")
    decider = fields[declared.field].annotation
    invariant(isinstance(decider, type) and issubclass(decider, StrEnum), "a StrEnum decides")
    covered = [value for variant in declared.variants for value in variant.values]
    for value in decider:  # type: ignore[union-attr]  # the invariant above narrows it
        invariant(
            covered.count(value) == 1,
            f"{model.__name__}.variants: declare {declared.field}={value.value!r} in exactly "
            "one variant (schemas/variants.py)",
        )
    for variant in declared.variants:
        for rule in variant.rules:
            invariant(rule.field in fields, f"{model.__name__} has the field {rule.field}")


def variant_components(name: str, model: type[VariantBody], base: Document) -> Document:
    """The components of ``model`` in the document: one per variant (``{name}_{variant}``),
    and ``name`` itself as ``oneOf`` them with a discriminator."""
    declared = model.variants
    components: Document = {}
    mapping: dict[str, str] = {}
    for variant in declared.variants:
        branch_name = f"{name}_{variant.name}"
        components[branch_name] = _branch(model, base, declared.field, variant)
        reference = f"#/components/schemas/{branch_name}"
        mapping.update({value.value: reference for value in variant.values})
    components[name] = {
        "title": base.get("title", name),
        "oneOf": [{"$ref": f"#/components/schemas/{name}_{v.name}"} for v in declared.variants],
        "discriminator": {"propertyName": declared.field, "mapping": mapping},
    }
    return components


def _branch(model: type[VariantBody], base: Document, field: str, variant: Variant) -> Document:
    branch = copy.deepcopy(base)
    branch["title"] = f"{base.get('title', model.__name__)} ({variant.name})"
    properties: Document = branch.setdefault("properties", {})
    required = set(branch.get("required", []))
    properties[field] = {"type": "string", "enum": [value.value for value in variant.values]}
    # A body without the deciding field takes its default: that default's variant may omit it.
    default = model.model_fields[field].default
    if default is PydanticUndefined or default not in variant.values:
        required.add(field)
    for rule in variant.rules:
        schema, needed = rule.schema(properties[rule.field], model.model_fields[rule.field])
        properties[rule.field] = schema
        if needed:
            required.add(rule.field)
    branch["required"] = [name for name in properties if name in required]
    return branch


def _not_null(schema: Mapping[str, Any]) -> Document:
    """``anyOf: [X, null]`` (an optional field) as X, without its null default."""
    options = schema.get("anyOf")
    rest = {key: value for key, value in schema.items() if key not in {"anyOf", "default"}}
    if options is None:
        return rest
    kept = [option for option in options if option.get("type") != "null"]
    invariant(len(kept) == 1, "a required field's schema is one schema or null")
    return {**kept[0], **rest}
