# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""Refunds in words (R-F1..R-F4): why the original route cannot take the money now, and the
refund plan of a decision: where the money goes, when it arrives, at what rate and fee."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from hongbao.platform.i18n import Language
from hongbao.recall.explanations.words import Texts, beijing_us, money, yuan
from hongbao.recall.model import Decision, RuleOutcome, Verdict
from hongbao.recall.rule_facts import RefundRouteFacts

DESTINATIONS: Mapping[str, Texts] = MappingProxyType(
    {
        "balance": Texts("零钱", "your balance"),
        "money_market": Texts("零钱通", "your money-market account (零钱通)"),
        "debit_card": Texts("借记卡", "your debit card"),
        "credit_card": Texts("信用卡", "your credit card"),
        "foreign_card": Texts("境外卡", "your foreign-currency card"),
        "distribution": Texts("分销预算", "the distribution budget it came from"),
    }
)
THE_ORIGINAL = Texts("原支付方式", "the original payment method")


def route_name(facts: RefundRouteFacts) -> Texts:
    return DESTINATIONS.get(facts.route or "", THE_ORIGINAL)


def refund_bank_maintenance(outcome: RuleOutcome) -> Texts:
    ends = (
        beijing_us(outcome.next_step.retry_at_us)
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


def refund_statement_issued(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "这笔信用卡消费已经出了账单，钱不能再退回信用卡。",
        "This credit-card charge is already on an issued statement, so the money can no longer "
        "go back to the card.",
    )


def refund_account_abnormal(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "您的账户目前状态异常，零钱暂时不能收款。",
        "Your account is not in normal standing, so your balance cannot receive money for now.",
    )


def refund_fx_rate_unavailable(outcome: RuleOutcome) -> Texts:
    currency = RefundRouteFacts.read(outcome).card_currency
    pair = f"人民币兑{currency}" if currency else "外币"
    pair_en = f"CNY/{currency}" if currency else "foreign-currency"
    return Texts(
        f"现在没有可用的{pair}汇率，钱暂时不能按当前汇率退回境外卡；我们不会按估计的汇率换算。",
        f"There is no current {pair_en} exchange rate, so the money cannot be converted back to "
        "your foreign card now; we never convert at a guessed rate.",
    )


def refund_balance_instead(outcome: RuleOutcome) -> Texts:
    original = route_name(RefundRouteFacts.read(outcome))
    return Texts(
        f"钱现在退不回{original.zh}，可以改为退到零钱，需要您确认。",
        f"The money cannot go back to {original.en} right now; it can go to your balance "
        "instead if you agree.",
    )


def refund_facts(decision: Decision) -> RefundRouteFacts | None:
    """The refund rule's facts when it lets the money go back (now or once accepted)."""
    for outcome in decision.outcomes:
        if outcome.rule == RefundRouteFacts.RULE and outcome.verdict in (
            Verdict.PASS,
            Verdict.CHALLENGE,
        ):
            return RefundRouteFacts.read(outcome)
    return None


def refund_text(decision: Decision, language: Language) -> str | None:
    """The refund plan of the decision in one sentence, or None when nothing is refunded."""
    facts = refund_facts(decision)
    amount = yuan(facts.amount) if facts is not None else None
    if facts is None or amount is None:
        return None
    to_balance = facts.available is False
    route = "balance" if to_balance else (facts.route or "")
    where = DESTINATIONS.get(route, THE_ORIGINAL)
    label = "" if to_balance else (facts.destination or "")
    arrives = beijing_us(facts.arrives_at or 0)
    frozen = facts.frozen_until
    fee = yuan(facts.fee) or "0.00"
    texts = [
        Texts(
            f"未领取的 {amount} 元将退回{where.zh}" + (f"（{label}）" if label else ""),
            f"The unclaimed {amount} yuan goes back to {where.en}" + (f" {label}" if label else ""),
        )
    ]
    if route in ("balance", "distribution"):
        texts.append(Texts("，立即到账", ", at once"))
    elif frozen is not None and (until := beijing_us(frozen)) is not None:
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
    card = facts.card_currency
    card_amount = money(facts.card_amount, card) if card else None
    if card and card_amount:
        rate, paid_rate = facts.rate_at_refund, facts.rate_at_send
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
