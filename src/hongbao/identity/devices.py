"""Devices: who sent from where (R-A1), and what each kind of device can and cannot do (R-D1..3).

A device is identified for recalls by its :class:`DeviceFingerprint`, the device id *and* the
SIM: the same phone with another SIM card is a different fingerprint, because R-A1 asks for
the device that sent the packet, and a swapped SIM is a classic account-takeover step.

Capabilities are derived by rule from platform, form factor, OS version and vendor skin,
never looked up per model, so that a model released tomorrow is handled on day one. The
thresholds live in :class:`DeviceRules`, which a policy file will supply.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from hongbao.identity.errors import IdentityCode
from hongbao.identity.users import (
    IdentityError,
    check_id,
    check_member,
    check_text,
    check_timestamp_us,
)
from hongbao.money import Money

__all__ = [
    "MAX_VERSION_PARTS",
    "MAX_VERSION_PART_DIGITS",
    "CapabilityKind",
    "Device",
    "DeviceCapabilities",
    "DeviceCapability",
    "DeviceCondition",
    "DeviceFingerprint",
    "DeviceRules",
    "FormFactor",
    "Platform",
    "VendorSkin",
    "Version",
    "derive_capabilities",
    "is_watch",
    "parse_conditions",
]

# "major.minor.patch.build" is the longest scheme any supported platform uses.
MAX_VERSION_PARTS: Final = 4
# Six digits cover build numbers; more is garbage, and bounds int() on hostile input.
MAX_VERSION_PART_DIGITS: Final = 6
# ASCII digits only: "\d" would also accept fullwidth and Arabic-Indic digits.
_VERSION_PATTERN: Final = re.compile(
    rf"[0-9]{{1,{MAX_VERSION_PART_DIGITS}}}(?:\.[0-9]{{1,{MAX_VERSION_PART_DIGITS}}})"
    rf"{{0,{MAX_VERSION_PARTS - 1}}}"
)
_MAX_VERSION_TEXT_LENGTH: Final = MAX_VERSION_PARTS * (MAX_VERSION_PART_DIGITS + 1)


class Platform(StrEnum):
    IOS = "ios"
    ANDROID = "android"
    HARMONYOS = "harmonyos"
    WATCHOS = "watchos"
    WEAROS = "wearos"


class VendorSkin(StrEnum):
    """The manufacturer's layer over the operating system; it changes background delivery."""

    NONE = "none"
    EMUI = "emui"
    MIUI = "miui"
    COLOROS = "coloros"
    ORIGINOS = "originos"
    ONEUI = "oneui"
    OTHER = "other"


class FormFactor(StrEnum):
    PHONE = "phone"
    TABLET = "tablet"
    WATCH = "watch"


# Platforms that exist only on watches, and platforms whose vendor ships no skin over them.
_WATCH_PLATFORMS: Final = frozenset({Platform.WATCHOS, Platform.WEAROS})
_UNSKINNED_PLATFORMS: Final = frozenset({Platform.IOS, Platform.WATCHOS})


@functools.total_ordering
@dataclass(frozen=True, slots=True, eq=False)
class Version:
    """An operating-system version such as ``12.4.1``, compared number by number.

    Trailing zeros do not count: ``3`` equals ``3.0`` and ``12.4.1`` is after ``12.4``.
    ``parts`` keeps every number, trailing zeros included, so ``str()`` prints ``3.0`` back
    as ``3.0`` (leading zeros are not kept: ``12.04`` prints as ``12.4``).
    Build with :meth:`parse`.
    """

    parts: tuple[int, ...]

    def __post_init__(self) -> None:
        valid = (
            isinstance(self.parts, tuple)
            and 1 <= len(self.parts) <= MAX_VERSION_PARTS
            and all(
                type(part) is int and 0 <= part < 10**MAX_VERSION_PART_DIGITS for part in self.parts
            )
        )
        if not valid:
            raise IdentityError(
                f"A version has 1 to {MAX_VERSION_PARTS} non-negative numbers of at most "
                f"{MAX_VERSION_PART_DIGITS} digits, got {self.parts!r:.60}.",
                code=IdentityCode.VERSION_MALFORMED,
            )

    @classmethod
    def parse(cls, text: str) -> Version:
        """Read ``"12.4.1"``. Refused with ``identity.version_malformed``: empty text, empty
        parts (``"12..4"``), prefixes (``"v12"``), signs (``"1.-2"``), more than
        :data:`MAX_VERSION_PARTS` parts, and numbers longer than
        :data:`MAX_VERSION_PART_DIGITS` digits."""
        if (
            not isinstance(text, str)
            or len(text) > _MAX_VERSION_TEXT_LENGTH
            or _VERSION_PATTERN.fullmatch(text) is None
        ):
            raise IdentityError(
                f"{text!r:.60} is not a version: use up to {MAX_VERSION_PARTS} dot-separated "
                f"numbers of at most {MAX_VERSION_PART_DIGITS} digits, such as '12.4.1'.",
                code=IdentityCode.VERSION_MALFORMED,
            )
        return cls(tuple(int(part) for part in text.split(".")))

    @property
    def major(self) -> int:
        return self.parts[0]

    def _comparison_key(self) -> tuple[int, ...]:
        # Trailing zeros are dropped so that "3", "3.0" and "3.0.0" are one version.
        parts = list(self.parts)
        while parts and parts[-1] == 0:
            parts.pop()
        return tuple(parts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._comparison_key() == other._comparison_key()

    def __lt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._comparison_key() < other._comparison_key()

    def __hash__(self) -> int:
        return hash(self._comparison_key())

    def __str__(self) -> str:
        return ".".join(str(part) for part in self.parts)


class DeviceCondition(StrEnum):
    """A passing state the client reports about its device (R-D6): the source names a Mate 50
    whose recalls fail in power-saving mode and a Xiaomi 13 Ultra that needs game acceleration
    turned off. Reported with each request, never stored on the device."""

    POWER_SAVING = "power_saving"  # 省电模式
    GAME_ACCELERATION = "game_acceleration"  # 游戏加速


# More than every condition named once is not a report: it is refused.
MAX_CONDITIONS_TEXT: Final = 100
_CONDITION: Final = "(?:" + "|".join(condition.value for condition in DeviceCondition) + ")"
# What parse_conditions accepts, for the API's document: known names, comma separated, spaces
# around the commas allowed, nothing at all meaning none. (HTTP drops blanks around a value.)
CONDITIONS_PATTERN: Final = f"^(?:{_CONDITION}(?: *, *{_CONDITION})*)?$"


def parse_conditions(text: str | None) -> frozenset[DeviceCondition]:
    """The conditions of a comma-separated report (``power_saving,game_acceleration``); an
    empty or missing report is none, an unknown or overlong one is refused whole."""
    if text is None or not text.strip():
        return frozenset()
    if len(text) > MAX_CONDITIONS_TEXT:
        raise IdentityError(
            "the device conditions report is too long", code=IdentityCode.DEVICE_CONDITIONS_INVALID
        )
    try:
        return frozenset(DeviceCondition(part.strip()) for part in text.split(","))
    except ValueError as error:
        raise IdentityError(
            f"unknown device condition in {text!r}", code=IdentityCode.DEVICE_CONDITIONS_INVALID
        ) from error


@dataclass(frozen=True, slots=True)
class DeviceFingerprint:
    """Device id plus SIM id; two fingerprints are the same device only if both match (R-A1).
    ``conditions`` are what the client reported about the device with this request (R-D6):
    they say how it is now, not which device it is, so they take no part in comparisons."""

    device_id: str
    sim_id: str
    conditions: frozenset[DeviceCondition] = field(default=frozenset(), compare=False, hash=False)

    def __post_init__(self) -> None:
        check_id(self.device_id, "device id")
        check_id(self.sim_id, "SIM id")


@dataclass(frozen=True, slots=True)
class Device:
    """A device registered to a user; ``os_version`` is text that :meth:`Version.parse` accepts."""

    device_id: str
    user_id: str
    sim_id: str
    platform: Platform
    os_version: str
    vendor_skin: VendorSkin
    model: str
    form_factor: FormFactor
    registered_at_us: int

    def __post_init__(self) -> None:
        check_id(self.device_id, "device id")
        check_id(self.user_id, "user id")
        check_id(self.sim_id, "SIM id")
        check_member(self.platform, Platform, "platform")
        Version.parse(self.os_version)
        check_member(self.vendor_skin, VendorSkin, "vendor skin")
        check_text(self.model, "device model")
        check_member(self.form_factor, FormFactor, "form factor")
        check_timestamp_us(self.registered_at_us, "device registration time")
        self._check_consistent()

    def _check_consistent(self) -> None:
        # Combinations that no real device reports point at a forged or corrupted registration;
        # accepting them would let a client choose which device rules apply to it.
        if self.platform in _WATCH_PLATFORMS and self.form_factor is not FormFactor.WATCH:
            self._inconsistent(f"{self.platform.value} runs only on watches")
        if self.platform is Platform.IOS and self.form_factor is FormFactor.WATCH:
            self._inconsistent("Apple watches run watchos, not ios")
        if self.platform in _UNSKINNED_PLATFORMS and self.vendor_skin is not VendorSkin.NONE:
            self._inconsistent(f"{self.platform.value} has no vendor skin")

    def _inconsistent(self, why: str) -> None:
        raise IdentityError(
            f"Device {self.device_id} is inconsistent: {why}.",
            code=IdentityCode.DEVICE_INCONSISTENT,
            device_id=self.device_id,
        )

    @property
    def fingerprint(self) -> DeviceFingerprint:
        return DeviceFingerprint(self.device_id, self.sim_id)

    @property
    def version(self) -> Version:
        return Version.parse(self.os_version)


@dataclass(frozen=True, slots=True)
class DeviceRules:
    """Thresholds of the device rules; defaults are the specification's (R-D1..R-D3).

    ``watch_recall_cap_fen`` is in CNY fen. ``ios_reliable_from`` is version text: iOS below
    it loses commands. ``harmonyos_checked_majors`` lists the HarmonyOS major versions that
    need the extra security-environment check.
    """

    watch_recall_cap_fen: int = 20_000
    harmonyos_checked_majors: tuple[int, ...] = (3,)
    ios_reliable_from: str = "12.4"
    delayed_background_skins: tuple[VendorSkin, ...] = (VendorSkin.EMUI,)

    def __post_init__(self) -> None:
        cap = self.watch_recall_cap_fen
        if type(cap) is not int or cap < 0:
            raise IdentityError(
                f"watch_recall_cap_fen must be a non-negative integer of fen, got {cap!r:.40}.",
                code=IdentityCode.DEVICE_RULES_INVALID,
            )
        if not isinstance(self.harmonyos_checked_majors, tuple) or not all(
            type(major) is int and major >= 0 for major in self.harmonyos_checked_majors
        ):
            raise IdentityError(
                "harmonyos_checked_majors must be a tuple of non-negative integers.",
                code=IdentityCode.DEVICE_RULES_INVALID,
            )
        Version.parse(self.ios_reliable_from)
        if not isinstance(self.delayed_background_skins, tuple):
            raise IdentityError(
                "delayed_background_skins must be a tuple of vendor skins.",
                code=IdentityCode.DEVICE_RULES_INVALID,
            )
        for skin in self.delayed_background_skins:
            check_member(skin, VendorSkin, "delayed background skin")


class CapabilityKind(StrEnum):
    """A limit or quirk of a device that the recall flow must respect."""

    RECALL_AMOUNT_CAP = "recall_amount_cap"  # R-D1
    EXTRA_SECURITY_CHECK = "extra_security_check"  # R-D2
    LOSSY_COMMAND_DELIVERY = "lossy_command_delivery"  # R-D3
    DELAYED_BACKGROUND_DELIVERY = "delayed_background_delivery"  # R-D3


@dataclass(frozen=True, slots=True)
class DeviceCapability:
    """One derived limit or quirk, with the rule that produced it and why it applies.

    ``amount_cap_fen`` is set only for ``RECALL_AMOUNT_CAP``: the largest packet, in CNY fen,
    that this device may recall.
    """

    kind: CapabilityKind
    rule: str
    reason: str
    amount_cap_fen: int | None = None


@dataclass(frozen=True, slots=True)
class DeviceCapabilities:
    """Everything derived for one device; ``items`` is empty for an unrestricted device."""

    items: tuple[DeviceCapability, ...]

    def has(self, kind: CapabilityKind) -> bool:
        return any(item.kind is kind for item in self.items)

    @property
    def recall_amount_cap_fen(self) -> int | None:
        """The largest packet (CNY fen) this device may recall, or ``None`` for no cap."""
        caps = [item.amount_cap_fen for item in self.items if item.amount_cap_fen is not None]
        return min(caps) if caps else None

    @property
    def needs_security_environment_check(self) -> bool:
        return self.has(CapabilityKind.EXTRA_SECURITY_CHECK)

    @property
    def has_lossy_command_delivery(self) -> bool:
        return self.has(CapabilityKind.LOSSY_COMMAND_DELIVERY)

    @property
    def has_delayed_background_delivery(self) -> bool:
        return self.has(CapabilityKind.DELAYED_BACKGROUND_DELIVERY)


def is_watch(device: Device) -> bool:
    """A watch by form factor or by platform: either is enough for the watch rule (R-D1)."""
    return device.form_factor is FormFactor.WATCH or device.platform in _WATCH_PLATFORMS


def derive_capabilities(device: Device, rules: DeviceRules | None = None) -> DeviceCapabilities:
    """Apply every device rule to ``device``, in rule order (R-D1, R-D2, R-D3)."""
    active_rules = rules if rules is not None else DeviceRules()
    derived = (
        _watch_cap(device, active_rules),
        _harmonyos_check(device, active_rules),
        _ios_lossy_delivery(device, active_rules),
        _skin_delayed_delivery(device, active_rules),
    )
    return DeviceCapabilities(tuple(item for item in derived if item is not None))


def _watch_cap(device: Device, rules: DeviceRules) -> DeviceCapability | None:
    if not is_watch(device):
        return None
    cap = Money.of(rules.watch_recall_cap_fen, "CNY").display()
    return DeviceCapability(
        kind=CapabilityKind.RECALL_AMOUNT_CAP,
        rule="R-D1",
        reason=f"R-D1: smartwatches may recall only packets up to {cap} "
        f"({device.platform.value} {device.form_factor.value}).",
        amount_cap_fen=rules.watch_recall_cap_fen,
    )


def _harmonyos_check(device: Device, rules: DeviceRules) -> DeviceCapability | None:
    if device.platform is not Platform.HARMONYOS:
        return None
    if device.version.major not in rules.harmonyos_checked_majors:
        return None
    return DeviceCapability(
        kind=CapabilityKind.EXTRA_SECURITY_CHECK,
        rule="R-D2",
        reason=f"R-D2: HarmonyOS {device.version.major}.x (this device runs "
        f"{device.os_version}) needs one extra security-environment verification.",
    )


def _ios_lossy_delivery(device: Device, rules: DeviceRules) -> DeviceCapability | None:
    if device.platform is not Platform.IOS:
        return None
    if device.version >= Version.parse(rules.ios_reliable_from):
        return None
    return DeviceCapability(
        kind=CapabilityKind.LOSSY_COMMAND_DELIVERY,
        rule="R-D3",
        reason=f"R-D3: iOS below {rules.ios_reliable_from} (this device runs "
        f"{device.os_version}) loses commands; they are retried idempotently.",
    )


def _skin_delayed_delivery(device: Device, rules: DeviceRules) -> DeviceCapability | None:
    if device.vendor_skin not in rules.delayed_background_skins:
        return None
    return DeviceCapability(
        kind=CapabilityKind.DELAYED_BACKGROUND_DELIVERY,
        rule="R-D3",
        reason=f"R-D3: the {device.vendor_skin.value.upper()} skin delays background "
        "delivery; the client polls for status instead of waiting for a push.",
    )
