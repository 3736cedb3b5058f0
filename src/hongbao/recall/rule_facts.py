"""The facts each recall rule records, as typed shapes that explanations read by attribute.

A rule records its facts as (name, value) pairs: the form stored with every decision and sent
to clients, kept as it is. Each shape here names one rule's facts (its fields are the names,
in the rule's order) and reads them back from an outcome, made now or read from a record
written long ago. Reading is defensive: a fact that is missing or malformed reads as None, so
a reader drops the detail, never the sentence. Integers may be stored as text, and times as
ISO 8601 text with an offset (older records) or microseconds since the epoch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from types import MappingProxyType, NoneType, UnionType
from typing import Any, ClassVar, Self, get_args, get_type_hints

from hongbao.platform.clock import to_datetime
from hongbao.recall.model import FactValue, RuleOutcome

_INTEGER = re.compile(r"-?[0-9]{1,30}")


def read_text(value: FactValue) -> str | None:
    return None if value is None else str(value)


def read_integer(value: FactValue) -> int | None:
    """An integer, or integer text; a flag is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if value is None or not _INTEGER.fullmatch(value):
        return None
    return int(value)


def read_flag(value: FactValue) -> bool | None:
    return value if isinstance(value, bool) else None


def read_moment(value: FactValue) -> datetime | None:
    """Microseconds since the epoch, or ISO 8601 text with an offset."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return to_datetime(value)
        except (OverflowError, ValueError):
            return None
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


_READERS: Mapping[type, Callable[[FactValue], Any]] = MappingProxyType(
    {str: read_text, int: read_integer, bool: read_flag, datetime: read_moment}
)


@dataclass(frozen=True, slots=True)
class RuleFacts:
    """A rule's facts, read from its outcome's pairs; every field is ``X | None``."""

    RULE: ClassVar[str]  # the rule that records these facts

    @classmethod
    def read(cls, outcome: RuleOutcome) -> Self:
        values: dict[str, FactValue] = {}
        for name, value in outcome.facts:
            values.setdefault(name, value)  # the first of a repeated name, as stored
        build: Callable[..., Self] = cls
        return build(**{name: read(values.get(name)) for name, read in _readers_of(cls)})

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The facts' names, in the order the rule records them."""
        return tuple(name for name, _ in _readers_of(cls))


_Readers = tuple[tuple[str, Callable[[FactValue], Any]], ...]
_readers_by_shape: dict[type[RuleFacts], _Readers] = {}


def _readers_of(shape: type[RuleFacts]) -> _Readers:
    """Each field's name and the reader of its type, worked out once per shape."""
    known = _readers_by_shape.get(shape)
    if known is None:
        known = _readers_by_shape[shape] = _readers(shape)
    return known


def _readers(shape: type[RuleFacts]) -> _Readers:
    hints = get_type_hints(shape)
    readers = []
    for field in fields(shape):
        hint = hints[field.name]
        kinds = [kind for kind in get_args(hint) if kind is not NoneType]
        if not isinstance(hint, UnionType) or len(kinds) != 1 or kinds[0] not in _READERS:
            raise TypeError(f"{shape.__name__}.{field.name}: a fact is one of X | None")
        readers.append((field.name, _READERS[kinds[0]]))
    return tuple(readers)


# ------------------------------------------------------------------------ who and what


@dataclass(frozen=True, slots=True)
class SenderFacts(RuleFacts):
    RULE = "only_the_sender"
    requester: str | None
    sender: str | None


@dataclass(frozen=True, slots=True)
class StandingFacts(RuleFacts):
    RULE = "account_in_good_standing"
    status: str | None


@dataclass(frozen=True, slots=True)
class RecallableFacts(RuleFacts):
    RULE = "packet_still_recallable"
    state: str | None
    expires_at: datetime | None
    other_recall_in_progress: bool | None


# --------------------------------------------------------------------------------- time


@dataclass(frozen=True, slots=True)
class UnclaimedWindowFacts(RuleFacts):
    RULE = "unclaimed_within_window"
    claimed: int | None
    sent_at: datetime | None
    closes_at: datetime | None


@dataclass(frozen=True, slots=True)
class LuckyWindowFacts(RuleFacts):
    RULE = "lucky_within_window_of_first_claim"
    first_claim_at: datetime | None
    closes_at: datetime | None


@dataclass(frozen=True, slots=True)
class TypeWindowFacts(RuleFacts):
    RULE = "within_type_window"
    packet_type: str | None
    window_minutes: int | None
    closes_at: datetime | None


@dataclass(frozen=True, slots=True)
class RemainderFacts(RuleFacts):
    RULE = "remainder_above_minimum"
    remainder_minor: int | None
    total_minor: int | None
    shares: int | None
    min_remainder_minor: int | None
    min_remainder_percent_of_total: int | None
    min_remainder_percent_of_mean_share: int | None


@dataclass(frozen=True, slots=True)
class BlackoutFacts(RuleFacts):
    RULE = "outside_settlement_blackout"
    now: datetime | None
    blackout: str | None  # "23:50-00:10 Asia/Shanghai"


# -------------------------------------------------------------------------- consistency


@dataclass(frozen=True, slots=True)
class EscrowCheckFacts(RuleFacts):
    RULE = "escrow_matches_packet"
    escrow_minor: int | None
    expected_escrow_minor: int | None
    hold_minor: int | None
    expected_hold_minor: int | None


# -------------------------------------------------------------------- identity and tier


@dataclass(frozen=True, slots=True)
class SendingDeviceFacts(RuleFacts):
    RULE = "from_the_sending_device"
    device: str | None
    sim: str | None
    sending_device: str | None
    sending_sim: str | None


@dataclass(frozen=True, slots=True)
class FaceFacts(RuleFacts):
    RULE = "face_above_threshold"
    amount_minor: int | None
    threshold_minor: int | None


@dataclass(frozen=True, slots=True)
class NewAccountFacts(RuleFacts):
    RULE = "new_account_large_amount"
    registered_at: datetime | None
    new_until: datetime | None
    amount_minor: int | None
    large_above_minor: int | None


@dataclass(frozen=True, slots=True)
class TierLimitsFacts(RuleFacts):
    RULE = "tier_daily_limits"
    tier: str | None
    executed_today: int | None
    daily_count: int | None
    executed_today_minor: int | None
    amount_minor: int | None
    daily_amount_minor: int | None


@dataclass(frozen=True, slots=True)
class TierVerificationFacts(RuleFacts):
    RULE = "tier_verification"
    tier: str | None
    verification: str | None  # the kinds asked, comma-separated, or "none"


# ------------------------------------------------------------------------------ devices


@dataclass(frozen=True, slots=True)
class WatchCapFacts(RuleFacts):
    RULE = "watch_amount_cap"
    is_watch: bool | None
    packet_total_minor: int | None
    cap_minor: int | None


@dataclass(frozen=True, slots=True)
class SecurityEnvironmentFacts(RuleFacts):
    RULE = "security_environment_check"
    platform: str | None
    os_major: int | None
    checked_majors: str | None


@dataclass(frozen=True, slots=True)
class DeviceConditionFacts(RuleFacts):
    RULE = "device_conditions_clear"
    model: str | None
    conditions: str | None


# --------------------------------------------------------------------------------- risk


@dataclass(frozen=True, slots=True)
class RiskFacts(RuleFacts):
    RULE = "risk_assessment"
    level: int | None
    assessor: str | None
    actions: str | None
    reasons: str | None
    exemptions: str | None  # the signals an exemption lifted, with the exemption
    risk_policy: str | None  # the policy version the risk was assessed under


# ------------------------------------------------------------------------------ refunds


@dataclass(frozen=True, slots=True)
class RefundRouteFacts(RuleFacts):
    """Amounts are minor units of CNY but ``card_amount`` (of ``card_currency``); times are
    microseconds since the epoch, as the refund planner gives them."""

    RULE = "refund_route_available"
    route: str | None
    destination: str | None
    available: bool | None
    refusal: str | None
    balance_available: bool | None
    smart_routing: bool | None
    accepted: bool | None
    amount: int | None
    fee: int | None
    arrives_at: int | None
    frozen_until: int | None
    card_currency: str | None
    card_amount: int | None
    rate_at_refund: str | None
    rate_at_send: str | None


SHAPES: Mapping[str, type[RuleFacts]] = MappingProxyType(
    {
        shape.RULE: shape
        for shape in (
            SenderFacts,
            StandingFacts,
            RecallableFacts,
            UnclaimedWindowFacts,
            LuckyWindowFacts,
            TypeWindowFacts,
            RemainderFacts,
            BlackoutFacts,
            EscrowCheckFacts,
            SendingDeviceFacts,
            FaceFacts,
            NewAccountFacts,
            TierLimitsFacts,
            TierVerificationFacts,
            WatchCapFacts,
            SecurityEnvironmentFacts,
            DeviceConditionFacts,
            RiskFacts,
            RefundRouteFacts,
        )
    }
)
"""Each rule's shape, by rule name."""
