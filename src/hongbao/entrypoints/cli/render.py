"""Small rendering helpers shared by the command-line screens."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hongbao.money import Money
from hongbao.platform.clock import to_datetime


def money_text(minor: int, currency: str) -> str:
    return Money.of(minor, currency).format()


SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_time(timestamp_us: int | None) -> str:
    """A moment as people in China read it: Asia/Shanghai local time to the minute."""
    if timestamp_us is None:
        return "-"
    return to_datetime(timestamp_us).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
