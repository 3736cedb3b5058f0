# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The send-time guard (R-B1): before a send moves money, is it one its sender may regret?

A send is risky when it matches every one of the policy's checks (local night, a large amount,
a group of a guarded type: by default 22:00-06:00 Beijing, >= 200 yuan, a work group), or when
its regret score (``regret``) reaches the threshold. A risky send answers "confirmation needed"
and moves nothing; the sender repeats it with ``confirm`` or with a ``deliver_at`` (offered:
the next 08:00). Each risky evaluation is kept as a :class:`GuardDecision` naming the policy
version, every check with its value and threshold, and the score's terms.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from hongbao.money import Money
from hongbao.packets.regret import RegretScore
from hongbao.platform.clock import from_datetime, to_datetime
from hongbao.policy.document import GuardPolicy


class GuardOutcome(StrEnum):
    CONFIRMATION_NEEDED = "confirmation_needed"  # nothing sent; confirm or delay
    CONFIRMED = "confirmed"  # risky, sent at once on the sender's explicit confirmation
    DELAYED = "delayed"  # risky, sent as a delayed send


class GuardReason(StrEnum):
    LATE_NIGHT = "late_night"
    LARGE_AMOUNT = "large_amount"
    GUARDED_GROUP = "guarded_group"
    REGRET_SCORE = "regret_score"


@dataclass(frozen=True, slots=True)
class SendContext:
    """What the guard is asked about one send."""

    now_us: int
    amount: Money
    group_type: str | None  # the group's type for a group packet, None for a personal one
    regret: RegretScore


@dataclass(frozen=True, slots=True)
class GuardCheck:
    """One check: the signal's value, the threshold it is compared with, and whether it hit."""

    reason: GuardReason
    value: str
    threshold: str
    hit: bool

    def as_json(self) -> dict[str, object]:
        return {
            "reason": self.reason.value,
            "value": self.value,
            "threshold": self.threshold,
            "hit": self.hit,
        }


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    checks: tuple[GuardCheck, ...]
    regret: RegretScore
    offered_at_us: int  # the delayed send offered instead: the next offered_delivery

    @property
    def risky(self) -> bool:
        context_rule = all(check.hit for check in self.checks if check.reason in CONTEXT_RULE)
        return context_rule or self.regret.reached

    @property
    def reasons(self) -> tuple[GuardReason, ...]:
        """The reasons a risky send was stopped for (those that made it risky)."""
        hits = tuple(check.reason for check in self.checks if check.hit)
        if all(reason in hits for reason in CONTEXT_RULE):
            return hits
        return (GuardReason.REGRET_SCORE,) if self.regret.reached else ()

    def signals(self) -> dict[str, object]:
        return {
            "checks": [check.as_json() for check in self.checks],
            "regret": {
                "score": self.regret.score,
                "threshold": self.regret.threshold,
                "terms": [term.as_json() for term in self.regret.terms],
            },
        }


CONTEXT_RULE = (GuardReason.LATE_NIGHT, GuardReason.LARGE_AMOUNT, GuardReason.GUARDED_GROUP)


def _clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def is_night(local: time, policy: GuardPolicy) -> bool:
    """Within [night_start, night_end), a window that may wrap past midnight."""
    start, end = _clock_time(policy.night_start), _clock_time(policy.night_end)
    moment = time(local.hour, local.minute, local.second, local.microsecond)
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


def local_moment(now_us: int, zone: str) -> datetime:
    return to_datetime(now_us).astimezone(ZoneInfo(zone))


def next_offered_delivery(now_us: int, zone: str, policy: GuardPolicy) -> int:
    """The next ``offered_delivery`` local time strictly after ``now_us``."""
    local = local_moment(now_us, zone)
    offered = datetime.combine(local.date(), _clock_time(policy.offered_delivery), local.tzinfo)
    if offered <= local:
        offered = datetime.combine(
            local.date() + timedelta(days=1), _clock_time(policy.offered_delivery), local.tzinfo
        )
    return from_datetime(offered)


def evaluate(context: SendContext, policy: GuardPolicy, zone: str) -> GuardVerdict:
    """The guard's checks on one send; pure, from the context and the policy only."""
    local = local_moment(context.now_us, zone)
    currency = context.amount.currency
    large = Money.of(policy.large_amount_minor, currency)
    checks = (
        GuardCheck(
            GuardReason.LATE_NIGHT,
            local.strftime("%H:%M"),
            f"{policy.night_start}-{policy.night_end}",
            is_night(local.timetz(), policy),
        ),
        GuardCheck(
            GuardReason.LARGE_AMOUNT,
            context.amount.format(),
            large.format(),
            context.amount.minor >= policy.large_amount_minor,
        ),
        GuardCheck(
            GuardReason.GUARDED_GROUP,
            context.group_type or "personal",
            ",".join(policy.group_types),
            context.group_type is not None and context.group_type in policy.group_types,
        ),
    )
    return GuardVerdict(checks, context.regret, next_offered_delivery(context.now_us, zone, policy))


@dataclass(frozen=True, slots=True)
class GuardDecision:
    """A risky send's evaluation as kept: enough to explain it and to see it again."""

    decision_id: str
    packet_id: str
    sender_id: str
    policy_version: str
    outcome: str  # a GuardOutcome
    reasons: str  # JSON list of GuardReason values
    signals: str  # JSON of GuardVerdict.signals()
    offered_at_us: int
    created_at_us: int

    def reason_list(self) -> list[GuardReason]:
        return [GuardReason(value) for value in json.loads(self.reasons)]

    def signal_map(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.signals)
        return found


def decision_for(
    verdict: GuardVerdict,
    *,
    outcome: GuardOutcome,
    packet_id: str,
    sender_id: str,
    request_digest: str,
    policy_version: str,
    now_us: int,
) -> GuardDecision:
    """The record of a risky evaluation; its id is derived from the request and the outcome,
    so evaluating one request again names the same decision."""
    digest = hashlib.sha256(f"{request_digest}|{outcome.value}".encode()).hexdigest()
    return GuardDecision(
        decision_id=f"guard-{digest[:32]}",
        packet_id=packet_id,
        sender_id=sender_id,
        policy_version=policy_version,
        outcome=outcome.value,
        reasons=json.dumps([reason.value for reason in verdict.reasons]),
        signals=json.dumps(verdict.signals(), separators=(",", ":")),
        offered_at_us=verdict.offered_at_us,
        created_at_us=now_us,
    )


_WORDS: dict[GuardReason, tuple[str, str]] = {
    GuardReason.LATE_NIGHT: (
        "北京时间深夜（{value}，{threshold}）",
        "late at night ({value} Beijing, {threshold})",
    ),
    GuardReason.LARGE_AMOUNT: (
        "金额较大（{value}，不少于 {threshold}）",
        "a large amount ({value}, at least {threshold})",
    ),
    GuardReason.GUARDED_GROUP: ("发往{value}类群", "to a {value} group"),
    GuardReason.REGRET_SCORE: (
        "后悔指数 {value}（阈值 {threshold}）",
        "a regret score of {value} (threshold {threshold})",
    ),
}


def explain(decision: GuardDecision) -> tuple[list[str], list[str]]:
    """Each reason in zh and en, with the values and thresholds it was decided on."""
    signals = decision.signal_map()
    values = {check["reason"]: check for check in signals["checks"]}
    regret = signals["regret"]
    values[GuardReason.REGRET_SCORE.value] = {
        "value": f"{regret['score']}/1000",
        "threshold": str(regret["threshold"]),
    }
    zh, en = [], []
    for reason in decision.reason_list():
        found = values[reason.value]
        zh_text, en_text = _WORDS[reason]
        zh.append(zh_text.format(value=found["value"], threshold=found["threshold"]))
        en.append(en_text.format(value=found["value"], threshold=found["threshold"]))
    return zh, en
