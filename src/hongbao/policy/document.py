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
from typing import Annotated, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from hongbao.money import Money, MoneyError
from hongbao.platform.errors import ConfigurationError
from hongbao.platform.invariants import instance
from hongbao.platform.limits import MAX_PENDING_TIMEOUT_SECONDS, MAX_SPLIT_PARTS
from hongbao.policy.errors import PolicyCode

DEFAULT_POLICY: Final = "default.toml"
MAX_POLICY_BYTES: Final = 1_000_000
VERSION_HASH_LENGTH: Final = 12
CLOCK_TIME: Final = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
# The names as they are written in the file (the identity module owns the enums themselves).
ChallengeKindName = Literal["sms_code", "face", "corporate_account", "security_environment"]
ExemptionKindName = Literal[
    "vip", "travel_whitelist", "certified_enterprise", "education_green_channel"
]


class PolicyError(ConfigurationError):
    """A policy file hongbao cannot use; the active policy (if any) stays in force."""

    code = PolicyCode.INVALID


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

    def limits(self, packet_type: str) -> TypeLimits:
        """``packet_type``: a packet type's name (the policy file knows no packet model)."""
        limits: TypeLimits = getattr(self.types, str(packet_type))
        return limits


class RecallTypeRule(_Section):
    """R-T4 for one packet type: the window and the smallest remainder a recall accepts."""

    window_minutes: Annotated[int, Field(ge=1, le=24 * 60 * 31)]
    min_remainder_minor: Annotated[int, Field(ge=0)] | None = None
    min_remainder_percent_of_total: Annotated[int, Field(ge=0, le=100)] | None = None
    min_remainder_percent_of_mean_share: Annotated[int, Field(ge=0, le=100)] | None = None

    @model_validator(mode="after")
    def _one_minimum(self) -> RecallTypeRule:
        given = [
            value
            for value in (
                self.min_remainder_minor,
                self.min_remainder_percent_of_total,
                self.min_remainder_percent_of_mean_share,
            )
            if value is not None
        ]
        if len(given) != 1:
            raise ValueError("give exactly one kind of minimum remainder")
        return self

    def minimum_met(self, remainder_minor: int, total_minor: int, share_count: int) -> bool:
        """Exact integer comparisons: no percentage is ever rounded."""
        if self.min_remainder_minor is not None:
            return remainder_minor >= self.min_remainder_minor
        if self.min_remainder_percent_of_total is not None:
            return remainder_minor * 100 >= total_minor * self.min_remainder_percent_of_total
        percent = self.min_remainder_percent_of_mean_share or 0
        return remainder_minor * 100 * share_count >= total_minor * percent


class RecallTypes(_Section):
    personal: RecallTypeRule
    group_normal: RecallTypeRule
    group_lucky: RecallTypeRule
    enterprise: RecallTypeRule


class RecallSecurity(_Section):
    face_above_minor: Annotated[int, Field(ge=0)]
    new_account_days: Annotated[int, Field(ge=0, le=3650)]
    new_account_large_above_minor: Annotated[int, Field(ge=0)]


class TierRule(_Section):
    daily_count: Annotated[int, Field(ge=0, le=10_000)]
    daily_amount_minor: Annotated[int, Field(ge=0)]
    verification: tuple[ChallengeKindName, ...]


class RecallTiers(_Section):
    unverified: TierRule
    class_i: TierRule
    class_ii: TierRule
    class_iii: TierRule
    enterprise: TierRule


DeviceConditionName = Literal["power_saving", "game_acceleration"]
DeviceModelName = Annotated[str, Field(min_length=1, max_length=100)]


class RecallDevices(_Section):
    watch_cap_minor: Annotated[int, Field(ge=0)]
    security_check_harmonyos_majors: tuple[Annotated[int, Field(ge=0, le=1000)], ...]
    # R-D6: a condition the client reports stops recalls on the device models listed for it.
    conditions: dict[DeviceConditionName, tuple[DeviceModelName, ...]] = Field(default_factory=dict)


class RecallPolicy(_Section):
    timezone: str
    unclaimed_window_hours: Annotated[int, Field(ge=1, le=24 * 31)]
    blackout_start: Annotated[str, Field(pattern=CLOCK_TIME)]
    blackout_end: Annotated[str, Field(pattern=CLOCK_TIME)]
    types: RecallTypes
    security: RecallSecurity
    tiers: RecallTiers
    devices: RecallDevices
    exemptions: dict[str, tuple[ExemptionKindName, ...]] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {name!r}") from error
        return name

    def type_rule(self, packet_type: str) -> RecallTypeRule:
        rule: RecallTypeRule = getattr(self.types, str(packet_type))
        return rule

    def tier_rule(self, tier: str) -> TierRule:
        rule: TierRule = getattr(self.tiers, tier)
        return rule

    def exempting(self, rule: str) -> tuple[str, ...]:
        return self.exemptions.get(rule, ())


class RefundPolicy(_Section):
    """How refunds are routed and retried (R-F1..R-F6)."""

    smart_routing: bool  # offer the balance when the original route is refused (智能路由)
    held_recheck_minutes: Annotated[int, Field(ge=1, le=24 * 60)]
    payout_max_attempts: Annotated[int, Field(ge=1, le=50)]
    payout_backoff_base_minutes: Annotated[int, Field(ge=1, le=24 * 60)]
    payout_backoff_cap_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)]

    def payout_retry_delay_minutes(self, failures: int) -> int:
        """Minutes before the next payout try after ``failures`` refusals: doubling, capped."""
        doublings = min(max(failures - 1, 0), 30)  # bounded: 2**30 minutes is past any cap
        return min(self.payout_backoff_base_minutes << doublings, self.payout_backoff_cap_minutes)


class RiskPolicy(_Section):
    """Risk control's thresholds, windows and delays (R-K1, R-K2, R-K3)."""

    # >= attempts_for_face recall requests in attempt_window_minutes: face verification.
    attempts_for_face: Annotated[int, Field(ge=2, le=15)]
    attempt_window_minutes: Annotated[int, Field(ge=1, le=24 * 60)]
    # >= hold_cumulative_amount recalled in cumulative_window_days (this recall included):
    # the refund is held for hold_hours (delayed arrival) unless a reviewer releases it.
    hold_cumulative_amount_minor: Annotated[int, Field(ge=1)]
    cumulative_window_days: Annotated[int, Field(ge=1, le=31)]
    hold_hours: Annotated[int, Field(ge=1, le=24 * 14)]
    # Two requests >= travel_km apart within travel_window_minutes: the device is locked.
    travel_km: Annotated[int, Field(ge=1, le=20_000)]
    travel_window_minutes: Annotated[int, Field(ge=1, le=24 * 60)]
    # The behaviour analysis (R-K3), off the money path: a flag it raises weighs on the user's
    # recalls for flag_hours at its detector's level (1 step-up, 2 hold, 3 lock).
    flag_hours: Annotated[int, Field(ge=1, le=24 * 90)]
    # A recall more than behaviour_deviations spreads above the user's amount baseline, or
    # off their timing baseline, once behaviour_min_samples recalls are known; the spread is
    # amount spread is at least behaviour_min_spread_percent of its mean (a user who always
    # recalls the same amount); timing is compared in doublings of the delay.
    behaviour_min_samples: Annotated[int, Field(ge=2, le=1_000)]
    behaviour_deviations: Annotated[int, Field(ge=1, le=100)]
    behaviour_min_spread_percent: Annotated[int, Field(ge=0, le=1_000)]
    behaviour_level: Annotated[int, Field(ge=1, le=3)]
    # Accounts linked by a device, a SIM, a funding card, or ring_pair_cycles rapid cycles
    # between them, in a group of >= ring_min_members accounts.
    ring_min_members: Annotated[int, Field(ge=2, le=1_000)]
    ring_pair_cycles: Annotated[int, Field(ge=1, le=100)]
    ring_level: Annotated[int, Field(ge=1, le=3)]
    # Fund flows, each counted in flow_window_hours: credit-card-funded packets recalled to
    # the balance; recalls within structuring_band_percent under structuring_amount; packets
    # claimed by a linked account and recalled within cycle_minutes of sending.
    flow_window_hours: Annotated[int, Field(ge=1, le=24 * 31)]
    cash_out_count: Annotated[int, Field(ge=1, le=16)]
    cash_out_level: Annotated[int, Field(ge=1, le=3)]
    structuring_amount_minor: Annotated[int, Field(ge=1)]
    structuring_band_percent: Annotated[int, Field(ge=1, le=50)]
    structuring_count: Annotated[int, Field(ge=2, le=16)]
    structuring_level: Annotated[int, Field(ge=1, le=3)]
    cycle_minutes: Annotated[int, Field(ge=1, le=24 * 60)]
    cycle_count: Annotated[int, Field(ge=1, le=16)]
    cycle_level: Annotated[int, Field(ge=1, le=3)]


class UserTypeRule(_Section):
    """R-S4 for one user type: recalls a day that cost nothing, how hard the score is hit
    (a percentage: 150 is the source's coefficient 1.5) and how long a penalty lasts."""

    safe_recalls_per_day: Annotated[int, Field(ge=0, le=10_000)]
    coefficient_percent: Annotated[int, Field(ge=0, le=1_000)]
    penalty_days: Annotated[int, Field(ge=1, le=366)]


class SocialUserTypes(_Section):
    normal: UserTypeRule
    business: UserTypeRule
    enterprise: UserTypeRule


class SocialScorePolicy(_Section):
    """R-S1: the social payment score (社交支付分), from 0 to ``maximum``."""

    maximum: Annotated[int, Field(ge=1, le=1_000_000)]
    starting: Annotated[int, Field(ge=0, le=1_000_000)]
    daily_excess_points: Annotated[int, Field(ge=0, le=1_000_000)]
    monthly_safe_recalls: Annotated[int, Field(ge=0, le=10_000)]
    monthly_excess_points: Annotated[int, Field(ge=0, le=1_000_000)]

    @model_validator(mode="after")
    def _start_within_scale(self) -> SocialScorePolicy:
        if self.starting > self.maximum:
            raise ValueError("the starting score is above the maximum")
        return self


class GroupTolerance(_Section):
    """R-S6: each group type's threshold as a percentage of the base threshold."""

    work: Annotated[int, Field(ge=1, le=1_000)]
    education: Annotated[int, Field(ge=1, le=1_000)]
    entertainment: Annotated[int, Field(ge=1, le=1_000)]
    family: Annotated[int, Field(ge=1, le=1_000)]
    other: Annotated[int, Field(ge=1, le=1_000)]


class SocialGroupPolicy(_Section):
    """R-S2: this many recalls by one sender in one group within the window ban their group
    packets there for ``ban_hours``."""

    ban_threshold: Annotated[int, Field(ge=1, le=1_000)]
    window_hours: Annotated[int, Field(ge=1, le=24 * 31)]
    ban_hours: Annotated[int, Field(ge=1, le=24 * 31)]
    tolerance_percent: GroupTolerance

    def threshold(self, group_type: str) -> int:
        """The threshold for ``group_type`` (a group type's name): the base times its
        percentage, rounded up, so that a tolerance above 100 % always tolerates more."""
        percent: int = getattr(self.tolerance_percent, group_type)
        return -(-self.ban_threshold * percent // 100)


class SocialPairPolicy(_Section):
    """R-S3: a recall between two people lowers the sender's weight towards the recipient
    (per mille of full trust) for the sender's penalty period."""

    drop_permille: Annotated[int, Field(ge=0, le=1_000)]
    floor_permille: Annotated[int, Field(ge=0, le=1_000)]


class SocialIntimacyPolicy(_Section):
    """R-S5: a recall within the top chat partners lowers intimacy by ``drop_min`` to
    ``drop_max`` points, more for more money recalled (``full_drop_at`` and above: the most)."""

    top_chat_partners: Annotated[int, Field(ge=1, le=1_000)]
    drop_min: Annotated[int, Field(ge=0, le=100)]
    drop_max: Annotated[int, Field(ge=0, le=100)]
    full_drop_at_minor: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _ordered(self) -> SocialIntimacyPolicy:
        if self.drop_min > self.drop_max:
            raise ValueError("intimacy drop_min is above drop_max")
        return self


class SocialPolicy(_Section):
    """The social consequences of recalls (R-S1..R-S6)."""

    score: SocialScorePolicy
    user_types: SocialUserTypes
    groups: SocialGroupPolicy
    pairs: SocialPairPolicy
    intimacy: SocialIntimacyPolicy

    def user_type(self, user_type: str) -> UserTypeRule:
        """``user_type``: a user type's name (the policy file knows no identity model)."""
        rule: UserTypeRule = getattr(self.user_types, str(user_type))
        return rule


class RegretPolicy(_Section):
    """The regret score's weights, in points of 1000 (see docs/send-guard.md): each term is a
    ratio in per mille times its weight / 1000, so the score runs from 0 to the weights' sum."""

    threshold: Annotated[int, Field(ge=0, le=1000)]
    recall_rate_weight: Annotated[int, Field(ge=0, le=1000)]
    audience_recall_weight: Annotated[int, Field(ge=0, le=1000)]
    night_weight: Annotated[int, Field(ge=0, le=1000)]
    unusual_amount_weight: Annotated[int, Field(ge=0, le=1000)]
    # An amount this many times the sender's usual one (their mean) weighs in full.
    unusual_amount_multiple: Annotated[int, Field(ge=2, le=100)]
    # Rates are recalls / (sends + prior_sends): a new sender's first recall is no 100 %.
    prior_sends: Annotated[int, Field(ge=1, le=1000)]

    @model_validator(mode="after")
    def _within_scale(self) -> RegretPolicy:
        weights = (
            self.recall_rate_weight,
            self.audience_recall_weight,
            self.night_weight,
            self.unusual_amount_weight,
        )
        if sum(weights) > 1000:
            raise ValueError("the regret weights add up to more than 1000")
        return self


class GuardPolicy(_Section):
    """R-B1: which sends ask for confirmation, and the delayed send offered instead."""

    night_start: Annotated[str, Field(pattern=CLOCK_TIME)]
    night_end: Annotated[str, Field(pattern=CLOCK_TIME)]
    large_amount_minor: Annotated[int, Field(ge=1)]
    group_types: tuple[Annotated[str, Field(min_length=1, max_length=32)], ...]
    offered_delivery: Annotated[str, Field(pattern=CLOCK_TIME)]
    max_delay_hours: Annotated[int, Field(ge=0, le=24 * 7)]  # 0: no delayed sends
    regret: RegretPolicy


class Policy(_Section):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    version: str
    packets: PacketPolicy
    recall: RecallPolicy
    refunds: RefundPolicy
    risk: RiskPolicy
    social: SocialPolicy
    guard: GuardPolicy

    @model_validator(mode="after")
    def _delayed_hold_within_backstop(self) -> Policy:
        """A delayed card send holds the card from scheduling until its window after delivery
        ends: that must end before the hold's backstop (see docs/send-guard.md)."""
        held_minutes = self.guard.max_delay_hours * 60 + self.packets.card_authorization_minutes
        if held_minutes >= self.packets.card_hold_backstop_hours * 60:
            raise ValueError(
                "guard.max_delay_hours plus the card window must end before the hold's backstop"
            )
        return self


AMOUNT_KEYS: Final = frozenset(
    {
        "max_share",
        "max_total",
        "min_share",
        "min_remainder",
        "face_above",
        "new_account_large_above",
        "daily_amount",
        "watch_cap",
        "hold_cumulative_amount",
        "structuring_amount",
        "full_drop_at",
        "large_amount",
    }
)


def _convert_amounts(node: object, currency: str, where: str) -> object:
    """``max_share = "200.00"`` becomes ``max_share_minor = 20000``, in every table; floats and
    minor-unit keys written in the file are refused."""
    if isinstance(node, list):
        return tuple(_convert_amounts(item, currency, where) for item in node)
    if not isinstance(node, dict):
        return node
    converted: dict[str, object] = {}
    for key, value in node.items():
        path = f"{where}.{key}" if where else key
        if key.endswith("_minor"):
            # Minor units are this module's own representation, never written in a file.
            raise PolicyError(
                f"{path} is not a policy setting; write amounts as decimal text",
                code=PolicyCode.INVALID,
                field=path,
            )
        if key in AMOUNT_KEYS:
            converted[f"{key}_minor"] = _amount(value, currency, path)
        else:
            converted[key] = _convert_amounts(value, currency, path)
    return converted


def _amount(value: object, currency: str, path: str) -> int:
    if not isinstance(value, str):
        raise PolicyError(
            f'{path} must be decimal text such as "200.00", got {value!r:.40}',
            code=PolicyCode.AMOUNT_NOT_TEXT,
            field=path,
        )
    try:
        return Money.parse(value, currency).minor
    except MoneyError as error:
        raise PolicyError(
            f"{path}: {error.message}", code=PolicyCode.AMOUNT_INVALID, field=path
        ) from error


def parse_policy(content: bytes, *, source: str = "<policy>") -> Policy:
    """Validate a policy document; raises :class:`PolicyError` naming every problem found."""
    if len(content) > MAX_POLICY_BYTES:
        raise PolicyError(
            f"{source} is larger than {MAX_POLICY_BYTES} bytes", code=PolicyCode.TOO_LARGE
        )
    try:
        document = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PolicyError(
            f"{source} is not valid TOML: {error}", code=PolicyCode.NOT_TOML
        ) from error
    packets = document.get("packets")
    currency = str(packets.get("currency", "")) if isinstance(packets, dict) else ""
    document = instance(
        _convert_amounts(document, currency, ""), dict, "a TOML document is a table"
    )
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
            f"{source} is not a valid policy: {problems}",
            code=PolicyCode.INVALID,
            problems=[problem["msg"] for problem in error.errors()],
        ) from error


def load_policy(path: Path | None = None) -> Policy:
    """The policy in ``path``, or the default policy shipped with hongbao."""
    if path is None:
        return default_policy()
    try:
        content = path.read_bytes()
    except OSError as error:
        raise PolicyError(
            f"cannot read policy {path}: {error}", code=PolicyCode.UNREADABLE
        ) from error
    return parse_policy(content, source=str(path))


@cache
def default_policy() -> Policy:
    content = resources.files("hongbao.policy").joinpath(DEFAULT_POLICY).read_bytes()
    return parse_policy(content, source=DEFAULT_POLICY)
