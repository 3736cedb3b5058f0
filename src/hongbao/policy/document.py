"""Loading and validating a policy file (TOML) into typed, immutable sections.

A policy is identified by ``name@sha256-prefix`` of the file's bytes, so a changed number is a
new version and every decision can name the exact policy it was made under. Amounts are read
as decimal text in major units and kept as integer minor units; a float in the file is refused.
"""

from __future__ import annotations

import hashlib
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hongbao.money import Money, MoneyError
from hongbao.packets.model import PacketType
from hongbao.platform.errors import ConfigurationError
from hongbao.platform.limits import MAX_PENDING_TIMEOUT_SECONDS, MAX_SPLIT_PARTS

DEFAULT_POLICY: Final = "default.toml"
MAX_POLICY_BYTES: Final = 1_000_000
VERSION_HASH_LENGTH: Final = 12


class PolicyError(ConfigurationError):
    """A policy file hongbao cannot use; the active policy (if any) stays in force."""

    code = "policy.invalid"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class TypeLimits(_Section):
    """What one packet type may carry. Amounts in minor units of the policy's currency."""

    max_shares: Annotated[int, Field(ge=1, le=MAX_SPLIT_PARTS)]
    # For a lucky packet this bounds the mean share: the draw decides each share.
    max_share_minor: Annotated[int, Field(ge=1)]
    max_total_minor: Annotated[int, Field(ge=1)]
    min_share_minor: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _consistent(self) -> TypeLimits:
        if self.min_share_minor > self.max_share_minor:
            raise ValueError("min_share is above max_share")
        if self.max_total_minor < self.min_share_minor:
            raise ValueError("max_total is below min_share")
        return self


class LimitsByType(_Section):
    personal: TypeLimits
    group_normal: TypeLimits
    group_lucky: TypeLimits
    enterprise: TypeLimits


class PacketPolicy(_Section):
    currency: str
    lifetime_hours: Annotated[int, Field(ge=1, le=24 * 31)]
    card_authorization_minutes: Annotated[int, Field(ge=1, le=24 * 60)]
    card_hold_backstop_hours: Annotated[int, Field(ge=1, le=MAX_PENDING_TIMEOUT_SECONDS // 3600)]
    fx_rate_max_age_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)]
    types: LimitsByType

    @model_validator(mode="after")
    def _backstop_after_window(self) -> PacketPolicy:
        if self.card_hold_backstop_hours * 60 <= self.card_authorization_minutes:
            raise ValueError("card_hold_backstop_hours must outlast card_authorization_minutes")
        return self

    def limits(self, packet_type: PacketType) -> TypeLimits:
        limits: TypeLimits = getattr(self.types, packet_type.value)
        return limits


class Policy(_Section):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    version: str
    packets: PacketPolicy


def _amount_fields(raw: dict[str, object], currency: str, where: str) -> dict[str, object]:
    """``max_share = "200.00"`` becomes ``max_share_minor = 20000``; floats are refused."""
    converted: dict[str, object] = {}
    for key, value in raw.items():
        if key.endswith("_minor"):
            # Minor units are this module's own representation, never written in a file.
            raise PolicyError(
                f"{where}.{key} is not a policy setting; write amounts as decimal text",
                code="policy.invalid", field=f"{where}.{key}",
            )  # fmt: skip
        if key in {"max_share", "max_total", "min_share"}:
            if not isinstance(value, str):
                raise PolicyError(
                    f'{where}.{key} must be decimal text such as "200.00", got {value!r:.40}',
                    code="policy.amount_not_text",
                    field=f"{where}.{key}",
                )
            try:
                converted[f"{key}_minor"] = Money.parse(value, currency).minor
            except MoneyError as error:
                raise PolicyError(
                    f"{where}.{key}: {error.message}", code="policy.amount_invalid",
                    field=f"{where}.{key}",
                ) from error  # fmt: skip
        else:
            converted[key] = value
    return converted


def parse_policy(content: bytes, *, source: str = "<policy>") -> Policy:
    """Validate a policy document; raises :class:`PolicyError` naming every problem found."""
    if len(content) > MAX_POLICY_BYTES:
        raise PolicyError(
            f"{source} is larger than {MAX_POLICY_BYTES} bytes", code="policy.too_large"
        )
    try:
        document = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PolicyError(f"{source} is not valid TOML: {error}", code="policy.not_toml") from error
    packets = document.get("packets")
    if isinstance(packets, dict) and isinstance(packets.get("types"), dict):
        currency = str(packets.get("currency", ""))
        packets["types"] = {
            name: _amount_fields(raw, currency, f"packets.types.{name}")
            if isinstance(raw, dict) else raw
            for name, raw in packets["types"].items()
        }  # fmt: skip
    digest = hashlib.sha256(content).hexdigest()[:VERSION_HASH_LENGTH]
    document["version"] = f"{document.get('name', '?')}@{digest}"
    try:
        return Policy.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise PolicyError(
            f"{source} is not a valid policy: {problems}", code="policy.invalid",
            problems=[problem["msg"] for problem in error.errors()],
        ) from error  # fmt: skip


def load_policy(path: Path | None = None) -> Policy:
    """The policy in ``path``, or the default policy shipped with hongbao."""
    if path is None:
        return default_policy()
    try:
        content = path.read_bytes()
    except OSError as error:
        raise PolicyError(
            f"cannot read policy {path}: {error}", code="policy.unreadable"
        ) from error
    return parse_policy(content, source=str(path))


@cache
def default_policy() -> Policy:
    content = resources.files("hongbao.policy").joinpath(DEFAULT_POLICY).read_bytes()
    return parse_policy(content, source=DEFAULT_POLICY)
