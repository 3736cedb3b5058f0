# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""Why the packet itself cannot be recalled now, in words: its state, its time windows, its
remainder, the daily settlement blackout and its escrow."""

from __future__ import annotations

from datetime import timedelta

from hongbao.recall.explanations.words import (
    BEIJING,
    PACKET_TYPES,
    THIS_KIND,
    Texts,
    beijing,
    beijing_clock_us,
    capitalised,
    duration,
    ended,
    plural,
    span,
    yuan,
)
from hongbao.recall.model import RuleOutcome
from hongbao.recall.rule_facts import (
    BlackoutFacts,
    LuckyWindowFacts,
    RecallableFacts,
    RemainderFacts,
    TypeWindowFacts,
    UnclaimedWindowFacts,
)


def already_recalled(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "这个红包已经撤回过了，不能再撤回一次。",
        "This red packet has already been recalled; it cannot be recalled twice.",
    )


def not_delivered(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "这个红包是定时发送的，还没有发出（或已取消）：在发出前取消即可，免费。",
        "This is a delayed send, not delivered (or cancelled): cancel it before delivery, "
        "for free.",
    )


def expired(outcome: RuleOutcome) -> Texts:
    expired_at = RecallableFacts.read(outcome).expires_at
    if expired_at is None:
        return Texts(
            "这个红包已经过期，没人领的钱会自动退回给您，不需要撤回。",
            "This red packet has expired; money nobody claimed comes back to you "
            "automatically, so there is nothing to recall.",
        )
    when = beijing(expired_at)
    return Texts(
        f"这个红包已在北京时间 {when} 过期，没人领的钱会自动退回给您，不需要撤回。",
        f"This red packet expired at {when} Beijing time; money nobody claimed comes back to "
        "you automatically, so there is nothing to recall.",
    )


def exhausted(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "这个红包已经被领完了，没有剩下的钱可以撤回。",
        "This red packet has been claimed in full; there is no money left to recall.",
    )


def recall_in_progress(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "这个红包正在撤回中，请稍等一会儿，不用重复操作。",
        "A recall of this red packet is already under way; please wait a moment instead of "
        "trying again.",
    )


def unclaimed_window_passed(outcome: RuleOutcome) -> Texts:
    facts = UnclaimedWindowFacts.read(outcome)
    hours = span(facts.sent_at, facts.closes_at, timedelta(hours=1))
    closing = ended(facts.closes_at)
    if hours is None:
        return Texts(
            f"没人领取的红包只能在发出后一段时间内撤回，{closing.zh}",
            f"A red packet nobody has claimed can be recalled only for a while after it is "
            f"sent, and {closing.en}",
        )
    return Texts(
        f"没人领取的红包只能在发出后 {hours} 小时内撤回，{closing.zh}",
        f"A red packet nobody has claimed can be recalled only within "
        f"{plural(hours, 'hour')} of sending, and {closing.en}",
    )


def lucky_window_passed(outcome: RuleOutcome) -> Texts:
    facts = LuckyWindowFacts.read(outcome)
    minutes = span(facts.first_claim_at, facts.closes_at, timedelta(minutes=1))
    closing = ended(facts.closes_at)
    if minutes is None:
        return Texts(
            f"拼手气红包有人领过之后，剩下的钱只能在短时间内撤回，{closing.zh}",
            f"Once someone has claimed from a lucky red packet, the rest can be recalled only "
            f"for a short time, and {closing.en}",
        )
    length = duration(minutes)
    return Texts(
        f"拼手气红包有人领过之后，剩下的钱只能在第一个人领取后 {length.zh}内撤回，{closing.zh}",
        f"Once someone has claimed from a lucky red packet, the rest can be recalled only "
        f"within {length.en} of the first claim, and {closing.en}",
    )


def type_window_passed(outcome: RuleOutcome) -> Texts:
    facts = TypeWindowFacts.read(outcome)
    kind = PACKET_TYPES.get(facts.packet_type or "", THIS_KIND)
    minutes = facts.window_minutes
    closing = ended(facts.closes_at)
    if minutes is None or minutes <= 0:
        return Texts(
            f"{kind.zh}只能在发出后一段时间内撤回，{closing.zh}",
            f"{capitalised(kind.en)} can be recalled only for a while after it is sent, "
            f"and {closing.en}",
        )
    length = duration(minutes)
    return Texts(
        f"{kind.zh}只能在发出后 {length.zh}内撤回，{closing.zh}",
        f"{capitalised(kind.en)} can be recalled only within {length.en} of sending, "
        f"and {closing.en}",
    )


def ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def minimum_remainder_minor(facts: RemainderFacts) -> int | None:
    """The smallest remainder the packet's type accepts, from the rule's minimum facts.

    Mirrors RecallTypeRule.minimum_met with exact integer arithmetic (rounded up: a remainder
    one fen below the figure shown is refused).
    """
    total, shares = facts.total_minor, facts.shares
    fixed = facts.min_remainder_minor
    of_total = facts.min_remainder_percent_of_total
    of_mean = facts.min_remainder_percent_of_mean_share
    if fixed is not None:
        return fixed
    if of_total is not None and total is not None:
        return ceil_div(total * of_total, 100)
    if of_mean is not None and total is not None and shares is not None and shares > 0:
        return ceil_div(total * of_mean, 100 * shares)
    return None


def remainder_below_minimum(outcome: RuleOutcome) -> Texts:
    facts = RemainderFacts.read(outcome)
    left = yuan(facts.remainder_minor)
    needed = yuan(minimum_remainder_minor(facts))
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


def blackout(outcome: RuleOutcome) -> Texts:
    reopens = beijing_clock_us(outcome.next_step.retry_at_us if outcome.next_step else None)
    window = (BlackoutFacts.read(outcome).blackout or "").split(" ")
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


def escrow_mismatch(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "系统正在核对这个红包的账目，核对完之前不能撤回。",
        "We are double-checking this red packet's accounts, and it cannot be recalled until "
        "that is done.",
    )
