# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The refund rule (R-F1, R-F2) and how its plan reads in an answer: the route the money takes,
a refused route's reason and next step, and smart routing's offer of the balance."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hongbao.policy.document import Policy, default_policy
from hongbao.recall.engine import evaluate
from hongbao.recall.explanations import ButtonState, explain, refund_text
from hongbao.recall.facts import RecallFacts, RefundFacts
from hongbao.recall.model import DecisionResult, NextStepKind, Verdict
from hongbao.recall.reasons import ReasonCode
from hongbao.recall.rules import refund_route_available
from tests.unit.recall.builders import HOUR_US, NOW_US, allowed, local_us

POLICY = default_policy()
SMART = POLICY.model_copy(
    update={"refunds": POLICY.refunds.model_copy(update={"smart_routing": True})}
)

CREDIT = RefundFacts(
    route="credit_card",
    destination="CMB **** 4444",
    available=True,
    refusal=None,
    refusal_message=None,
    retry_at_us=None,
    balance_available=None,
    amount_minor=100_00,
    fee_minor=10,
    arrives_at_us=local_us(2026, 12, 3, 15),
    frozen_until_us=None,
)
MAINTENANCE = replace(
    CREDIT,
    route="debit_card",
    destination="ICBC **** 1111",
    available=False,
    refusal="refunds.bank_maintenance",
    refusal_message="ICBC is in a maintenance window",
    retry_at_us=NOW_US + HOUR_US,
    balance_available=True,
    fee_minor=0,
    arrives_at_us=NOW_US,
)


def with_refund(refund: RefundFacts | None, *, accepted: bool = False) -> RecallFacts:
    return replace(allowed(), refund=refund, substitute_accepted=accepted)


def only(facts: RecallFacts, policy: Policy = POLICY) -> tuple[Verdict, ReasonCode | None]:
    (outcome,) = refund_route_available(policy)(facts)
    return outcome.verdict, outcome.reason


def test_nothing_to_refund_does_not_concern_the_rule() -> None:
    """Inside the card window the hold is voided: there is no refund to route."""
    assert only(with_refund(None)) == (Verdict.NOT_APPLICABLE, None)


def test_an_available_original_route_passes_and_the_answer_states_the_plan() -> None:
    decision = evaluate(with_refund(CREDIT), POLICY, "d-1")
    assert decision.result is DecisionResult.ALLOW
    assert refund_text(decision, "en") == (
        "The unclaimed 100.00 yuan goes back to your credit card CMB **** 4444, arriving by "
        "2026-12-03 15:00 Beijing time; fee 0.10 yuan."
    )
    assert refund_text(decision, "zh") == (
        "未领取的 100.00 元将退回信用卡（CMB **** 4444），预计北京时间 2026-12-03 15:00 到账，"
        "手续费 0.10 元。"
    )
    assert explain(decision, "en").refund == refund_text(decision, "en")


@pytest.mark.parametrize(
    ("refusal", "reason", "next_step"),
    [
        ("refunds.bank_maintenance", ReasonCode.REFUND_BANK_MAINTENANCE, NextStepKind.RETRY_AT),
        (
            "refunds.statement_issued",
            ReasonCode.REFUND_STATEMENT_ISSUED,
            NextStepKind.CONTACT_SUPPORT,
        ),
        (
            "refunds.account_abnormal",
            ReasonCode.REFUND_ACCOUNT_ABNORMAL,
            NextStepKind.CONTACT_SUPPORT,
        ),
        (
            "refunds.fx_rate_unavailable",
            ReasonCode.REFUND_FX_RATE_UNAVAILABLE,
            NextStepKind.CONTACT_SUPPORT,
        ),
    ],
)
def test_a_refused_route_denies_with_its_reason_when_smart_routing_is_off(
    refusal: str, reason: ReasonCode, next_step: NextStepKind
) -> None:
    retry = NOW_US + HOUR_US if next_step is NextStepKind.RETRY_AT else None
    facts = with_refund(replace(MAINTENANCE, refusal=refusal, retry_at_us=retry))
    (outcome,) = refund_route_available(POLICY)(facts)
    assert (outcome.verdict, outcome.reason) == (Verdict.FAIL, reason)
    assert outcome.next_step is not None
    assert outcome.next_step.kind is next_step
    assert outcome.next_step.retry_at_us == retry
    explanation = explain(evaluate(facts, POLICY, "d-2"), "en")
    assert explanation.button is ButtonState.DISABLED
    assert explanation.reasons  # every refusal has words


def test_the_maintenance_denial_says_when_the_window_ends() -> None:
    decision = evaluate(with_refund(MAINTENANCE), POLICY, "d-3")
    explanation = explain(decision, "en")
    assert explanation.retry_at_us == NOW_US + HOUR_US
    assert "16:00 Beijing time" in explanation.reasons[0]


def test_smart_routing_asks_the_sender_to_accept_the_balance_and_passes_once_accepted() -> None:
    asked = evaluate(with_refund(MAINTENANCE), SMART, "d-4")
    assert asked.result is DecisionResult.CHALLENGE
    assert asked.reasons == (ReasonCode.REFUND_BALANCE_INSTEAD,)
    assert asked.challenges == ()  # no verification: a confirmation
    explanation = explain(asked, "en")
    assert explanation.accept_balance
    assert explanation.refund == (
        "The unclaimed 100.00 yuan goes back to your balance, at once, no fee."
    )
    assert any("accept" in step for step in explanation.next_steps)
    accepted = evaluate(with_refund(MAINTENANCE, accepted=True), SMART, "d-5")
    assert accepted.result is DecisionResult.ALLOW
    facts = dict(next(o for o in accepted.outcomes if o.rule == "refund_route_available").facts)
    assert (facts["accepted"], facts["refusal"]) == (True, "refunds.bank_maintenance")


def test_smart_routing_cannot_offer_a_balance_that_cannot_take_money() -> None:
    facts = with_refund(replace(MAINTENANCE, balance_available=False))
    assert only(facts, SMART) == (Verdict.FAIL, ReasonCode.REFUND_BANK_MAINTENANCE)


def test_a_foreign_card_plan_names_both_rates_and_the_card_amount() -> None:
    foreign = replace(
        CREDIT,
        route="foreign_card",
        destination="USD **** 1111",
        fee_minor=0,
        card_currency="USD",
        card_amount_minor=13_98,
        rate_at_refund="0.1398",
        rate_at_send="0.1405",
    )
    text = refund_text(evaluate(with_refund(foreign), POLICY, "d-6"), "en")
    assert text is not None
    assert "as 13.98 USD at today's rate 0.1398 (paid at 0.1405)" in text


def test_a_frozen_money_market_refund_says_until_when() -> None:
    frozen = replace(
        CREDIT,
        route="money_market",
        destination="",
        fee_minor=0,
        frozen_until_us=local_us(2026, 12, 1, 15),
    )
    text = refund_text(evaluate(with_refund(frozen), POLICY, "d-7"), "zh")
    assert (
        text
        == "未领取的 100.00 元将退回零钱通，冻结至北京时间 2026-12-01 15:00 确认后可用，无手续费。"
    )
