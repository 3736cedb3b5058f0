"""The pieces every explanation is built from: a message in both languages, amounts in yuan,
Beijing times, durations, and the names of tiers, packet types and platforms."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import NamedTuple

from hongbao.money import Money
from hongbao.platform.clock import to_datetime
from hongbao.platform.errors import HongbaoError
from hongbao.platform.i18n import Language
from hongbao.recall.calendar import zone

BEIJING = "Asia/Shanghai"


class Texts(NamedTuple):
    """One message in both languages."""

    zh: str
    en: str

    def in_language(self, language: Language) -> str:
        return self.zh if language == "zh" else self.en


def money(minor: int | None, currency: str) -> str | None:
    """Minor units with the currency's decimals, or None when there is nothing to show."""
    if minor is None or minor < 0:
        return None
    try:
        return Money.of(minor, currency).format()
    except HongbaoError:  # beyond the largest amount hongbao handles: not a real fact
        return None


def yuan(minor: int | None) -> str | None:
    """Fen as yuan with two decimals ("200.00"), or None when there is nothing to show."""
    return money(minor, "CNY")


def beijing(moment: datetime) -> str:
    return moment.astimezone(zone(BEIJING)).strftime("%Y-%m-%d %H:%M")


def beijing_us(moment_us: int) -> str | None:
    try:
        return beijing(to_datetime(moment_us))
    except (OverflowError, ValueError):
        return None


def beijing_clock_us(moment_us: int | None) -> str | None:
    if moment_us is None:
        return None
    text = beijing_us(moment_us)
    return None if text is None else text[-5:]


def span(begins: datetime | None, ends: datetime | None, unit: timedelta) -> int | None:
    """Whole units from ``begins`` to ``ends``, or None when either is unknown or the span is
    not a positive whole number of units."""
    if begins is None or ends is None:
        return None
    count, rest = divmod(ends - begins, unit)
    return count if count > 0 and not rest else None


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def duration(minutes: int) -> Texts:
    hours, rest = divmod(minutes, 60)
    if minutes > 0 and not rest:
        return Texts(f"{hours} 小时", plural(hours, "hour"))
    return Texts(f"{minutes} 分钟", plural(minutes, "minute"))


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def ended(moment: datetime | None) -> Texts:
    """The closing clause of a time-window sentence."""
    if moment is None:
        return Texts("这个红包的撤回时间已经过了。", "that time has passed for this one.")
    when = beijing(moment)
    return Texts(
        f"这个红包的撤回时间已在北京时间 {when} 截止。",
        f"for this one that time ended at {when} Beijing time.",
    )


TIERS: Mapping[str, Texts] = MappingProxyType(
    {
        "unverified": Texts("未实名账户", "an account without real-name verification"),
        "class_i": Texts("一类账户", "a Class I account"),
        "class_ii": Texts("二类账户", "a Class II account"),
        "class_iii": Texts("三类账户", "a Class III account"),
        "enterprise": Texts("企业账户", "an enterprise account"),
    }
)
YOUR_ACCOUNT = Texts("您的账户", "your account")

PACKET_TYPES: Mapping[str, Texts] = MappingProxyType(
    {
        "personal": Texts("个人红包", "a personal red packet"),
        "group_normal": Texts("普通群红包", "a group red packet"),
        "group_lucky": Texts("拼手气红包", "a lucky red packet"),
        "enterprise": Texts("企业红包", "an enterprise red packet"),
    }
)
THIS_KIND = Texts("这类红包", "this kind of red packet")

PLATFORMS: Mapping[str, str] = MappingProxyType(
    {"harmonyos": "HarmonyOS", "ios": "iOS", "android": "Android", "ipados": "iPadOS"}
)


def tier_name(tier: str | None) -> Texts:
    return TIERS.get(tier or "", YOUR_ACCOUNT)
