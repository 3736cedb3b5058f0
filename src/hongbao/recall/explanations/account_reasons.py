# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""Why the account stands in the way, in words: not the sender, restricted, a verification
its tier or the amount asks for, a new account's limit, the tier's daily count and amount."""

from __future__ import annotations

from datetime import timedelta

from hongbao.recall.explanations.steps import (
    ANY_VERIFICATION,
    VERIFICATION_STEPS,
    verification_named,
)
from hongbao.recall.explanations.words import (
    Texts,
    beijing,
    capitalised,
    plural,
    span,
    tier_name,
    yuan,
)
from hongbao.recall.model import RuleOutcome
from hongbao.recall.rule_facts import (
    FaceFacts,
    NewAccountFacts,
    StandingFacts,
    TierLimitsFacts,
    TierVerificationFacts,
)


def not_sender(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "只有发这个红包的人才能撤回它。",
        "Only the person who sent this red packet can recall it.",
    )


def account_restricted(outcome: RuleOutcome) -> Texts:
    status = StandingFacts.read(outcome).status
    if status == "frozen":
        return Texts(
            "您的账户已被冻结，暂时不能撤回红包。",
            "Your account is frozen, so it cannot recall red packets for now.",
        )
    return Texts(
        "您的账户目前受到限制，暂时不能撤回红包。",
        "Your account is restricted at the moment, so it cannot recall red packets for now.",
    )


def face_required(outcome: RuleOutcome) -> Texts:
    threshold = yuan(FaceFacts.read(outcome).threshold_minor)
    if threshold is None:
        return Texts(
            "撤回大额红包前，需要先完成人脸识别。",
            "Recalling a large amount needs face verification first.",
        )
    return Texts(
        f"撤回超过 {threshold} 元的钱，需要先完成人脸识别。",
        f"Recalling more than {threshold} yuan needs face verification first.",
    )


def new_account_large_amount(outcome: RuleOutcome) -> Texts:
    facts = NewAccountFacts.read(outcome)
    days = span(facts.registered_at, facts.new_until, timedelta(days=1))
    large = yuan(facts.large_above_minor)
    grown = facts.new_until
    young = (
        Texts(
            f"您的账户注册还不满 {days} 天", f"Your account is less than {plural(days, 'day')} old"
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
            f"北京时间 {beijing(grown)} 以后就可以了。",
            f"that changes at {beijing(grown)} Beijing time.",
        )
        if grown is not None
        else Texts("过几天就可以了。", "that changes in a few days.")
    )
    return Texts(
        f"{young.zh}，暂时不能撤回{limit.zh}，{then.zh}",
        f"{young.en}, so it cannot recall {limit.en} yet; {then.en}",
    )


def tier_cannot_recall(outcome: RuleOutcome) -> Texts:
    facts = TierLimitsFacts.read(outcome)
    if facts.tier == "unverified":
        return Texts(
            "您的账户还没有完成实名认证，不能撤回红包，完成实名认证后就可以撤回了。",
            "Your account has not completed real-name verification, so it cannot recall red "
            "packets; once it is verified, it can.",
        )
    tier = tier_name(facts.tier)
    return Texts(
        f"{tier.zh}不能撤回红包。",
        f"{capitalised(tier.en)} cannot recall red packets.",
    )


def daily_count_reached(outcome: RuleOutcome) -> Texts:
    facts = TierLimitsFacts.read(outcome)
    tier = tier_name(facts.tier)
    allowed, done = facts.daily_count, facts.executed_today
    if allowed is None:
        return Texts(
            f"{tier.zh}今天的撤回次数已经用完了，次数明天重新计算。",
            f"{capitalised(tier.en)} has used up today's recalls; the count starts again tomorrow.",
        )
    already = (
        Texts(f"您今天已经撤回了 {done} 次，", f"You have recalled {plural(done, 'time')} today")
        if done is not None
        else Texts("", "Today's recalls are used up")
    )
    return Texts(
        f"{already.zh}{tier.zh}每天最多只能撤回 {allowed} 次，次数明天重新计算。",
        f"{already.en}, and {tier.en} allows {plural(allowed, 'recall')} a day; the count "
        "starts again tomorrow.",
    )


def daily_amount_reached(outcome: RuleOutcome) -> Texts:
    facts = TierLimitsFacts.read(outcome)
    tier = tier_name(facts.tier)
    allowed = yuan(facts.daily_amount_minor)
    done = yuan(facts.executed_today_minor)
    this = yuan(facts.amount_minor)
    if allowed is None:
        return Texts(
            f"这次撤回会超过{tier.zh}每天能撤回的金额，金额明天重新计算。",
            f"This recall would go over the amount {tier.en} may recall in a day; the total "
            "starts again tomorrow.",
        )
    if done is None or this is None:
        return Texts(
            f"{tier.zh}每天最多只能撤回 {allowed} 元，这次撤回会超过这个上限，金额明天重新计算。",
            f"{capitalised(tier.en)} may recall at most {allowed} yuan a day and this recall "
            "would go over that; the total starts again tomorrow.",
        )
    return Texts(
        f"{tier.zh}每天最多只能撤回 {allowed} 元，您今天已经撤回了 {done} 元，"
        f"再撤回这 {this} 元就超过上限了，金额明天重新计算。",
        f"{capitalised(tier.en)} may recall at most {allowed} yuan a day; you have recalled "
        f"{done} yuan today, and this {this} yuan would go over that; the total starts again "
        "tomorrow.",
    )


def tier_verification_required(outcome: RuleOutcome) -> Texts:
    kind = verification_named(outcome, TierVerificationFacts.read(outcome).verification)
    if kind is None:
        return Texts(
            "为了您的资金安全，撤回前需要先完成一次验证。",
            "To keep your money safe, your account needs a quick check before each recall.",
        )
    check = VERIFICATION_STEPS.get(kind, ANY_VERIFICATION)
    return Texts(
        f"为了您的资金安全，您的账户每次撤回前都要先完成{check.name.zh}。",
        f"To keep your money safe, your account needs {check.name.en} before each recall.",
    )
