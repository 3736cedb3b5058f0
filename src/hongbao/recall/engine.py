"""The recall engine: every rule, always, combined into one decision (pure, no I/O).

Any failing rule denies (each failing rule is listed); else any challenge asks for every
verification still needed; else the recall is allowed. A rule that raises denies safely: its
outcome is ``error`` with the exception's type and message, reported with the decision.
"""

from __future__ import annotations

from hongbao.policy.document import Policy
from hongbao.recall.facts import RecallFacts
from hongbao.recall.model import (
    Decision,
    DecisionResult,
    NextStep,
    NextStepKind,
    RuleOutcome,
    Verdict,
)
from hongbao.recall.reasons import ReasonCode
from hongbao.recall.rules import RULES, Rule

MAX_ERROR_TEXT = 200
FAIL, ERROR, CHALLENGE = Verdict.FAIL, Verdict.ERROR, Verdict.CHALLENGE


def evaluate(
    facts: RecallFacts, policy: Policy, decision_id: str, rules: tuple[Rule, ...] = RULES
) -> Decision:
    outcomes: list[RuleOutcome] = []
    for rule in rules:
        try:
            outcomes.extend(rule.check(facts, policy))
        except Exception as error:  # noqa: BLE001 - a broken rule must deny, visibly, never pass
            outcomes.append(_error_outcome(rule, error))
    return Decision(decision_id, _combine(outcomes), policy.version, facts.now_us, tuple(outcomes))


def _error_outcome(rule: Rule, error: Exception) -> RuleOutcome:
    detail = f"{type(error).__name__}: {error}"[:MAX_ERROR_TEXT]
    return RuleOutcome(
        rule.name,
        rule.requirement,
        Verdict.ERROR,
        ReasonCode.RULE_ERROR,
        (("error", detail),),
        NextStep(NextStepKind.CONTACT_SUPPORT),
    )


def _combine(outcomes: list[RuleOutcome]) -> DecisionResult:
    result = DecisionResult.ALLOW
    for outcome in outcomes:
        verdict = outcome.verdict
        if verdict is FAIL or verdict is ERROR:
            return DecisionResult.DENY
        if verdict is CHALLENGE:
            result = DecisionResult.CHALLENGE
    return result
