"""The recall engine: every rule, always, combined into one decision (pure, no I/O).

Any failing rule denies (each failing rule is listed); else any challenge asks for every
verification still needed; else the recall is allowed. A rule that raises denies safely: its
outcome is ``error`` with the exception's type and message, reported with the decision.

The rules are compiled once per policy (:class:`CompiledPolicy`) and the compiled form is kept
for the policy object, so an evaluation only runs the checks.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

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
from hongbao.recall.rules import RULES, Check, Rule

MAX_ERROR_TEXT = 200
MAX_COMPILED_POLICIES = 64  # the active and shadow policies, and some recent ones
FAIL, ERROR, CHALLENGE = Verdict.FAIL, Verdict.ERROR, Verdict.CHALLENGE
ALLOW, DENY = DecisionResult.ALLOW, DecisionResult.DENY


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """The rules compiled for one policy: thresholds and tables resolved, ready to run."""

    version: str
    rules: tuple[Rule, ...]
    checks: tuple[Check, ...]

    @classmethod
    def of(cls, policy: Policy, rules: tuple[Rule, ...] = RULES) -> CompiledPolicy:
        return cls(policy.version, rules, tuple(_compiled(rule, policy) for rule in rules))

    def evaluate(self, facts: RecallFacts, decision_id: str) -> Decision:
        outcomes: list[RuleOutcome] = []
        extend = outcomes.extend
        try:
            for check in self.checks:
                extend(check(facts))
        except Exception:  # noqa: BLE001 - run again rule by rule to report each error
            outcomes = self._guarded(facts)
        return Decision(
            decision_id, _combine(outcomes), self.version, facts.now_us, tuple(outcomes)
        )

    def _guarded(self, facts: RecallFacts) -> list[RuleOutcome]:
        """Every rule's outcomes, a rule that raises as an error outcome (the checks are pure,
        so running them again gives what the first run gave)."""
        outcomes: list[RuleOutcome] = []
        for rule, check in zip(self.rules, self.checks, strict=True):
            try:
                outcomes.extend(check(facts))
            except Exception as error:  # noqa: BLE001 - a broken rule must deny, visibly
                outcomes.append(_error_outcome(rule, error))
        return outcomes


def _compiled(rule: Rule, policy: Policy) -> Check:
    """The rule's check; a rule that cannot compile for this policy denies every recall."""
    try:
        return rule.compile(policy)
    except Exception as error:  # noqa: BLE001 - a broken rule must deny, visibly, never pass
        failed = (_error_outcome(rule, error),)

        def check(facts: RecallFacts) -> Sequence[RuleOutcome]:
            del facts
            return failed

        return check


# Keyed by the policy object, not its version: a policy built in code may keep a version while
# changing a number. Each entry holds its policy, so its id is not reused while it is cached.
_compiled_policies: dict[int, tuple[Policy, CompiledPolicy]] = {}


# Readers look up without it; a compile and its insertion (which may evict) take it, so
# request threads never iterate the cache while another one changes it.
_compiling = threading.Lock()


def compiled(policy: Policy) -> CompiledPolicy:
    """The default rules compiled for ``policy``, compiled on first use and then kept."""
    entry = _compiled_policies.get(id(policy))
    if entry is not None and entry[0] is policy:
        return entry[1]
    with _compiling:
        entry = _compiled_policies.get(id(policy))
        if entry is not None and entry[0] is policy:
            return entry[1]
        compiled_policy = CompiledPolicy.of(policy)
        if len(_compiled_policies) >= MAX_COMPILED_POLICIES:
            del _compiled_policies[next(iter(_compiled_policies))]
        _compiled_policies[id(policy)] = (policy, compiled_policy)
        return compiled_policy


def evaluate(
    facts: RecallFacts, policy: Policy, decision_id: str, rules: tuple[Rule, ...] = RULES
) -> Decision:
    if rules is RULES:
        return compiled(policy).evaluate(facts, decision_id)
    return CompiledPolicy.of(policy, rules).evaluate(facts, decision_id)


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
    result = ALLOW
    for outcome in outcomes:
        verdict = outcome.verdict
        if verdict is FAIL or verdict is ERROR:
            return DENY
        if verdict is CHALLENGE:
            result = DecisionResult.CHALLENGE
    return result
