"""What a recall evaluation produces: rule outcomes, next steps and the combined decision."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from hongbao.identity.verification import ChallengeKind
from hongbao.recall.reasons import ReasonCode

FactValue: TypeAlias = str | int | bool | None
"""A fact a rule used: text, an integer (minor units, microseconds, counts) or a flag."""


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    CHALLENGE = "challenge"
    EXEMPT = "exempt"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"  # the rule raised: denies safely, reported with the decision


class DecisionResult(StrEnum):
    ALLOW = "allow"
    CHALLENGE = "challenge"
    DENY = "deny"


class NextStepKind(StrEnum):
    RETRY_AT = "retry_at"
    VERIFY = "verify"
    SWITCH_DEVICE = "switch_device"
    CONTACT_SUPPORT = "contact_support"
    ACCEPT_BALANCE = "accept_balance"  # smart routing: repeat the recall accepting the balance


@dataclass(frozen=True, slots=True)
class NextStep:
    kind: NextStepKind
    retry_at_us: int | None = None
    verification: ChallengeKind | None = None


# Not frozen: the engine builds some twenty of these per decision and a frozen dataclass costs
# about four times as much to create. Nothing assigns to one after it is built, so hashing its
# fields is safe, and compiled rules share the outcomes that depend only on the policy.
@dataclass(slots=True, unsafe_hash=True)
class RuleOutcome:
    """One rule's answer. ``facts`` are the values it looked at, as (name, value) pairs."""

    rule: str
    requirement: str  # the SPEC id it implements, e.g. "R-T3"
    verdict: Verdict
    reason: ReasonCode | None = None
    facts: tuple[tuple[str, FactValue], ...] = ()
    next_step: NextStep | None = None
    exempted_by: tuple[str, ...] = ()

    @property
    def blocks(self) -> bool:
        return self.verdict in (Verdict.FAIL, Verdict.ERROR)


@dataclass(frozen=True, slots=True)
class Decision:
    decision_id: str
    result: DecisionResult
    policy_version: str
    evaluated_at_us: int
    outcomes: tuple[RuleOutcome, ...]

    @property
    def failures(self) -> tuple[RuleOutcome, ...]:
        return tuple(outcome for outcome in self.outcomes if outcome.blocks)

    @property
    def challenges(self) -> tuple[ChallengeKind, ...]:
        """Every verification still needed, once each, in rule order."""
        kinds: list[ChallengeKind] = []
        for outcome in self.outcomes:
            step = outcome.next_step
            needed = step.verification if outcome.verdict is Verdict.CHALLENGE and step else None
            if needed is not None and needed not in kinds:
                kinds.append(needed)
        return tuple(kinds)

    @property
    def reasons(self) -> tuple[ReasonCode, ...]:
        relevant = self.failures if self.result is DecisionResult.DENY else self.outcomes
        return tuple(
            outcome.reason
            for outcome in relevant
            if outcome.reason is not None
            and (self.result is DecisionResult.DENY or outcome.verdict is Verdict.CHALLENGE)
        )
