"""Tests for hongbao.policy.document: the shipped policy, versions, and every refusal code."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import pytest
from pydantic import ValidationError

from hongbao.packets.model import PacketType
from hongbao.platform.errors import ConfigurationError
from hongbao.platform.limits import MAX_PENDING_TIMEOUT_SECONDS, MAX_SPLIT_PARTS
from hongbao.policy.document import (
    DEFAULT_POLICY,
    MAX_POLICY_BYTES,
    VERSION_HASH_LENGTH,
    Policy,
    PolicyError,
    default_policy,
    load_policy,
    parse_policy,
)

# A small valid policy, independent of the shipped numbers so that edits to default.toml do not
# break the refusal tests. Every test that needs a broken policy edits one line of this.
VALID = """\
name = "test-policy"

[packets]
currency = "CNY"
lifetime_hours = 24
card_authorization_minutes = 15
card_hold_backstop_hours = 168
fx_rate_max_age_minutes = 60

[packets.types.personal]
max_shares = 1
max_share = "200.00"
max_total = "200.00"
min_share = "0.01"

[packets.types.group_normal]
max_shares = 100
max_share = "200.00"
max_total = "20000.00"
min_share = "0.01"

[packets.types.group_lucky]
max_shares = 100
max_share = "200.00"
max_total = "20000.00"
min_share = "0.01"

[packets.types.enterprise]
max_shares = 200
max_share = "5000.00"
max_total = "1000000.00"
min_share = "0.01"

[recall]
timezone = "Asia/Shanghai"
unclaimed_window_hours = 24
blackout_start = "23:50"
blackout_end = "00:10"

[recall.types.personal]
window_minutes = 1440
min_remainder = "0.01"

[recall.types.group_normal]
window_minutes = 1440
min_remainder_percent_of_total = 30

[recall.types.group_lucky]
window_minutes = 30
min_remainder_percent_of_mean_share = 50

[recall.types.enterprise]
window_minutes = 1440
min_remainder_percent_of_total = 30

[recall.security]
face_above = "200.00"
new_account_days = 7
new_account_large_above = "200.00"

[recall.tiers.unverified]
daily_count = 0
daily_amount = "0.00"
verification = []

[recall.tiers.class_i]
daily_count = 5
daily_amount = "5000.00"
verification = ["sms_code"]

[recall.tiers.class_ii]
daily_count = 3
daily_amount = "1000.00"
verification = ["sms_code"]

[recall.tiers.class_iii]
daily_count = 1
daily_amount = "200.00"
verification = ["sms_code"]

[recall.tiers.enterprise]
daily_count = 20
daily_amount = "50000.00"
verification = ["corporate_account"]

[recall.devices]
watch_cap = "200.00"
security_check_harmonyos_majors = [3]

[recall.exemptions]
new_account_large_amount = ["certified_enterprise"]

[refunds]
smart_routing = false
held_recheck_minutes = 60
payout_max_attempts = 8
payout_backoff_base_minutes = 5
payout_backoff_cap_minutes = 360

[risk]
attempts_for_face = 5
attempt_window_minutes = 60
hold_cumulative_amount = "10000.00"
cumulative_window_days = 30
hold_hours = 24
travel_km = 300
travel_window_minutes = 10
flag_hours = 168
behaviour_min_samples = 8
behaviour_deviations = 6
behaviour_min_spread_percent = 50
behaviour_level = 1
ring_min_members = 5
ring_pair_cycles = 2
ring_level = 2
flow_window_hours = 24
cash_out_count = 2
cash_out_level = 2
structuring_amount = "5000.00"
structuring_band_percent = 10
structuring_count = 3
structuring_level = 2
cycle_minutes = 30
cycle_count = 3
cycle_level = 2

[social.score]
maximum = 1000
starting = 800
daily_excess_points = 10
monthly_safe_recalls = 3
monthly_excess_points = 20

[social.user_types.normal]
safe_recalls_per_day = 2
coefficient_percent = 100
penalty_days = 7

[social.user_types.business]
safe_recalls_per_day = 1
coefficient_percent = 150
penalty_days = 15

[social.user_types.enterprise]
safe_recalls_per_day = 5
coefficient_percent = 80
penalty_days = 3

[social.groups]
ban_threshold = 3
window_hours = 24
ban_hours = 24

[social.groups.tolerance_percent]
work = 130
education = 130
entertainment = 100
family = 100
other = 100

[social.pairs]
drop_permille = 250
floor_permille = 100

[social.intimacy]
top_chat_partners = 10
drop_min = 8
drop_max = 12
full_drop_at = "200.00"

[guard]
night_start = "22:00"
night_end = "06:00"
large_amount = "200.00"
group_types = ["work"]
offered_delivery = "08:00"
max_delay_hours = 72

[guard.regret]
threshold = 500
recall_rate_weight = 350
audience_recall_weight = 350
night_weight = 150
unusual_amount_weight = 150
unusual_amount_multiple = 5
prior_sends = 4
"""


def edited(old: str, new: str, *, text: str = VALID) -> bytes:
    """``text`` with its first ``old`` replaced by ``new``; fails loudly if ``old`` is absent."""
    assert old in text, f"test setup: {old!r} is not in the policy text"
    return text.replace(old, new, 1).encode()


def refusal(content: bytes) -> PolicyError:
    """The PolicyError that parsing ``content`` raises."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(content, source="test.toml")
    return caught.value


def shipped_bytes() -> bytes:
    return resources.files("hongbao.policy").joinpath(DEFAULT_POLICY).read_bytes()


# --- the shipped default policy --------------------------------------------------------------


def test_the_default_policy_loads_and_is_named_default() -> None:
    policy = default_policy()
    assert isinstance(policy, Policy)
    assert policy.name == "default"
    assert policy.packets.currency == "CNY"


def test_load_policy_without_a_path_is_the_cached_default_policy() -> None:
    assert load_policy() is default_policy()
    assert load_policy(None) is default_policy()


def test_the_default_policy_has_limits_for_every_packet_type() -> None:
    policy = default_policy()
    for packet_type in PacketType:
        assert policy.packets.limits(packet_type) is getattr(policy.packets.types, packet_type)


def test_the_default_amounts_are_converted_from_yuan_text_to_fen() -> None:
    personal = default_policy().packets.limits(PacketType.PERSONAL)
    assert personal.max_share_minor == 20_000
    assert personal.max_total_minor == 20_000
    assert personal.min_share_minor == 1
    assert personal.max_shares == 1


@pytest.mark.parametrize("group", [PacketType.GROUP_NORMAL, PacketType.GROUP_LUCKY])
def test_enterprise_limits_are_above_group_limits(group: PacketType) -> None:
    packets = default_policy().packets
    enterprise, grouped = packets.limits(PacketType.ENTERPRISE), packets.limits(group)
    assert enterprise.max_shares > grouped.max_shares
    assert enterprise.max_share_minor > grouped.max_share_minor
    assert enterprise.max_total_minor > grouped.max_total_minor


def test_the_default_card_hold_backstop_outlasts_the_card_window() -> None:
    packets = default_policy().packets
    assert packets.card_hold_backstop_hours * 60 > packets.card_authorization_minutes


def test_the_default_version_is_its_name_and_the_sha256_prefix_of_the_shipped_bytes() -> None:
    digest = hashlib.sha256(shipped_bytes()).hexdigest()[:VERSION_HASH_LENGTH]
    assert default_policy().version == f"default@{digest}"


def test_policy_sections_refuse_attribute_assignment() -> None:
    """The models are frozen: a loaded policy cannot be changed field by field."""
    policy = parse_policy(VALID.encode())
    with pytest.raises(ValidationError):
        policy.name = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        policy.packets.lifetime_hours = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        policy.packets.limits(PacketType.PERSONAL).max_shares = 99  # type: ignore[misc]


def test_the_per_type_limits_of_a_loaded_policy_cannot_be_replaced() -> None:
    policy = parse_policy(VALID.encode())  # never the cached default: this would change it
    enterprise = policy.packets.limits(PacketType.ENTERPRISE)
    with pytest.raises(ValidationError):
        policy.packets.types.personal = enterprise  # type: ignore[misc]


# --- versions ---------------------------------------------------------------------------------


def test_the_version_is_stable_for_the_same_bytes() -> None:
    first = parse_policy(VALID.encode())
    second = parse_policy(VALID.encode(), source="elsewhere.toml")
    digest = hashlib.sha256(VALID.encode()).hexdigest()[:VERSION_HASH_LENGTH]
    assert first.version == second.version == f"test-policy@{digest}"


def test_the_version_changes_when_a_number_changes() -> None:
    before = parse_policy(VALID.encode())
    after = parse_policy(edited('max_total = "200.00"', 'max_total = "199.99"'))
    assert after.packets.limits(PacketType.PERSONAL).max_total_minor == 19_999
    assert after.name == before.name
    assert after.version != before.version


def test_the_version_changes_with_any_byte_even_a_comment() -> None:
    """The hash is of the file's bytes, as documented: any change here is a new version."""
    commented = (VALID + "# reviewed\n").encode()
    assert parse_policy(commented).version != parse_policy(VALID.encode()).version


def test_a_version_written_in_the_file_is_replaced_by_the_computed_one() -> None:
    content = edited('name = "test-policy"', 'name = "test-policy"\nversion = "forged"')
    policy = parse_policy(content)
    digest = hashlib.sha256(content).hexdigest()[:VERSION_HASH_LENGTH]
    assert policy.version == f"test-policy@{digest}"


# --- amounts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["200.0", "200", "true"], ids=["float", "integer", "boolean"])
def test_an_amount_that_is_not_decimal_text_is_refused_naming_the_field(value: str) -> None:
    error = refusal(edited('max_share = "200.00"', f"max_share = {value}"))
    assert error.code == "policy.amount_not_text"
    assert error.details["field"] == "packets.types.personal.max_share"
    assert "packets.types.personal.max_share" in error.message
    assert isinstance(error, ConfigurationError)


@pytest.mark.parametrize(
    "text",
    ["200.001", "abc", "1e3", "+1.00", " 1.00", "1,000.00", ""],
    ids=["too-precise", "letters", "exponent", "plus", "space", "separator", "empty"],
)
def test_amount_text_that_money_refuses_is_an_invalid_amount_naming_the_field(text: str) -> None:
    error = refusal(edited('min_share = "0.01"', f'min_share = "{text}"'))
    assert error.code == "policy.amount_invalid"
    assert error.details["field"] == "packets.types.personal.min_share"
    assert "packets.types.personal.min_share" in error.message


def test_an_unknown_policy_currency_makes_every_amount_invalid() -> None:
    error = refusal(edited('currency = "CNY"', 'currency = "XYZ"'))
    assert error.code == "policy.amount_invalid"
    assert "XYZ" in error.message


def test_amounts_use_the_exponent_of_the_policy_currency() -> None:
    """In JPY (no minor unit) "200" is 200 minor units and "0.01" is too precise."""
    jpy = VALID.replace('currency = "CNY"', 'currency = "JPY"').replace('.00"', '"')
    with pytest.raises(PolicyError) as caught:
        parse_policy(jpy.encode())
    assert caught.value.code == "policy.amount_invalid"
    assert "min_share" in caught.value.message
    whole = jpy.replace('min_share = "0.01"', 'min_share = "1"').replace(
        'min_remainder = "0.01"', 'min_remainder = "1"'
    )
    policy = parse_policy(whole.encode())
    assert policy.packets.limits(PacketType.PERSONAL).max_share_minor == 200


def test_a_zero_amount_is_refused_as_invalid_policy() -> None:
    error = refusal(edited('min_share = "0.01"', 'min_share = "0.00"'))
    assert error.code == "policy.invalid"
    assert "packets.types.personal.min_share" in error.message


def test_an_internal_minor_unit_field_written_in_the_file_is_refused() -> None:
    content = edited('max_share = "200.00"', 'max_share = "200.00"\nmax_share_minor = 1')
    with pytest.raises(PolicyError):
        parse_policy(content)


# --- structure --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('name = "test-policy"', 'name = "test-policy"\nowner = "ops"', "owner"),
        ("lifetime_hours = 24", "lifetime_hours = 24\nlifetime_days = 1", "packets.lifetime_days"),
        ("max_shares = 1", "max_shares = 1\nmax_sharez = 2", "packets.types.personal.max_sharez"),
    ],
    ids=["top-level", "packets", "packet-type"],
)
def test_an_unknown_key_is_refused_naming_it(old: str, new: str, where: str) -> None:
    error = refusal(edited(old, new))
    assert error.code == "policy.invalid"
    assert where in error.message
    assert "Extra inputs are not permitted" in error.message
    assert "test.toml" in error.message


def test_a_missing_packet_type_is_refused_naming_the_type() -> None:
    without_enterprise = VALID.partition("[packets.types.enterprise]")[0]
    error = refusal(without_enterprise.encode())
    assert error.code == "policy.invalid"
    assert "packets.types" in error.message
    assert "enterprise" in error.message


def test_an_unknown_packet_type_is_refused() -> None:
    extra = VALID + '\n[packets.types.mystery]\nmax_shares = 1\nmax_share = "1.00"\n'
    error = refusal((extra + 'max_total = "1.00"\nmin_share = "0.01"\n').encode())
    assert error.code == "policy.invalid"
    assert "mystery" in error.message


def test_min_share_above_max_share_is_refused_naming_the_packet_type() -> None:
    error = refusal(edited('min_share = "0.01"', 'min_share = "200.01"'))
    assert error.code == "policy.invalid"
    assert "packets.types.personal" in error.message
    assert "min_share is above max_share" in error.message


def test_max_total_below_min_share_is_refused() -> None:
    content = edited('max_total = "200.00"', 'max_total = "0.01"')
    content = edited('min_share = "0.01"', 'min_share = "0.02"', text=content.decode())
    error = refusal(content)
    assert error.code == "policy.invalid"
    assert "max_total is below min_share" in error.message


@pytest.mark.parametrize(
    ("minutes", "hours"), [(120, 1), (60, 1)], ids=["shorter", "equal-is-not-outlasting"]
)
def test_a_card_hold_backstop_not_outlasting_the_card_window_is_refused(
    minutes: int, hours: int
) -> None:
    content = edited("card_authorization_minutes = 15", f"card_authorization_minutes = {minutes}")
    content = edited(
        "card_hold_backstop_hours = 168",
        f"card_hold_backstop_hours = {hours}",
        text=content.decode(),
    )
    error = refusal(content)
    assert error.code == "policy.invalid"
    assert "card_hold_backstop_hours" in error.message


def test_a_backstop_one_minute_longer_than_the_card_window_is_accepted() -> None:
    content = edited("card_authorization_minutes = 15", "card_authorization_minutes = 59")
    content = edited(
        "card_hold_backstop_hours = 168", "card_hold_backstop_hours = 1", text=content.decode()
    )
    # Without delayed sends: their holds would outlive a one-hour backstop.
    content = edited("max_delay_hours = 72", "max_delay_hours = 0", text=content.decode())
    assert parse_policy(content).packets.card_hold_backstop_hours == 1


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("lifetime_hours = 24", "lifetime_hours = 0", "packets.lifetime_hours"),
        ("lifetime_hours = 24", 'lifetime_hours = "24"', "packets.lifetime_hours"),
        ("lifetime_hours = 24", "lifetime_hours = true", "packets.lifetime_hours"),
        ("lifetime_hours = 24", "lifetime_hours = 24.0", "packets.lifetime_hours"),
        (
            "card_hold_backstop_hours = 168",
            f"card_hold_backstop_hours = {MAX_PENDING_TIMEOUT_SECONDS // 3600 + 1}",
            "packets.card_hold_backstop_hours",
        ),
        (
            "max_shares = 100",
            f"max_shares = {MAX_SPLIT_PARTS + 1}",
            "packets.types.group_normal.max_shares",
        ),
        ('name = "test-policy"', 'name = "Test Policy"', "name"),
        ('name = "test-policy"', "", "name"),
    ],
    ids=[
        "zero-hours",
        "hours-as-text",
        "hours-as-boolean",
        "hours-as-float",
        "backstop-beyond-longest-hold",
        "too-many-shares",
        "name-not-a-slug",
        "name-missing",
    ],
)
def test_an_out_of_range_or_mistyped_setting_is_refused_naming_the_field(
    old: str, new: str, where: str
) -> None:
    error = refusal(edited(old, new))
    assert error.code == "policy.invalid"
    assert f"{where}:" in error.message
    assert error.details["problems"]


def test_a_missing_packets_table_is_refused() -> None:
    error = refusal(b'name = "empty"\n')
    assert error.code == "policy.invalid"
    assert "packets" in error.message


# --- the file itself --------------------------------------------------------------------------


def test_invalid_toml_is_refused_naming_the_source() -> None:
    error = refusal(b'name = "unterminated\n')
    assert error.code == "policy.not_toml"
    assert "test.toml" in error.message


def test_bytes_that_are_not_utf8_are_refused_as_not_toml() -> None:
    error = refusal(b'name = "\xff\xfe"\n')
    assert error.code == "policy.not_toml"


def test_a_file_over_the_size_limit_is_refused_before_parsing() -> None:
    content = VALID.encode() + b"#" * (MAX_POLICY_BYTES - len(VALID.encode()) + 1)
    assert len(content) == MAX_POLICY_BYTES + 1
    error = refusal(content)
    assert error.code == "policy.too_large"
    assert "test.toml" in error.message


def test_a_file_of_exactly_the_size_limit_is_accepted() -> None:
    content = VALID.encode() + b"#" * (MAX_POLICY_BYTES - len(VALID.encode()))
    assert len(content) == MAX_POLICY_BYTES
    assert parse_policy(content).name == "test-policy"


def test_load_policy_reads_a_written_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(VALID.encode())
    policy = load_policy(path)
    assert policy == parse_policy(VALID.encode())
    assert policy.version.startswith("test-policy@")
    assert policy.packets.limits(PacketType.ENTERPRISE).max_total_minor == 100_000_000


def test_load_policy_names_the_path_when_the_file_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_bytes(edited('min_share = "0.01"', 'min_share = "200.01"'))
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.code == "policy.invalid"
    assert str(path) in caught.value.message


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_an_unreadable_policy_path_is_refused_naming_the_path(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "absent.toml" if kind == "missing" else tmp_path
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.code == "policy.unreadable"
    assert str(path) in caught.value.message


def test_payout_retries_double_from_the_base_up_to_the_cap() -> None:
    """5, 10, 20, 40 ... minutes, never more than the cap, however many failures."""
    refunds = parse_policy(VALID.encode()).refunds
    delays = [refunds.payout_retry_delay_minutes(failures) for failures in (1, 2, 3, 7, 8, 1000)]
    assert delays == [5, 10, 20, 320, 360, 360]


def test_the_refund_policy_refuses_a_missing_smart_routing_switch() -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(edited("smart_routing = false\n", ""))
    assert "smart_routing" in raised.value.message
