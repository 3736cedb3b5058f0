"""Users and enterprises: tiers, standing, account age, and the corporate account on file."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from hongbao.identity.users import (
    MICROSECONDS_PER_DAY,
    AccountTier,
    AgeBand,
    Enterprise,
    IdentityError,
    RealNameStatus,
    User,
    UserStatus,
    UserType,
    mask_corporate_account,
)
from hongbao.platform.errors import InvalidInput

REGISTERED_US = 1_796_000_000_000_000


def make_user(**changes: Any) -> User:
    """A verified class-I normal user, with any field replaced."""
    fields: dict[str, Any] = {
        "id": "user-1",
        "display_name": "小王",
        "tier": AccountTier.CLASS_I,
        "user_type": UserType.NORMAL,
        "registered_at_us": REGISTERED_US,
        "real_name_status": RealNameStatus.VERIFIED,
        "age_band": AgeBand.FROM_26_TO_35,
    }
    fields.update(changes)
    return User(**fields)


def refused_code(**changes: Any) -> str:
    with pytest.raises(IdentityError) as refused:
        make_user(**changes)
    return refused.value.code


def test_a_well_formed_user_keeps_every_field_as_given() -> None:
    user = make_user(is_vip=True)
    assert (user.id, user.tier, user.is_vip, user.status) == (
        "user-1",
        AccountTier.CLASS_I,
        True,
        UserStatus.NORMAL,
    )
    assert user.is_in_good_standing


def test_enum_values_are_the_stable_strings_storage_writes() -> None:
    assert [tier.value for tier in AccountTier] == [
        "unverified",
        "class_i",
        "class_ii",
        "class_iii",
        "enterprise",
    ]
    assert [band.value for band in AgeBand] == ["18-25", "26-35", "36+", "60+"]
    assert [status.value for status in UserStatus] == ["normal", "abnormal", "frozen"]


def test_identity_errors_are_invalid_input_with_a_stable_code() -> None:
    with pytest.raises(InvalidInput) as refused:
        make_user(id="")
    assert refused.value.code == "identity.id_invalid"


def test_the_account_age_counts_from_registration() -> None:
    user = make_user()
    assert user.account_age_us(REGISTERED_US) == 0
    assert user.account_age_us(REGISTERED_US + 5) == 5


def test_a_clock_behind_the_registration_gives_age_zero_not_a_negative_age() -> None:
    assert make_user().account_age_us(REGISTERED_US - 1_000) == 0


def test_an_account_is_new_until_exactly_seven_days_have_passed() -> None:
    user = make_user()
    seven_days_later = REGISTERED_US + 7 * MICROSECONDS_PER_DAY
    assert user.is_newer_than(7, REGISTERED_US)
    assert user.is_newer_than(7, seven_days_later - 1)
    assert not user.is_newer_than(7, seven_days_later)
    assert not user.is_newer_than(0, REGISTERED_US)


@pytest.mark.parametrize("days", [-1, 1.5, True, "7"])
def test_the_number_of_days_must_be_a_non_negative_integer(days: object) -> None:
    with pytest.raises(IdentityError) as refused:
        make_user().is_newer_than(days, REGISTERED_US)  # type: ignore[arg-type]
    assert refused.value.code == "identity.days_invalid"


@pytest.mark.parametrize("tier", [AccountTier.CLASS_I, AccountTier.CLASS_II, AccountTier.CLASS_III])
@pytest.mark.parametrize("status", [RealNameStatus.NOT_VERIFIED, RealNameStatus.PENDING])
def test_a_tier_above_unverified_requires_a_verified_real_name(
    tier: AccountTier, status: RealNameStatus
) -> None:
    assert refused_code(tier=tier, real_name_status=status) == "identity.tier_requires_real_name"


def test_an_unverified_account_may_have_any_real_name_status() -> None:
    for status in RealNameStatus:
        assert make_user(tier=AccountTier.UNVERIFIED, real_name_status=status).tier == "unverified"


def test_the_enterprise_tier_and_the_enterprise_user_type_go_together() -> None:
    enterprise = make_user(tier=AccountTier.ENTERPRISE, user_type=UserType.ENTERPRISE)
    assert enterprise.user_type is UserType.ENTERPRISE
    assert refused_code(tier=AccountTier.ENTERPRISE) == "identity.enterprise_tier_mismatch"
    assert refused_code(user_type=UserType.ENTERPRISE) == "identity.enterprise_tier_mismatch"


@pytest.mark.parametrize("status", [UserStatus.ABNORMAL, UserStatus.FROZEN])
def test_a_restricted_user_needs_a_reason_and_is_not_in_good_standing(status: UserStatus) -> None:
    assert refused_code(status=status) == "identity.status_reason_required"
    assert refused_code(status=status, status_reason="  ") == "identity.text_invalid"
    user = make_user(status=status, status_reason="court order 2026-118")
    assert not user.is_in_good_standing
    assert user.status_reason == "court order 2026-118"


def test_a_user_in_normal_standing_carries_no_stale_reason() -> None:
    assert refused_code(status_reason="was frozen") == "identity.status_reason_unexpected"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"id": "has space"}, "identity.id_invalid"),
        ({"id": "x" * 129}, "identity.id_invalid"),
        ({"display_name": ""}, "identity.text_invalid"),
        ({"display_name": " padded"}, "identity.text_invalid"),
        ({"display_name": "x" * 129}, "identity.text_invalid"),
        ({"display_name": "Alice\nAUDIT: forged line"}, "identity.text_invalid"),
        ({"display_name": "tab\there"}, "identity.text_invalid"),
        ({"tier": "class_i"}, "identity.enum_invalid"),
        ({"user_type": "normal"}, "identity.enum_invalid"),
        ({"age_band": "18-25"}, "identity.enum_invalid"),
        ({"status": "frozen", "status_reason": "x"}, "identity.enum_invalid"),
        ({"registered_at_us": 1.5}, "identity.time_invalid"),
        ({"registered_at_us": True}, "identity.time_invalid"),
        ({"registered_at_us": -1}, "identity.time_invalid"),
        ({"is_vip": 1}, "identity.flag_invalid"),
    ],
)
def test_malformed_user_fields_are_refused_with_a_stable_code(
    changes: dict[str, Any], code: str
) -> None:
    assert refused_code(**changes) == code


def test_the_age_band_may_be_unknown() -> None:
    assert make_user(age_band=None).age_band is None


def test_users_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_user().tier = AccountTier.ENTERPRISE  # type: ignore[misc]


# --- enterprises ------------------------------------------------------------------------------


def test_a_corporate_account_is_kept_only_in_masked_form() -> None:
    masked = mask_corporate_account("1234567890123456789")
    assert masked == "**** 6789"
    enterprise = Enterprise("ent-1", "Acme 教育", "user-9", True, masked)
    assert "1234567890123456789" not in repr(enterprise)


FULLWIDTH_DIGITS = "".join(chr(0xFF10 + digit) for digit in range(1, 10))


@pytest.mark.parametrize(
    "number", ["1234567", "1" * 33, "1234 5678 9012", FULLWIDTH_DIGITS, "12345678x", ""]
)
def test_a_malformed_corporate_account_number_is_refused_without_echoing_it(number: str) -> None:
    with pytest.raises(IdentityError) as refused:
        mask_corporate_account(number)
    assert refused.value.code == "identity.corporate_account_invalid"
    if number:
        assert number not in str(refused.value)
        assert number not in repr(refused.value.details)


def test_an_unmasked_corporate_account_is_refused_without_echoing_it() -> None:
    with pytest.raises(IdentityError) as refused:
        Enterprise("ent-1", "Acme", "user-9", True, "1234567890123456789")
    assert refused.value.code == "identity.account_not_masked"
    assert "1234567890123456789" not in str(refused.value)


def test_a_certified_enterprise_needs_its_corporate_account_on_file() -> None:
    with pytest.raises(IdentityError) as refused:
        Enterprise("ent-1", "Acme", "user-9", True)
    assert refused.value.code == "identity.certified_enterprise_needs_account"
    assert Enterprise("ent-2", "Acme", "user-9", False).corporate_account_masked is None


def test_enterprise_ids_and_flags_are_checked() -> None:
    with pytest.raises(IdentityError) as bad_owner:
        Enterprise("ent-1", "Acme", "", False)
    assert bad_owner.value.code == "identity.id_invalid"
    with pytest.raises(IdentityError) as bad_flag:
        Enterprise("ent-1", "Acme", "user-9", "yes")  # type: ignore[arg-type]
    assert bad_flag.value.code == "identity.flag_invalid"
