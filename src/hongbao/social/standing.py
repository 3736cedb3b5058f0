# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""What a send asks the social context (R-S2, R-S3): is the sender's group paused, how much may
they send this person. One keyed read, sent with the send's other reads (no round trip of its
own); the refusal names its cause and when it lifts, in zh and en."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hongbao.money import Money
from hongbao.policy.document import SocialPolicy
from hongbao.social.consequences import (
    FULL_WEIGHT_PERMILLE,
    GroupStanding,
    PairWeight,
    active,
    pair_cap_minor,
    weight_at,
)
from hongbao.social.errors import SocialCode, SocialError
from hongbao.social.ports import SocialTables
from hongbao.social.words import local_time


@dataclass(frozen=True, slots=True)
class SendStanding:
    """The sender's standing where a send goes: in its group, or towards its recipient."""

    group: GroupStanding | None = None
    pair: PairWeight | None = None


def _none() -> SendStanding:
    return SendStanding()


def read_send_standing(
    social: SocialTables, sender_id: str, group_id: str | None, recipient_id: str | None
) -> Callable[[], SendStanding]:
    """The sender's standing in ``group_id`` or towards ``recipient_id``: the read sent now,
    answered by the returned function (so it travels with the send's other reads)."""
    if group_id is not None:
        groups = social.group_standings.read_many([(group_id, sender_id)])
        return lambda: SendStanding(group=_only(groups()))
    if recipient_id is not None and recipient_id != sender_id:
        pairs = social.pair_weights.read_many([(sender_id, recipient_id)])
        return lambda: SendStanding(pair=_only(pairs()))
    return _none


def _only(found: dict[tuple[Any, ...], Any]) -> Any:
    return next(iter(found.values()), None)


def check_send(
    standing: SendStanding,
    amount: Money,
    full_minor: int,
    now_us: int,
    policy: SocialPolicy,
) -> None:
    """Refuse a group send while the sender's group packets are paused in that group, and a
    personal packet above what the pair weight allows (``full_minor``: the personal limit)."""
    group = standing.group
    if group is not None and group.banned_at(now_us):
        lifts = local_time(group.banned_until_us)
        raise SocialError(
            f"group red packets are paused in this group until {lifts.en}: "
            f"{group.ban_recalls} recalls here within {policy.groups.window_hours} h "
            f"(the limit is {group.ban_threshold})",
            code=SocialCode.GROUP_SEND_BANNED,
            group_id=group.group_id,
            recalls=group.ban_recalls,
            threshold=group.ban_threshold,
            window_hours=policy.groups.window_hours,
            banned_until_us=group.banned_until_us,
            lifts_at=lifts.iso,
            cause_zh=(
                f"你在{policy.groups.window_hours}小时内在这个群撤回了{group.ban_recalls}次红包"
                f"（上限{group.ban_threshold}次），群红包暂停发送，{lifts.zh}恢复。"
            ),
            cause_en=(
                f"You recalled {group.ban_recalls} red packets in this group within "
                f"{policy.groups.window_hours} hours (the limit is {group.ban_threshold}); "
                f"group red packets resume at {lifts.en}."
            ),
        )
    pair = standing.pair
    if pair is None:
        return
    weight = weight_at(pair, now_us, policy.pairs)
    cap = pair_cap_minor(weight, full_minor)
    if weight >= FULL_WEIGHT_PERMILLE or amount.minor <= cap:
        return
    lapsing = [penalty.until_us for penalty in active(pair.penalties, now_us)]
    recovers = local_time(max(lapsing))
    most = Money.of(cap, amount.currency).format()
    raise SocialError(
        f"at most {most} to this person until {recovers.en}: recent recalls of packets sent "
        f"to them lowered the weight to {weight}‰",
        code=SocialCode.PAIR_CAP_EXCEEDED,
        recipient_id=pair.to_user_id,
        weight_permille=weight,
        cap=most,
        recalls=len(lapsing),
        recovers_at_us=max(lapsing),
        lifts_at=recovers.iso,
        cause_zh=(
            f"你近期撤回了{len(lapsing)}个发给对方的红包，关系链权重降为{weight}‰，"
            f"单个红包最多{most}元，{recovers.zh}完全恢复。"
        ),
        cause_en=(
            f"You recently recalled {len(lapsing)} red packets sent to this person, so the "
            f"relationship weight is {weight}‰ and one packet may hold at most {most}; it "
            f"recovers fully at {recovers.en}."
        ),
    )
