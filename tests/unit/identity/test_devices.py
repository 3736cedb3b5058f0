"""Devices: fingerprints (R-A1), version ordering, and capabilities derived by rule (R-D1..R-D3)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hongbao.identity.devices import (
    MAX_VERSION_PART_DIGITS,
    MAX_VERSION_PARTS,
    CapabilityKind,
    Device,
    DeviceFingerprint,
    DeviceRules,
    FormFactor,
    Platform,
    VendorSkin,
    Version,
    derive_capabilities,
    is_watch,
)
from hongbao.identity.users import IdentityError

REGISTERED_US = 1_796_000_000_000_000


def device(**changes: Any) -> Device:
    """An Android phone without a vendor skin, with any field replaced."""
    fields: dict[str, Any] = {
        "device_id": "dev-1",
        "user_id": "alice",
        "sim_id": "89860000000000000001",
        "platform": Platform.ANDROID,
        "os_version": "14",
        "vendor_skin": VendorSkin.NONE,
        "model": "Pixel 8",
        "form_factor": FormFactor.PHONE,
        "registered_at_us": REGISTERED_US,
    }
    fields.update(changes)
    return Device(**fields)


def kinds(subject: Device, rules: DeviceRules | None = None) -> set[CapabilityKind]:
    return {item.kind for item in derive_capabilities(subject, rules).items}


# --- fingerprints -----------------------------------------------------------------------------


def test_the_same_device_with_the_same_sim_is_the_same_fingerprint() -> None:
    assert device().fingerprint == device(model="renamed").fingerprint
    assert device().fingerprint == DeviceFingerprint("dev-1", "89860000000000000001")
    assert len({device().fingerprint, device().fingerprint}) == 1


def test_the_same_device_with_another_sim_is_a_different_fingerprint() -> None:
    assert device().fingerprint != device(sim_id="89860000000000000002").fingerprint


def test_another_device_with_the_same_sim_is_a_different_fingerprint() -> None:
    assert device().fingerprint != device(device_id="dev-2").fingerprint


def test_fingerprint_parts_must_be_valid_ids() -> None:
    with pytest.raises(IdentityError) as refused:
        DeviceFingerprint("dev-1", "")
    assert refused.value.code == "identity.id_invalid"


# --- versions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lower", "higher"),
    [("12.4", "12.10"), ("12.4", "12.4.1"), ("12.3.9", "12.4"), ("9", "10"), ("3", "3.0.1")],
)
def test_versions_are_ordered_number_by_number(lower: str, higher: str) -> None:
    assert Version.parse(lower) < Version.parse(higher)
    assert Version.parse(higher) > Version.parse(lower)
    assert Version.parse(lower) != Version.parse(higher)


def test_trailing_zeros_do_not_change_a_version() -> None:
    assert Version.parse("3") == Version.parse("3.0") == Version.parse("3.0.0.0")
    assert hash(Version.parse("3")) == hash(Version.parse("3.0"))
    assert Version.parse("3") <= Version.parse("3.0")
    assert Version.parse("3.0") >= Version.parse("3")


def test_a_version_prints_as_it_was_written() -> None:
    assert str(Version.parse("12.04.0")) == "12.4.0"
    assert str(Version.parse("17.0.1")) == "17.0.1"
    assert Version.parse("17.0.1").major == 17


def test_a_version_is_never_equal_to_plain_text() -> None:
    assert Version.parse("3") != "3"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12..4",
        ".12",
        "12.",
        "v12",
        "1.-2",
        "+1",
        "1.2.3.4.5",
        "1" * (MAX_VERSION_PART_DIGITS + 1),
        "12.4 ",
        " 12.4",
        "12.4\n",
        "\uff11\uff12.4",  # fullwidth digits
        "12,4",
        "12.4-beta",
    ],
)
def test_malformed_version_text_is_refused_with_a_stable_code(text: str) -> None:
    with pytest.raises(IdentityError) as refused:
        Version.parse(text)
    assert refused.value.code == "identity.version_malformed"


@pytest.mark.parametrize("parts", [(), (1, -2), (1, 2, 3, 4, 5), (10**MAX_VERSION_PART_DIGITS,)])
def test_a_version_built_from_bad_numbers_is_refused(parts: tuple[int, ...]) -> None:
    with pytest.raises(IdentityError) as refused:
        Version(parts)
    assert refused.value.code == "identity.version_malformed"


def test_non_text_is_not_a_version() -> None:
    with pytest.raises(IdentityError) as refused:
        Version.parse(12.4)  # type: ignore[arg-type]
    assert refused.value.code == "identity.version_malformed"


version_parts = st.lists(
    st.integers(min_value=0, max_value=10**MAX_VERSION_PART_DIGITS - 1),
    min_size=1,
    max_size=MAX_VERSION_PARTS,
)


def normalised(parts: list[int]) -> tuple[int, ...]:
    """The reference ordering: the tuple of numbers without trailing zeros."""
    trimmed = list(parts)
    while trimmed and trimmed[-1] == 0:
        trimmed.pop()
    return tuple(trimmed)


@given(version_parts, version_parts)
def test_version_order_agrees_with_tuples_without_trailing_zeros(
    left: list[int], right: list[int]
) -> None:
    left_version = Version.parse(".".join(map(str, left)))
    right_version = Version.parse(".".join(map(str, right)))
    assert (left_version < right_version) == (normalised(left) < normalised(right))
    assert (left_version == right_version) == (normalised(left) == normalised(right))
    assert (left_version > right_version) == (normalised(left) > normalised(right))


@given(version_parts)
def test_a_version_survives_printing_and_parsing(parts: list[int]) -> None:
    version = Version.parse(".".join(map(str, parts)))
    assert Version.parse(str(version)) == version
    assert version.parts == tuple(parts)


# --- device records ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"platform": Platform.WATCHOS, "form_factor": FormFactor.PHONE},
        {"platform": Platform.WEAROS, "form_factor": FormFactor.TABLET},
        {"platform": Platform.IOS, "form_factor": FormFactor.WATCH},
        {"platform": Platform.IOS, "vendor_skin": VendorSkin.EMUI},
        {"platform": Platform.WATCHOS, "form_factor": FormFactor.WATCH, "vendor_skin": "miui"},
    ],
)
def test_impossible_platform_combinations_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(IdentityError) as refused:
        device(**changes)
    assert refused.value.code in {"identity.device_inconsistent", "identity.enum_invalid"}


def test_a_device_with_a_malformed_os_version_is_refused() -> None:
    with pytest.raises(IdentityError) as refused:
        device(os_version="v14")
    assert refused.value.code == "identity.version_malformed"
    assert device(os_version="14.0").version == Version.parse("14")


# --- capabilities -----------------------------------------------------------------------------


def test_an_ordinary_phone_has_no_restrictions() -> None:
    capabilities = derive_capabilities(device())
    assert capabilities.items == ()
    assert capabilities.recall_amount_cap_fen is None
    assert not capabilities.needs_security_environment_check
    assert not capabilities.has_lossy_command_delivery
    assert not capabilities.has_delayed_background_delivery


@pytest.mark.parametrize(
    "watch",
    [
        {"form_factor": FormFactor.WATCH},
        {"platform": Platform.WATCHOS, "form_factor": FormFactor.WATCH, "os_version": "10.1"},
        {"platform": Platform.WEAROS, "form_factor": FormFactor.WATCH, "os_version": "4"},
        {"platform": Platform.HARMONYOS, "form_factor": FormFactor.WATCH, "os_version": "4.0"},
    ],
)
def test_every_watch_may_recall_only_up_to_the_watch_cap(watch: dict[str, Any]) -> None:
    subject = device(**watch)
    capabilities = derive_capabilities(subject)
    assert is_watch(subject)
    assert capabilities.recall_amount_cap_fen == 20_000
    (cap,) = [item for item in capabilities.items if item.kind is CapabilityKind.RECALL_AMOUNT_CAP]
    assert cap.rule == "R-D1"
    assert "R-D1" in cap.reason
    assert "200.00 CNY" in cap.reason


def test_the_watch_cap_comes_from_the_rules() -> None:
    rules = DeviceRules(watch_recall_cap_fen=5_000)
    capabilities = derive_capabilities(device(form_factor=FormFactor.WATCH), rules)
    assert capabilities.recall_amount_cap_fen == 5_000
    assert "50.00 CNY" in capabilities.items[0].reason


def test_phones_and_tablets_are_not_watches() -> None:
    assert not is_watch(device(form_factor=FormFactor.TABLET))
    assert CapabilityKind.RECALL_AMOUNT_CAP not in kinds(device(form_factor=FormFactor.TABLET))


@pytest.mark.parametrize(("version", "checked"), [("3", True), ("3.0.0", True), ("3.1.2", True)])
def test_harmonyos_3_needs_an_extra_security_environment_check(version: str, checked: bool) -> None:
    subject = device(platform=Platform.HARMONYOS, os_version=version, model="Mate 50")
    capabilities = derive_capabilities(subject)
    assert capabilities.needs_security_environment_check is checked
    assert "R-D2" in capabilities.items[0].reason
    assert version in capabilities.items[0].reason


@pytest.mark.parametrize("version", ["2.0.1", "4.0", "4.2.0"])
def test_other_harmonyos_versions_need_no_extra_check(version: str) -> None:
    subject = device(platform=Platform.HARMONYOS, os_version=version)
    assert not derive_capabilities(subject).needs_security_environment_check


def test_android_3_is_not_harmonyos_3() -> None:
    assert CapabilityKind.EXTRA_SECURITY_CHECK not in kinds(device(os_version="3.0"))


def test_the_checked_harmonyos_majors_come_from_the_rules() -> None:
    rules = DeviceRules(harmonyos_checked_majors=(3, 4))
    subject = device(platform=Platform.HARMONYOS, os_version="4.0")
    assert CapabilityKind.EXTRA_SECURITY_CHECK in kinds(subject, rules)


@pytest.mark.parametrize(
    ("version", "lossy"),
    [("11", True), ("12.3.9", True), ("12.4", False), ("12.4.0", False), ("12.10", False)],
)
def test_ios_below_12_4_loses_commands(version: str, lossy: bool) -> None:
    subject = device(platform=Platform.IOS, os_version=version, model="iPhone 6")
    capabilities = derive_capabilities(subject)
    assert capabilities.has_lossy_command_delivery is lossy
    if lossy:
        assert capabilities.items[0].rule == "R-D3"
        assert "12.4" in capabilities.items[0].reason


def test_the_reliable_ios_version_comes_from_the_rules() -> None:
    rules = DeviceRules(ios_reliable_from="13")
    subject = device(platform=Platform.IOS, os_version="12.5")
    assert CapabilityKind.LOSSY_COMMAND_DELIVERY in kinds(subject, rules)


def test_android_below_12_4_is_not_the_ios_rule() -> None:
    assert CapabilityKind.LOSSY_COMMAND_DELIVERY not in kinds(device(os_version="11"))


def test_the_emui_skin_delays_background_delivery() -> None:
    capabilities = derive_capabilities(device(vendor_skin=VendorSkin.EMUI, model="P40"))
    assert capabilities.has_delayed_background_delivery
    assert capabilities.items[0].rule == "R-D3"
    assert "EMUI" in capabilities.items[0].reason


def test_other_skins_deliver_in_the_background_unless_the_rules_list_them() -> None:
    assert not derive_capabilities(device(vendor_skin=VendorSkin.MIUI)).items
    rules = DeviceRules(delayed_background_skins=(VendorSkin.MIUI,))
    assert CapabilityKind.DELAYED_BACKGROUND_DELIVERY in kinds(
        device(vendor_skin=VendorSkin.MIUI), rules
    )


def test_rules_combine_on_one_device_in_rule_order() -> None:
    subject = device(
        platform=Platform.HARMONYOS,
        os_version="3.0",
        vendor_skin=VendorSkin.EMUI,
        form_factor=FormFactor.WATCH,
    )
    rules = [item.rule for item in derive_capabilities(subject).items]
    assert rules == ["R-D1", "R-D2", "R-D3"]


@pytest.mark.parametrize(
    "changes",
    [
        {"watch_recall_cap_fen": -1},
        {"watch_recall_cap_fen": 200.0},
        {"harmonyos_checked_majors": [3]},
        {"harmonyos_checked_majors": (-1,)},
        {"delayed_background_skins": ["emui"]},
    ],
)
def test_malformed_device_rules_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(IdentityError) as refused:
        DeviceRules(**changes)
    assert refused.value.code == "identity.device_rules_invalid"


def test_device_rules_refuse_a_malformed_ios_version_and_a_non_skin() -> None:
    with pytest.raises(IdentityError) as bad_version:
        DeviceRules(ios_reliable_from="12..4")
    assert bad_version.value.code == "identity.version_malformed"
    with pytest.raises(IdentityError) as bad_skin:
        DeviceRules(delayed_background_skins=("emui",))  # type: ignore[arg-type]
    assert bad_skin.value.code == "identity.enum_invalid"
