# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The social context's words for people, in zh and en: times, and what a recall will cost."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hongbao.platform.clock import to_datetime

# The times people read are Beijing times, as in the recall explanations.
BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class LocalTime:
    zh: str  # 北京时间 2026-11-03 12:00
    en: str  # 2026-11-03 12:00 Beijing time
    iso: str  # 2026-11-03T12:00:00+08:00


def local_time(moment_us: int | None) -> LocalTime:
    if moment_us is None:
        return LocalTime("未知时间", "an unknown time", "")
    moment = to_datetime(moment_us).astimezone(BEIJING)
    shown = moment.strftime("%Y-%m-%d %H:%M")
    return LocalTime(f"北京时间 {shown}", f"{shown} Beijing time", moment.isoformat())


@dataclass(frozen=True, slots=True)
class RecallCost:
    """What one more recall of a packet would cost its sender socially now (all zero: none).

    ``score_points``: points off the score; ``score_until_us`` when they lapse. ``group_ban``:
    the recall would pause the sender's group packets in the packet's group until
    ``ban_until_us``. ``weight_permille``: the pair weight after it (None: not personal) and
    ``cap``: the personal limit then, as text. ``intimacy_points``: off the intimacy of both.
    """

    score_points: int = 0
    score_until_us: int | None = None
    group_ban: bool = False
    ban_until_us: int | None = None
    weight_permille: int | None = None
    cap: str | None = None
    intimacy_points: int = 0

    @property
    def free(self) -> bool:
        return (
            self.score_points == 0
            and not self.group_ban
            and self.weight_permille is None
            and self.intimacy_points == 0
        )

    def zh(self) -> str:
        if self.free:
            return "这次撤回不会影响你的社交支付分和群红包功能。"
        parts: list[str] = []
        if self.score_points:
            until = local_time(self.score_until_us).zh
            parts.append(f"社交支付分将降低{self.score_points}分（{until}恢复）")
        if self.group_ban:
            parts.append(f"你在这个群的群红包将暂停到{local_time(self.ban_until_us).zh}")
        if self.weight_permille is not None:
            parts.append(
                f"与对方的关系链权重将降为{self.weight_permille}‰，单个红包最多{self.cap}元"
            )
        if self.intimacy_points:
            parts.append(f"你们的亲密度将下降{self.intimacy_points}点")
        return "撤回后：" + "；".join(parts) + "。"

    def en(self) -> str:
        if self.free:
            return "This recall will not affect your social payment score or group packets."
        parts: list[str] = []
        if self.score_points:
            until = local_time(self.score_until_us).en
            parts.append(
                f"your social payment score drops {self.score_points} points (until {until})"
            )
        if self.group_ban:
            until = local_time(self.ban_until_us).en
            parts.append(f"your group red packets in this group pause until {until}")
        if self.weight_permille is not None:
            parts.append(
                f"your relationship weight with them drops to {self.weight_permille}‰ "
                f"(at most {self.cap} per packet)"
            )
        if self.intimacy_points:
            parts.append(f"your intimacy drops {self.intimacy_points} points")
        return "If you recall it: " + "; ".join(parts) + "."

    def in_language(self, language: str) -> str:
        return self.zh() if language == "zh" else self.en()
