# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""What a recall decision means to the person holding the phone (R-U1): pure, no I/O.

Every denial maps to one of six user-facing causes (:class:`Cause`) and comes with a plain
sentence per failing rule, in zh-CN and en, and the next steps: retry at a time, complete a
named verification, switch to the sending device, or contact support quoting the decision id.

The wording lives in catalogues keyed by enum (:data:`REASON_TEXTS`, :data:`CAUSES`,
:data:`CAUSE_NAMES`, :data:`VERIFICATION_STEPS`); the tests check that each one covers its whole
enum, so a new reason code or challenge kind without words fails the suite instead of reaching
a user as a bare code. Facts are read defensively: a missing or malformed fact drops the detail
it would have added, never the sentence. Amounts are fen integers shown as yuan with two
decimals; times are Beijing time (Asia/Shanghai).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Literal, NamedTuple

from hongbao.identity.verification import ChallengeKind
from hongbao.money import Money
from hongbao.platform.clock import to_datetime
from hongbao.platform.errors import HongbaoError
from hongbao.recall.calendar import zone
from hongbao.recall.model import (
    Decision,
    DecisionResult,
    FactValue,
    NextStep,
    NextStepKind,
    RuleOutcome,
    Verdict,
)
from hongbao.recall.reasons import ReasonCode

__all__ = [
    "CAUSES",
    "CAUSE_NAMES",
    "REASON_TEXTS",
    "VERIFICATION_STEPS",
    "ButtonState",
    "Cause",
    "Explanation",
    "Language",
    "Texts",
    "VerificationTexts",
    "cause_name",
    "explain",
    "next_step_text",
    "parse_language",
    "reason_text",
    "refund_text",
]

Language = Literal["zh", "en"]
DEFAULT_LANGUAGE: Language = "zh"
BEIJING = "Asia/Shanghai"
# Bounds the work spent on one Accept-Language header; real ones are far shorter.
MAX_LANGUAGE_HEADER_CHARS = 1024
MAX_LANGUAGE_ENTRIES = 32
_INTEGER = re.compile(r"-?[0-9]{1,30}")
_QUALITY = re.compile(r"q=([01](?:\.[0-9]{0,3})?)", re.IGNORECASE)


class Cause(StrEnum):
    """The six user-facing causes of a denial (R-U1). Stable: clients switch on them."""

    PARTIALLY_CLAIMED = "partially_claimed"
    PAST_TIME_WINDOW = "past_time_window"
    SECURITY_LEVEL_TOO_LOW = "security_level_too_low"
    DEVICE_ENVIRONMENT_ABNORMAL = "device_environment_abnormal"
    SYSTEM_SETTLING = "system_settling"
    RISK_CONTROL = "risk_control"


class ButtonState(StrEnum):
    """The recall button: usable, usable after verification, or not usable now."""

    ENABLED = "enabled"
    CHALLENGE = "challenge"
    DISABLED = "disabled"


class Texts(NamedTuple):
    """One message in both languages."""

    zh: str
    en: str

    def in_language(self, language: Language) -> str:
        return self.zh if language == "zh" else self.en


@dataclass(frozen=True, slots=True)
class Explanation:
    """A decision in words, for one language.

    ``cause`` is the cause of the first failing rule of a denial (None unless denied).
    ``reasons`` holds one sentence per failing rule (denial) or per challenge (challenge).
    ``retry_at_us`` is the latest retry time among the failing rules, so that a retry then is
    not refused again for a known reason; None when waiting alone cannot help.
    """

    decision_id: str
    button: ButtonState
    cause: Cause | None
    headline: str
    reasons: tuple[str, ...]
    next_steps: tuple[str, ...]
    verifications: tuple[ChallengeKind, ...]
    retry_at_us: int | None
    refund: str | None = None  # where the money would go, when, at what cost (R-F1..R-F4)
    accept_balance: bool = False  # smart routing: the sender may accept the balance instead


# ------------------------------------------------------------------------------ causes

CAUSES: Mapping[ReasonCode, Cause] = MappingProxyType(
    {
        ReasonCode.ALREADY_RECALLED: Cause.PAST_TIME_WINDOW,
        ReasonCode.EXPIRED: Cause.PAST_TIME_WINDOW,
        ReasonCode.EXHAUSTED: Cause.PARTIALLY_CLAIMED,
        ReasonCode.RECALL_IN_PROGRESS: Cause.SYSTEM_SETTLING,
        ReasonCode.UNCLAIMED_WINDOW_PASSED: Cause.PAST_TIME_WINDOW,
        ReasonCode.LUCKY_WINDOW_PASSED: Cause.PARTIALLY_CLAIMED,
        ReasonCode.TYPE_WINDOW_PASSED: Cause.PAST_TIME_WINDOW,
        ReasonCode.BLACKOUT: Cause.SYSTEM_SETTLING,
        ReasonCode.REMAINDER_BELOW_MINIMUM: Cause.PARTIALLY_CLAIMED,
        ReasonCode.ESCROW_MISMATCH: Cause.SYSTEM_SETTLING,
        ReasonCode.NOT_SENDER: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.ACCOUNT_RESTRICTED: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.NOT_SENDING_DEVICE: Cause.DEVICE_ENVIRONMENT_ABNORMAL,
        ReasonCode.SENDING_DEVICE_UNKNOWN: Cause.DEVICE_ENVIRONMENT_ABNORMAL,
        ReasonCode.FACE_REQUIRED: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.NEW_ACCOUNT_LARGE_AMOUNT: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.TIER_CANNOT_RECALL: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.DAILY_COUNT_REACHED: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.DAILY_AMOUNT_REACHED: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.TIER_VERIFICATION_REQUIRED: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.WATCH_CAP: Cause.DEVICE_ENVIRONMENT_ABNORMAL,
        ReasonCode.SECURITY_ENVIRONMENT_REQUIRED: Cause.DEVICE_ENVIRONMENT_ABNORMAL,
        ReasonCode.RISK_CHALLENGE: Cause.RISK_CONTROL,
        ReasonCode.RISK_HOLD: Cause.RISK_CONTROL,
        ReasonCode.RISK_LOCK: Cause.RISK_CONTROL,
        ReasonCode.RISK_BLOCK: Cause.RISK_CONTROL,
        ReasonCode.REFUND_BANK_MAINTENANCE: Cause.SYSTEM_SETTLING,
        ReasonCode.REFUND_STATEMENT_ISSUED: Cause.PAST_TIME_WINDOW,
        ReasonCode.REFUND_ACCOUNT_ABNORMAL: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.REFUND_FX_RATE_UNAVAILABLE: Cause.SYSTEM_SETTLING,
        ReasonCode.REFUND_BALANCE_INSTEAD: Cause.SYSTEM_SETTLING,
        ReasonCode.RULE_ERROR: Cause.SYSTEM_SETTLING,
    }
)
# A failing outcome without a reason code is a fault on our side, like a rule that raised.
_CAUSE_WITHOUT_REASON = Cause.SYSTEM_SETTLING

CAUSE_NAMES: Mapping[Cause, Texts] = MappingProxyType(
    {
        Cause.PARTIALLY_CLAIMED: Texts("红包已有人领取", "someone has already claimed from it"),
        Cause.PAST_TIME_WINDOW: Texts("已超过撤回时间", "the time for recalling it has passed"),
        Cause.SECURITY_LEVEL_TOO_LOW: Texts(
            "账户安全等级不够", "your account's security level is not high enough"
        ),
        Cause.DEVICE_ENVIRONMENT_ABNORMAL: Texts(
            "设备环境异常", "there is a problem with the device you are using"
        ),
        Cause.SYSTEM_SETTLING: Texts("系统正在结算", "the system is busy settling accounts"),
        Cause.RISK_CONTROL: Texts("安全风控限制", "our security checks have stopped it"),
    }
)


def cause_name(cause: Cause, language: Language) -> str:
    """The cause in a few plain words."""
    return CAUSE_NAMES[cause].in_language(language)


# ------------------------------------------------------------------------------- facts


def _raw_fact(outcome: RuleOutcome, name: str) -> FactValue:
    for key, value in outcome.facts:
        if key == name:
            return value
    return None


def _fact(outcome: RuleOutcome, name: str) -> str | None:
    value = _raw_fact(outcome, name)
    return None if value is None else str(value)


def _int_fact(outcome: RuleOutcome, name: str) -> int | None:
    value = _raw_fact(outcome, name)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if value is None or not _INTEGER.fullmatch(value):
        return None
    return int(value)


def _yuan(minor: int | None) -> str | None:
    """Fen as yuan with two decimals ("200.00"), or None when there is nothing to show."""
    if minor is None or minor < 0:
        return None
    try:
        return Money.of(minor, "CNY").format()
    except HongbaoError:  # beyond the largest amount hongbao handles: not a real fact
        return None


def _yuan_fact(outcome: RuleOutcome, name: str) -> str | None:
    return _yuan(_int_fact(outcome, name))


def _moment_fact(outcome: RuleOutcome, name: str) -> datetime | None:
    """A time fact (microseconds since the epoch, or ISO 8601 text with an offset), or None
    when absent or malformed."""
    raw = _raw_fact(outcome, name)
    if isinstance(raw, int) and not isinstance(raw, bool):
        try:
            return to_datetime(raw)
        except (OverflowError, ValueError):
            return None
    value = _fact(outcome, name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _beijing(moment: datetime) -> str:
    return moment.astimezone(zone(BEIJING)).strftime("%Y-%m-%d %H:%M")


def _beijing_us(moment_us: int) -> str | None:
    try:
        return _beijing(to_datetime(moment_us))
    except (OverflowError, ValueError):
        return None


def _beijing_clock_us(moment_us: int | None) -> str | None:
    if moment_us is None:
        return None
    text = _beijing_us(moment_us)
    return None if text is None else text[-5:]


def _whole(delta: timedelta, unit: timedelta) -> int | None:
    count, rest = divmod(delta, unit)
    return count if count > 0 and not rest else None


def _span(outcome: RuleOutcome, start: str, end: str, unit: timedelta) -> int | None:
    begins, ends = _moment_fact(outcome, start), _moment_fact(outcome, end)
    if begins is None or ends is None:
        return None
    return _whole(ends - begins, unit)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _duration(minutes: int) -> Texts:
    hours, rest = divmod(minutes, 60)
    if minutes > 0 and not rest:
        return Texts(f"{hours} 小时", _plural(hours, "hour"))
    return Texts(f"{minutes} 分钟", _plural(minutes, "minute"))


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _ended(moment: datetime | None) -> Texts:
    """The closing clause of a time-window sentence."""
    if moment is None:
        return Texts("这个红包的撤回时间已经过了。", "that time has passed for this one.")
    when = _beijing(moment)
    return Texts(
        f"这个红包的撤回时间已在北京时间 {when} 截止。",
        f"for this one that time ended at {when} Beijing time.",
    )


_TIERS: Mapping[str, Texts] = MappingProxyType(
    {
        "unverified": Texts("未实名账户", "an account without real-name verification"),
        "class_i": Texts("一类账户", "a Class I account"),
        "class_ii": Texts("二类账户", "a Class II account"),
        "class_iii": Texts("三类账户", "a Class III account"),
        "enterprise": Texts("企业账户", "an enterprise account"),
    }
)
_YOUR_ACCOUNT = Texts("您的账户", "your account")

_PACKET_TYPES: Mapping[str, Texts] = MappingProxyType(
    {
        "personal": Texts("个人红包", "a personal red packet"),
        "group_normal": Texts("普通群红包", "a group red packet"),
        "group_lucky": Texts("拼手气红包", "a lucky red packet"),
        "enterprise": Texts("企业红包", "an enterprise red packet"),
    }
)
_THIS_KIND = Texts("这类红包", "this kind of red packet")

_PLATFORMS: Mapping[str, str] = MappingProxyType(
    {"harmonyos": "HarmonyOS", "ios": "iOS", "android": "Android", "ipados": "iPadOS"}
)


def _tier(outcome: RuleOutcome) -> Texts:
    return _TIERS.get(_fact(outcome, "tier") or "", _YOUR_ACCOUNT)


def _verification_named(outcome: RuleOutcome) -> ChallengeKind | None:
    step = outcome.next_step
    if step is not None and step.verification is not None:
        return step.verification
    value = _fact(outcome, "verification")
    try:
        return ChallengeKind(value) if value is not None else None
    except ValueError:
        return None


# ------------------------------------------------------------------ wording per reason


def _already_recalled(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "这个红包已经撤回过了，不能再撤回一次。",
        "This red packet has already been recalled; it cannot be recalled twice.",
    )


def _expired(outcome: RuleOutcome) -> Texts:
    expired_at = _moment_fact(outcome, "expires_at")
    if expired_at is None:
        return Texts(
            "这个红包已经过期，没人领的钱会自动退回给您，不需要撤回。",
            "This red packet has expired; money nobody claimed comes back to you "
            "automatically, so there is nothing to recall.",
        )
    when = _beijing(expired_at)
    return Texts(
        f"这个红包已在北京时间 {when} 过期，没人领的钱会自动退回给您，不需要撤回。",
        f"This red packet expired at {when} Beijing time; money nobody claimed comes back to "
        "you automatically, so there is nothing to recall.",
    )


def _exhausted(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "这个红包已经被领完了，没有剩下的钱可以撤回。",
        "This red packet has been claimed in full; there is no money left to recall.",
    )


def _recall_in_progress(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "这个红包正在撤回中，请稍等一会儿，不用重复操作。",
        "A recall of this red packet is already under way; please wait a moment instead of "
        "trying again.",
    )


def _unclaimed_window_passed(outcome: RuleOutcome) -> Texts:
    hours = _span(outcome, "sent_at", "closes_at", timedelta(hours=1))
    ended = _ended(_moment_fact(outcome, "closes_at"))
    if hours is None:
        return Texts(
            f"没人领取的红包只能在发出后一段时间内撤回，{ended.zh}",
            f"A red packet nobody has claimed can be recalled only for a while after it is "
            f"sent, and {ended.en}",
        )
    return Texts(
        f"没人领取的红包只能在发出后 {hours} 小时内撤回，{ended.zh}",
        f"A red packet nobody has claimed can be recalled only within "
        f"{_plural(hours, 'hour')} of sending, and {ended.en}",
    )


def _lucky_window_passed(outcome: RuleOutcome) -> Texts:
    minutes = _span(outcome, "first_claim_at", "closes_at", timedelta(minutes=1))
    ended = _ended(_moment_fact(outcome, "closes_at"))
    if minutes is None:
        return Texts(
            f"拼手气红包有人领过之后，剩下的钱只能在短时间内撤回，{ended.zh}",
            f"Once someone has claimed from a lucky red packet, the rest can be recalled only "
            f"for a short time, and {ended.en}",
        )
    span = _duration(minutes)
    return Texts(
        f"拼手气红包有人领过之后，剩下的钱只能在第一个人领取后 {span.zh}内撤回，{ended.zh}",
        f"Once someone has claimed from a lucky red packet, the rest can be recalled only "
        f"within {span.en} of the first claim, and {ended.en}",
    )


def _type_window_passed(outcome: RuleOutcome) -> Texts:
    kind = _PACKET_TYPES.get(_fact(outcome, "packet_type") or "", _THIS_KIND)
    minutes = _int_fact(outcome, "window_minutes")
    ended = _ended(_moment_fact(outcome, "closes_at"))
    if minutes is None or minutes <= 0:
        return Texts(
            f"{kind.zh}只能在发出后一段时间内撤回，{ended.zh}",
            f"{_capitalised(kind.en)} can be recalled only for a while after it is sent, "
            f"and {ended.en}",
        )
    span = _duration(minutes)
    return Texts(
        f"{kind.zh}只能在发出后 {span.zh}内撤回，{ended.zh}",
        f"{_capitalised(kind.en)} can be recalled only within {span.en} of sending, and {ended.en}",
    )


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def _minimum_remainder_minor(outcome: RuleOutcome) -> int | None:
    """The smallest remainder the packet's type accepts, from the rule's ``minimum`` fact.

    Mirrors RecallTypeRule.minimum_met with exact integer arithmetic (rounded up: a remainder
    one fen below the figure shown is refused).
    """
    total = _int_fact(outcome, "total_minor")
    shares = _int_fact(outcome, "shares")
    fixed = _int_fact(outcome, "min_remainder_minor")
    of_total = _int_fact(outcome, "min_remainder_percent_of_total")
    of_mean = _int_fact(outcome, "min_remainder_percent_of_mean_share")
    if fixed is not None:
        return fixed
    if of_total is not None and total is not None:
        return _ceil_div(total * of_total, 100)
    if of_mean is not None and total is not None and shares is not None and shares > 0:
        return _ceil_div(total * of_mean, 100 * shares)
    return None


def _remainder_below_minimum(outcome: RuleOutcome) -> Texts:
    left = _yuan_fact(outcome, "remainder_minor")
    needed = _yuan(_minimum_remainder_minor(outcome))
    if left is not None and needed is not None:
        return Texts(
            f"这个红包还没被领的钱只剩 {left} 元，至少要剩 {needed} 元才能撤回。",
            f"Only {left} yuan of this red packet is still unclaimed; at least {needed} yuan "
            "must be left for a recall.",
        )
    if left is not None:
        return Texts(
            f"这个红包还没被领的钱只剩 {left} 元，太少了，不能撤回。",
            f"Only {left} yuan of this red packet is still unclaimed, which is too little to "
            "recall.",
        )
    return Texts(
        "这个红包还没被领的钱太少了，不能撤回。",
        "Too little of this red packet is still unclaimed to recall it.",
    )


def _blackout(outcome: RuleOutcome) -> Texts:
    reopens = _beijing_clock_us(outcome.next_step.retry_at_us if outcome.next_step else None)
    window = (_fact(outcome, "blackout") or "").split(" ")
    start = end = None
    if len(window) == 2 and window[1] == BEIJING and window[0].count("-") == 1:
        start, end = window[0].split("-")
    reopens = reopens or end
    if start is not None and end is not None and reopens is not None:
        return Texts(
            f"每天北京时间 {start} 到 {end} 系统在做结算，这段时间不能撤回，{reopens} 恢复撤回。",
            f"Every day from {start} to {end} Beijing time the system settles the day's "
            f"accounts and recalls are paused; recall reopens at {reopens} Beijing time.",
        )
    if reopens is not None:
        return Texts(
            f"系统正在做每日结算，这段时间不能撤回，北京时间 {reopens} 恢复撤回。",
            f"The system is settling the day's accounts and recalls are paused; recall reopens "
            f"at {reopens} Beijing time.",
        )
    return Texts(
        "系统正在做每日结算，这段时间不能撤回，请稍后再试。",
        "The system is settling the day's accounts and recalls are paused for a few minutes.",
    )


def _escrow_mismatch(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "系统正在核对这个红包的账目，核对完之前不能撤回。",
        "We are double-checking this red packet's accounts, and it cannot be recalled until "
        "that is done.",
    )


def _not_sender(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "只有发这个红包的人才能撤回它。",
        "Only the person who sent this red packet can recall it.",
    )


def _account_restricted(outcome: RuleOutcome) -> Texts:
    status = _fact(outcome, "status")
    if status == "frozen":
        return Texts(
            "您的账户已被冻结，暂时不能撤回红包。",
            "Your account is frozen, so it cannot recall red packets for now.",
        )
    return Texts(
        "您的账户目前受到限制，暂时不能撤回红包。",
        "Your account is restricted at the moment, so it cannot recall red packets for now.",
    )


def _not_sending_device(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "撤回只能在发出这个红包的那部手机上操作，而且要用同一张手机卡。",
        "A recall must be made on the phone that sent this red packet, with the same SIM card.",
    )


def _sending_device_unknown(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "我们无法确认这个红包是从哪部手机发出的，所以不能在这里撤回。",
        "We cannot tell which phone sent this red packet, so it cannot be recalled here.",
    )


def _face_required(outcome: RuleOutcome) -> Texts:
    threshold = _yuan_fact(outcome, "threshold_minor")
    if threshold is None:
        return Texts(
            "撤回大额红包前，需要先完成人脸识别。",
            "Recalling a large amount needs face verification first.",
        )
    return Texts(
        f"撤回超过 {threshold} 元的钱，需要先完成人脸识别。",
        f"Recalling more than {threshold} yuan needs face verification first.",
    )


def _new_account_large_amount(outcome: RuleOutcome) -> Texts:
    days = _span(outcome, "registered_at", "new_until", timedelta(days=1))
    large = _yuan_fact(outcome, "large_above_minor")
    grown = _moment_fact(outcome, "new_until")
    young = (
        Texts(
            f"您的账户注册还不满 {days} 天", f"Your account is less than {_plural(days, 'day')} old"
        )
        if days is not None
        else Texts("您的账户是新注册的", "Your account is new")
    )
    limit = (
        Texts(f"超过 {large} 元的红包", f"more than {large} yuan")
        if large is not None
        else Texts("大额红包", "a large amount")
    )
    then = (
        Texts(
            f"北京时间 {_beijing(grown)} 以后就可以了。",
            f"that changes at {_beijing(grown)} Beijing time.",
        )
        if grown is not None
        else Texts("过几天就可以了。", "that changes in a few days.")
    )
    return Texts(
        f"{young.zh}，暂时不能撤回{limit.zh}，{then.zh}",
        f"{young.en}, so it cannot recall {limit.en} yet; {then.en}",
    )


def _tier_cannot_recall(outcome: RuleOutcome) -> Texts:
    if _fact(outcome, "tier") == "unverified":
        return Texts(
            "您的账户还没有完成实名认证，不能撤回红包，完成实名认证后就可以撤回了。",
            "Your account has not completed real-name verification, so it cannot recall red "
            "packets; once it is verified, it can.",
        )
    tier = _tier(outcome)
    return Texts(
        f"{tier.zh}不能撤回红包。",
        f"{_capitalised(tier.en)} cannot recall red packets.",
    )


def _daily_count_reached(outcome: RuleOutcome) -> Texts:
    tier = _tier(outcome)
    allowed = _int_fact(outcome, "daily_count")
    done = _int_fact(outcome, "executed_today")
    if allowed is None:
        return Texts(
            f"{tier.zh}今天的撤回次数已经用完了，次数明天重新计算。",
            f"{_capitalised(tier.en)} has used up today's recalls; the count starts again "
            "tomorrow.",
        )
    already = (
        Texts(f"您今天已经撤回了 {done} 次，", f"You have recalled {_plural(done, 'time')} today")
        if done is not None
        else Texts("", "Today's recalls are used up")
    )
    return Texts(
        f"{already.zh}{tier.zh}每天最多只能撤回 {allowed} 次，次数明天重新计算。",
        f"{already.en}, and {tier.en} allows {_plural(allowed, 'recall')} a day; the count "
        "starts again tomorrow.",
    )


def _daily_amount_reached(outcome: RuleOutcome) -> Texts:
    tier = _tier(outcome)
    allowed = _yuan_fact(outcome, "daily_amount_minor")
    done = _yuan_fact(outcome, "executed_today_minor")
    this = _yuan_fact(outcome, "amount_minor")
    if allowed is None:
        return Texts(
            f"这次撤回会超过{tier.zh}每天能撤回的金额，金额明天重新计算。",
            f"This recall would go over the amount {tier.en} may recall in a day; the total "
            "starts again tomorrow.",
        )
    if done is None or this is None:
        return Texts(
            f"{tier.zh}每天最多只能撤回 {allowed} 元，这次撤回会超过这个上限，金额明天重新计算。",
            f"{_capitalised(tier.en)} may recall at most {allowed} yuan a day and this recall "
            "would go over that; the total starts again tomorrow.",
        )
    return Texts(
        f"{tier.zh}每天最多只能撤回 {allowed} 元，您今天已经撤回了 {done} 元，"
        f"再撤回这 {this} 元就超过上限了，金额明天重新计算。",
        f"{_capitalised(tier.en)} may recall at most {allowed} yuan a day; you have recalled "
        f"{done} yuan today, and this {this} yuan would go over that; the total starts again "
        "tomorrow.",
    )


def _tier_verification_required(outcome: RuleOutcome) -> Texts:
    kind = _verification_named(outcome)
    if kind is None:
        return Texts(
            "为了您的资金安全，撤回前需要先完成一次验证。",
            "To keep your money safe, your account needs a quick check before each recall.",
        )
    check = VERIFICATION_STEPS.get(kind, _ANY_VERIFICATION)
    return Texts(
        f"为了您的资金安全，您的账户每次撤回前都要先完成{check.name.zh}。",
        f"To keep your money safe, your account needs {check.name.en} before each recall.",
    )


def _watch_cap(outcome: RuleOutcome) -> Texts:
    cap = _yuan_fact(outcome, "cap_minor")
    total = _yuan_fact(outcome, "packet_total_minor")
    if cap is None:
        return Texts(
            "在手表上不能撤回这么大的红包，请在手机上撤回。",
            "This red packet is too large to recall on a smartwatch; please recall it on your "
            "phone.",
        )
    size = (
        Texts(f"，这个红包有 {total} 元", f"; this one is {total} yuan")
        if total is not None
        else Texts("", "")
    )
    return Texts(
        f"在手表上只能撤回不超过 {cap} 元的红包{size.zh}，请在手机上撤回。",
        f"On a smartwatch you can recall only red packets of up to {cap} yuan{size.en}, so "
        "please recall it on your phone.",
    )


def _security_environment_required(outcome: RuleOutcome) -> Texts:
    platform = _PLATFORMS.get(_fact(outcome, "platform") or "")
    major = _int_fact(outcome, "os_major")
    if platform is None:
        return Texts(
            "您的手机系统需要先完成一次安全环境检测，才能撤回。",
            "Your phone's system needs a security environment check before it can recall.",
        )
    system = platform if major is None else f"{platform} {major}"
    return Texts(
        f"您的手机系统（{system}）需要先完成一次安全环境检测，才能撤回。",
        f"Your phone's system ({system}) needs a security environment check before it can recall.",
    )


def _risk_challenge(outcome: RuleOutcome) -> Texts:
    kind = _verification_named(outcome) or ChallengeKind.FACE
    check = VERIFICATION_STEPS.get(kind, _ANY_VERIFICATION)
    return Texts(
        f"为了保护您的资金安全，这次撤回需要先完成{check.name.zh}。",
        f"To protect your money, this recall needs {check.name.en} first.",
    )


def _risk_hold(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "为了保护您的资金安全，这次撤回需要人工审核，现在还不能完成。",
        "To protect your money, this recall needs a review by our staff and cannot go ahead "
        "right now.",
    )


def _risk_lock(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "为了保护您的资金安全，您的账户暂时被锁定，不能撤回。",
        "To protect your money, your account is locked for now and cannot recall.",
    )


def _risk_block(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "为了保护您的资金安全，这次撤回被拦截了。",
        "To protect your money, this recall has been stopped.",
    )


_DESTINATIONS: Mapping[str, Texts] = MappingProxyType(
    {
        "balance": Texts("零钱", "your balance"),
        "money_market": Texts("零钱通", "your money-market account (零钱通)"),
        "debit_card": Texts("借记卡", "your debit card"),
        "credit_card": Texts("信用卡", "your credit card"),
        "foreign_card": Texts("境外卡", "your foreign-currency card"),
        "distribution": Texts("分销预算", "the distribution budget it came from"),
    }
)
_THE_ORIGINAL = Texts("原支付方式", "the original payment method")


def _route_name(outcome: RuleOutcome) -> Texts:
    return _DESTINATIONS.get(_fact(outcome, "route") or "", _THE_ORIGINAL)


def _refund_bank_maintenance(outcome: RuleOutcome) -> Texts:
    ends = (
        _beijing_us(outcome.next_step.retry_at_us)
        if outcome.next_step and outcome.next_step.retry_at_us is not None
        else None
    )
    if ends is not None:
        return Texts(
            f"发卡银行正在系统维护，钱暂时退不回这张卡，北京时间 {ends} 维护结束后可以撤回。",
            f"Your card's bank is in a maintenance window, so the money cannot go back to the "
            f"card right now; you can recall after it ends at {ends} Beijing time.",
        )
    return Texts(
        "发卡银行正在系统维护，钱暂时退不回这张卡。",
        "Your card's bank is in a maintenance window, so the money cannot go back to the card "
        "right now.",
    )


def _refund_statement_issued(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "这笔信用卡消费已经出了账单，钱不能再退回信用卡。",
        "This credit-card charge is already on an issued statement, so the money can no longer "
        "go back to the card.",
    )


def _refund_account_abnormal(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "您的账户目前状态异常，零钱暂时不能收款。",
        "Your account is not in normal standing, so your balance cannot receive money for now.",
    )


def _refund_fx_rate_unavailable(outcome: RuleOutcome) -> Texts:
    currency = _fact(outcome, "card_currency")
    pair = f"人民币兑{currency}" if currency else "外币"
    pair_en = f"CNY/{currency}" if currency else "foreign-currency"
    return Texts(
        f"现在没有可用的{pair}汇率，钱暂时不能按当前汇率退回境外卡；我们不会按估计的汇率换算。",
        f"There is no current {pair_en} exchange rate, so the money cannot be converted back to "
        "your foreign card now; we never convert at a guessed rate.",
    )


def _refund_balance_instead(outcome: RuleOutcome) -> Texts:
    original = _route_name(outcome)
    return Texts(
        f"钱现在退不回{original.zh}，可以改为退到零钱，需要您确认。",
        f"The money cannot go back to {original.en} right now; it can go to your balance "
        "instead if you agree.",
    )


def _rule_error(outcome: RuleOutcome) -> Texts:
    del outcome  # the error detail is for operators, never shown to the user
    return Texts(
        "系统出了点问题，暂时无法确认这个红包能不能撤回。",
        "Something went wrong on our side, so we cannot check whether this red packet can be "
        "recalled right now.",
    )


REASON_TEXTS: Mapping[ReasonCode, Callable[[RuleOutcome], Texts]] = MappingProxyType(
    {
        ReasonCode.ALREADY_RECALLED: _already_recalled,
        ReasonCode.EXPIRED: _expired,
        ReasonCode.EXHAUSTED: _exhausted,
        ReasonCode.RECALL_IN_PROGRESS: _recall_in_progress,
        ReasonCode.UNCLAIMED_WINDOW_PASSED: _unclaimed_window_passed,
        ReasonCode.LUCKY_WINDOW_PASSED: _lucky_window_passed,
        ReasonCode.TYPE_WINDOW_PASSED: _type_window_passed,
        ReasonCode.BLACKOUT: _blackout,
        ReasonCode.REMAINDER_BELOW_MINIMUM: _remainder_below_minimum,
        ReasonCode.ESCROW_MISMATCH: _escrow_mismatch,
        ReasonCode.NOT_SENDER: _not_sender,
        ReasonCode.ACCOUNT_RESTRICTED: _account_restricted,
        ReasonCode.NOT_SENDING_DEVICE: _not_sending_device,
        ReasonCode.SENDING_DEVICE_UNKNOWN: _sending_device_unknown,
        ReasonCode.FACE_REQUIRED: _face_required,
        ReasonCode.NEW_ACCOUNT_LARGE_AMOUNT: _new_account_large_amount,
        ReasonCode.TIER_CANNOT_RECALL: _tier_cannot_recall,
        ReasonCode.DAILY_COUNT_REACHED: _daily_count_reached,
        ReasonCode.DAILY_AMOUNT_REACHED: _daily_amount_reached,
        ReasonCode.TIER_VERIFICATION_REQUIRED: _tier_verification_required,
        ReasonCode.WATCH_CAP: _watch_cap,
        ReasonCode.SECURITY_ENVIRONMENT_REQUIRED: _security_environment_required,
        ReasonCode.RISK_CHALLENGE: _risk_challenge,
        ReasonCode.RISK_HOLD: _risk_hold,
        ReasonCode.RISK_LOCK: _risk_lock,
        ReasonCode.RISK_BLOCK: _risk_block,
        ReasonCode.REFUND_BANK_MAINTENANCE: _refund_bank_maintenance,
        ReasonCode.REFUND_STATEMENT_ISSUED: _refund_statement_issued,
        ReasonCode.REFUND_ACCOUNT_ABNORMAL: _refund_account_abnormal,
        ReasonCode.REFUND_FX_RATE_UNAVAILABLE: _refund_fx_rate_unavailable,
        ReasonCode.REFUND_BALANCE_INSTEAD: _refund_balance_instead,
        ReasonCode.RULE_ERROR: _rule_error,
    }
)

_VERIFICATION_NEEDED = Texts(
    "撤回前需要先完成一次验证。", "A quick check is needed before this recall."
)
_CHECK_PASSED = Texts("这一项检查没有问题。", "This check passed.")


def reason_text(outcome: RuleOutcome, language: Language) -> str:
    """One plain sentence saying why ``outcome`` stands in the way, using its facts."""
    wording = REASON_TEXTS.get(outcome.reason) if outcome.reason is not None else None
    if wording is not None:
        return wording(outcome).in_language(language)
    if outcome.blocks:  # a failure without a known reason is a fault on our side
        return _rule_error(outcome).in_language(language)
    if outcome.verdict is Verdict.CHALLENGE:
        return _VERIFICATION_NEEDED.in_language(language)
    return _CHECK_PASSED.in_language(language)


# ---------------------------------------------------------------------------- next steps


class VerificationTexts(NamedTuple):
    """A verification's name (fits "needs {name}" / "完成{name}") and its instruction."""

    name: Texts
    step: Texts


VERIFICATION_STEPS: Mapping[ChallengeKind, VerificationTexts] = MappingProxyType(
    {
        ChallengeKind.SMS_CODE: VerificationTexts(
            Texts("短信验证码验证", "an SMS code check"),
            Texts(
                "请输入发到您手机上的短信验证码。",
                "Enter the SMS verification code we send to your phone.",
            ),
        ),
        ChallengeKind.FACE: VerificationTexts(
            Texts("人脸识别", "face verification"),
            Texts("请完成人脸识别。", "Complete face verification."),
        ),
        ChallengeKind.CORPORATE_ACCOUNT: VerificationTexts(
            Texts("企业对公账户验证", "a corporate bank account check"),
            Texts(
                "请完成企业对公账户验证。",
                "Complete the corporate bank account check for your company.",
            ),
        ),
        ChallengeKind.SECURITY_ENVIRONMENT: VerificationTexts(
            Texts("安全环境检测", "a security environment check"),
            Texts(
                "请在这部手机上完成安全环境检测。",
                "Complete the security environment check on this phone.",
            ),
        ),
    }
)
_ANY_VERIFICATION = VerificationTexts(
    Texts("安全验证", "a security check"),
    Texts("请完成安全验证。", "Complete the security check."),
)


def _retry_text(retry_at_us: int | None) -> Texts:
    when = _beijing_us(retry_at_us) if retry_at_us is not None else None
    if when is None:
        return Texts("请过一会儿再试。", "Try again in a little while.")
    return Texts(f"请在北京时间 {when} 以后再试。", f"Try again after {when} Beijing time.")


def _support_text(decision_id: str) -> Texts:
    return Texts(
        f"如需帮助，请联系客服，并告诉客服处理编号：{decision_id}。",
        f"If you need help, contact customer support and give them this reference: {decision_id}.",
    )


def next_step_text(step: NextStep, language: Language, decision_id: str) -> str:
    """One instruction for ``step``; a contact-support step always quotes ``decision_id``."""
    if step.kind is NextStepKind.RETRY_AT:
        texts = _retry_text(step.retry_at_us)
    elif step.kind is NextStepKind.VERIFY:
        kind = step.verification
        check = VERIFICATION_STEPS.get(kind, _ANY_VERIFICATION) if kind else _ANY_VERIFICATION
        texts = check.step
    elif step.kind is NextStepKind.ACCEPT_BALANCE:
        texts = Texts(
            "如同意退到零钱，请确认后再次撤回。",
            "If the balance is fine, accept it and recall again.",
        )
    elif step.kind is NextStepKind.SWITCH_DEVICE:
        texts = Texts(
            "请换用发出这个红包的那部手机再试。",
            "Use the phone you sent this red packet from and try again.",
        )
    else:
        texts = _support_text(decision_id)
    return texts.in_language(language)


# ------------------------------------------------------------------------------ explain

REFUND_RULE = "refund_route_available"
_ALLOWED = Texts("可以撤回这个红包。", "You can recall this red packet.")
_CHALLENGED = Texts("撤回前请先完成验证。", "Please complete a quick check before recalling.")
_SUPPORT = NextStep(NextStepKind.CONTACT_SUPPORT)


def _unique(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(texts))


def _denied(cause: Cause) -> Texts:
    name = CAUSE_NAMES[cause]
    return Texts(
        f"现在不能撤回这个红包：{name.zh}。", f"This red packet cannot be recalled now: {name.en}."
    )


def _latest_retry(failures: tuple[RuleOutcome, ...]) -> tuple[bool, int | None]:
    """Whether waiting can cure every failure, and the latest known time to wait for."""
    steps = [outcome.next_step for outcome in failures]
    curable = all(
        step is not None and step.kind is not NextStepKind.CONTACT_SUPPORT for step in steps
    )
    times = [
        step.retry_at_us
        for step in steps
        if step is not None and step.kind is NextStepKind.RETRY_AT and step.retry_at_us is not None
    ]
    return curable, (max(times) if curable and times else None)


def _explain_denial(decision: Decision, language: Language) -> Explanation:
    # A denial without a failing rule is malformed: explain it as a fault on our side.
    failures = decision.failures or (RuleOutcome("decision", "R-U1", Verdict.ERROR),)
    first = failures[0].reason
    cause = _CAUSE_WITHOUT_REASON if first is None else CAUSES.get(first, _CAUSE_WITHOUT_REASON)
    curable, retry_at_us = _latest_retry(failures)
    steps: list[str] = []
    for outcome in failures:
        step = outcome.next_step or _SUPPORT
        if step.kind is NextStepKind.RETRY_AT:
            if not curable:  # another failure stays after the wait: retrying would be refused
                continue
            step = NextStep(NextStepKind.RETRY_AT, retry_at_us=retry_at_us)
        steps.append(next_step_text(step, language, decision.decision_id))
    support = next_step_text(_SUPPORT, language, decision.decision_id)
    steps.sort(key=lambda text: text == support)  # stable: what the user can do comes first
    return Explanation(
        decision_id=decision.decision_id,
        button=ButtonState.DISABLED,
        cause=cause,
        headline=_denied(cause).in_language(language),
        reasons=_unique(reason_text(outcome, language) for outcome in failures),
        next_steps=_unique(steps),
        verifications=(),
        retry_at_us=retry_at_us,
    )


def _refund_outcome(decision: Decision) -> RuleOutcome | None:
    for outcome in decision.outcomes:
        if outcome.rule == REFUND_RULE and outcome.verdict in (Verdict.PASS, Verdict.CHALLENGE):
            return outcome
    return None


def _money_fact(outcome: RuleOutcome, name: str, currency: str) -> str | None:
    minor = _int_fact(outcome, name)
    if minor is None or minor < 0:
        return None
    try:
        return Money.of(minor, currency).format()
    except HongbaoError:
        return None


def refund_text(decision: Decision, language: Language) -> str | None:
    """The refund plan of the decision in one sentence, or None when nothing is refunded."""
    outcome = _refund_outcome(decision)
    amount = _yuan_fact(outcome, "amount") if outcome is not None else None
    if outcome is None or amount is None:
        return None
    to_balance = _raw_fact(outcome, "available") is False
    route = "balance" if to_balance else (_fact(outcome, "route") or "")
    where = _DESTINATIONS.get(route, _THE_ORIGINAL)
    label = "" if to_balance else (_fact(outcome, "destination") or "")
    arrives = _beijing_us(_int_fact(outcome, "arrives_at") or 0)
    frozen = _int_fact(outcome, "frozen_until")
    fee = _yuan_fact(outcome, "fee") or "0.00"
    texts = [
        Texts(
            f"未领取的 {amount} 元将退回{where.zh}" + (f"（{label}）" if label else ""),
            f"The unclaimed {amount} yuan goes back to {where.en}" + (f" {label}" if label else ""),
        )
    ]
    if route in ("balance", "distribution"):
        texts.append(Texts("，立即到账", ", at once"))
    elif frozen is not None and (until := _beijing_us(frozen)) is not None:
        texts.append(
            Texts(
                f"，冻结至北京时间 {until} 确认后可用",
                f", frozen until the confirmation at {until} Beijing time",
            )
        )
    elif arrives is not None:
        texts.append(
            Texts(f"，预计北京时间 {arrives} 到账", f", arriving by {arrives} Beijing time")
        )
    card = _fact(outcome, "card_currency")
    card_amount = _money_fact(outcome, "card_amount", card) if card else None
    if card and card_amount:
        rate, paid_rate = _fact(outcome, "rate_at_refund"), _fact(outcome, "rate_at_send")
        texts.append(
            Texts(
                f"，按当前汇率 {rate} 折合 {card_amount} {card}（付款时汇率 {paid_rate}）",
                f", as {card_amount} {card} at today's rate {rate} (paid at {paid_rate})",
            )
        )
    if fee != "0.00":
        texts.append(Texts(f"，手续费 {fee} 元", f"; fee {fee} yuan"))
    else:
        texts.append(Texts("，无手续费", ", no fee"))
    return "".join(text.in_language(language) for text in texts) + (
        "。" if language == "zh" else "."
    )


def explain(decision: Decision, language: Language) -> Explanation:
    """The decision in words for the recall button, its dialog and the support handoff."""
    if decision.result is DecisionResult.DENY:
        return _explain_denial(decision, language)
    if decision.result is DecisionResult.CHALLENGE:
        kinds = decision.challenges
        challenged = [o for o in decision.outcomes if o.verdict is Verdict.CHALLENGE]
        accept = [
            o.next_step
            for o in challenged
            if o.next_step is not None and o.next_step.kind is NextStepKind.ACCEPT_BALANCE
        ]
        steps = [NextStep(NextStepKind.VERIFY, verification=kind) for kind in kinds] + accept
        return Explanation(
            decision_id=decision.decision_id,
            button=ButtonState.CHALLENGE,
            cause=None,
            headline=_CHALLENGED.in_language(language),
            reasons=_unique(reason_text(outcome, language) for outcome in challenged),
            next_steps=_unique(
                next_step_text(step, language, decision.decision_id) for step in steps
            ),
            verifications=kinds,
            retry_at_us=None,
            refund=refund_text(decision, language),
            accept_balance=bool(accept),
        )
    return Explanation(
        decision_id=decision.decision_id,
        button=ButtonState.ENABLED,
        cause=None,
        headline=_ALLOWED.in_language(language),
        reasons=(),
        next_steps=(),
        verifications=(),
        retry_at_us=None,
        refund=refund_text(decision, language),
    )


# ----------------------------------------------------------------------------- language


def _quality(parameters: list[str]) -> int:
    """The q-value in thousandths (1000 when absent, 0 when malformed: not acceptable)."""
    for parameter in parameters:
        match = _QUALITY.fullmatch(parameter.strip())
        if match:
            whole, _, fraction = match[1].partition(".")
            return min(1000, int(whole) * 1000 + int(fraction.ljust(3, "0") or "0"))
        if parameter.strip().lower().startswith("q="):
            return 0
    return 1000


def parse_language(accept_language_header_or_code: str | None) -> Language:
    """``zh`` or ``en`` from an Accept-Language header or a bare code (``zh-CN``, ``en``).

    The most preferred of zh / en wins (``fr, zh;q=0.8`` is zh); ``*``, nothing or nothing
    readable is zh; a header naming only other languages is en.
    """
    text = (accept_language_header_or_code or "")[:MAX_LANGUAGE_HEADER_CHARS]
    entries: list[tuple[int, int, str]] = []
    for position, entry in enumerate(text.split(",")[:MAX_LANGUAGE_ENTRIES]):
        tag, *parameters = entry.split(";")
        primary = tag.strip().replace("_", "-").split("-")[0].lower()
        if primary and (primary == "*" or primary.isalpha()):
            entries.append((-_quality(parameters), position, primary))
    named_other = False
    for negative_quality, _, primary in sorted(entries):
        if negative_quality == 0:
            break  # q=0 means "not this one", and every later entry is q=0 too
        if primary == "zh":
            return "zh"
        if primary == "en":
            return "en"
        if primary == "*":
            return DEFAULT_LANGUAGE
        named_other = True
    return "en" if named_other else DEFAULT_LANGUAGE
