"""Bodies of recall eligibility, recalls, decisions and step-up challenges.

Every decision travels with its explanation in the request's language (R-U1): the button,
the cause, one sentence per reason, the next steps, the refund plan, and the decision id to
quote to support.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, StrictBool

from hongbao.entrypoints.http.schemas import NO_CONTROL, Amount, Body, Id, iso_time
from hongbao.entrypoints.http.schemas.variants import (
    Absent,
    Required,
    Variant,
    VariantBody,
    Variants,
)
from hongbao.identity.verification import (
    MAX_ANSWER_LENGTH,
    MAX_CORPORATE_ACCOUNT_DIGITS,
    MIN_CORPORATE_ACCOUNT_DIGITS,
    AnswerOutcome,
    Challenge,
    ChallengeKind,
    VerificationErrorCode,
)
from hongbao.platform.i18n import Language
from hongbao.recall.explanations import cause_name, explain, reason_text
from hongbao.recall.gather import MAX_CHALLENGES
from hongbao.recall.model import Decision, DecisionResult, FactValue, RuleOutcome
from hongbao.recall.records import DecisionRecord
from hongbao.recall.service import RecallOutcome
from hongbao.social.words import RecallCost


class ExplanationView(Body):
    language: Language
    button: str  # enabled | challenge | disabled
    cause: str | None  # a denial's cause (R-U1), see recall/explanations/causes.py
    cause_text: str | None
    headline: str
    reasons: list[str]
    next_steps: list[str]
    verifications: list[ChallengeKind]
    retry_at_us: int | None
    retry_at: str | None
    refund: str | None  # where the money would go, when, at what cost
    accept_balance: bool  # smart routing offers the balance: repeat with accept_balance
    # What the recall would cost socially (R-S1..R-S5), before it is made; never part of the
    # decision. Only on the eligibility answer, and not for a denial.
    social_cost: str | None = None

    @classmethod
    def of(
        cls, decision: Decision, language: Language, social_cost: RecallCost | None = None
    ) -> ExplanationView:
        words = explain(decision, language)
        return cls(
            language=language,
            button=words.button.value,
            cause=None if words.cause is None else words.cause.value,
            cause_text=None if words.cause is None else cause_name(words.cause, language),
            headline=words.headline,
            reasons=list(words.reasons),
            next_steps=list(words.next_steps),
            verifications=list(words.verifications),
            retry_at_us=words.retry_at_us,
            retry_at=iso_time(words.retry_at_us),
            refund=words.refund,
            accept_balance=words.accept_balance,
            social_cost=(
                None
                if social_cost is None or decision.result is DecisionResult.DENY
                else social_cost.in_language(language)
            ),
        )


class EligibilityView(Body):
    packet_id: str
    decision_id: str
    result: str  # allow | challenge | deny
    explanation: ExplanationView

    @classmethod
    def of(
        cls,
        packet_id: str,
        decision: Decision,
        language: Language,
        social_cost: RecallCost | None = None,
    ) -> EligibilityView:
        return cls(
            packet_id=packet_id,
            decision_id=decision.decision_id,
            result=decision.result.value,
            explanation=ExplanationView.of(decision, language, social_cost),
        )


class RecallBody(Body):
    challenge_ids: Annotated[tuple[Id, ...], Field(max_length=MAX_CHALLENGES)] = ()
    accept_balance: StrictBool = False  # take the balance when smart routing offers it


class RecallView(Body):
    recall_key: str
    packet_id: str
    requester_id: str
    state: str  # challenged | denied | done
    result: str  # the last decision's: allow | challenge | deny
    decision_id: str
    explanation: ExplanationView
    challenge_ids: list[str]  # opened for this recall: answer them, then repeat the recall
    challenge_purpose: str | None  # what to send with each answer
    route: str | None  # void_hold | refund, once done
    recalled: Amount | None
    refund_id: str | None
    created_at_us: int
    updated_at_us: int
    executed_at_us: int | None
    executed_at: str | None

    @classmethod
    def of(cls, outcome: RecallOutcome, language: Language) -> RecallView:
        recall, decision = outcome.recall, outcome.decision
        recalled = recall.recalled_minor
        return cls(
            recall_key=recall.idempotency_key,
            packet_id=recall.packet_id,
            requester_id=recall.requester_id,
            state=recall.state.value,
            result=decision.result.value,
            decision_id=decision.decision_id,
            explanation=ExplanationView.of(decision, language),
            challenge_ids=list(recall.challenge_ids),
            challenge_purpose=recall.challenge_purpose,
            route=None if recall.route is None else recall.route.value,
            recalled=None if recalled is None else Amount.of(recalled, recall.currency),
            refund_id=recall.refund_id,
            created_at_us=recall.created_at_us,
            updated_at_us=recall.updated_at_us,
            executed_at_us=recall.executed_at_us,
            executed_at=iso_time(recall.executed_at_us),
        )


class NextStepView(Body):
    kind: str
    retry_at_us: int | None
    verification: ChallengeKind | None


class RuleView(Body):
    rule: str
    requirement: str  # the SPEC id, e.g. R-T3
    verdict: str
    reason: str | None
    words: str | None  # the reason in plain words
    facts: dict[str, FactValue]  # what the rule looked at: minor units, microseconds, flags
    next_step: NextStepView | None
    exempted_by: list[str]

    @classmethod
    def of(cls, outcome: RuleOutcome, language: Language) -> RuleView:
        step = outcome.next_step
        return cls(
            rule=outcome.rule,
            requirement=outcome.requirement,
            verdict=outcome.verdict.value,
            reason=None if outcome.reason is None else outcome.reason.value,
            words=None if outcome.reason is None else reason_text(outcome, language),
            facts=dict(outcome.facts),
            next_step=None
            if step is None
            else NextStepView(
                kind=step.kind.value, retry_at_us=step.retry_at_us, verification=step.verification
            ),
            exempted_by=list(outcome.exempted_by),
        )


class DecisionView(Body):
    decision_id: str
    packet_id: str
    requester_id: str
    device_id: str
    purpose: str  # query (the button) | recall
    recall_key: str | None
    policy_version: str
    shadow: bool
    result: str
    created_at_us: int
    created_at: str
    rules: list[RuleView]  # every rule's outcome, in evaluation order
    explanation: ExplanationView

    @classmethod
    def of(cls, record: DecisionRecord, decision: Decision, language: Language) -> DecisionView:
        return cls(
            decision_id=record.decision_id,
            packet_id=record.packet_id,
            requester_id=record.requester_id,
            device_id=record.device_id,
            purpose=record.purpose.value,
            recall_key=record.recall_key,
            policy_version=record.policy_version,
            shadow=record.shadow,
            result=record.result.value,
            created_at_us=record.created_at_us,
            created_at=iso_time(record.created_at_us),
            rules=[RuleView.of(outcome, language) for outcome in decision.outcomes],
            explanation=ExplanationView.of(decision, language),
        )


CorporateAccount = Annotated[
    str,
    Field(pattern=rf"^[0-9]{{{MIN_CORPORATE_ACCOUNT_DIGITS},{MAX_CORPORATE_ACCOUNT_DIGITS}}}$"),
]


# Only a corporate account check takes (and needs) the account number.
CHALLENGE_VARIANTS = Variants(
    "kind",
    (
        Variant(
            "corporate_account",
            (ChallengeKind.CORPORATE_ACCOUNT,),
            (Required("corporate_account", VerificationErrorCode.CORPORATE_ACCOUNT_REQUIRED),),
        ),
        Variant(
            "other",
            tuple(kind for kind in ChallengeKind if kind is not ChallengeKind.CORPORATE_ACCOUNT),
            (Absent("corporate_account", VerificationErrorCode.CORPORATE_ACCOUNT_UNEXPECTED),),
        ),
    ),
)


class ChallengeBody(Body, VariantBody):
    variants: ClassVar[Variants] = CHALLENGE_VARIANTS
    kind: ChallengeKind
    purpose: Id  # what the check is for (an id such as 'recall:p-1'); the answer names it again
    # Only for corporate_account checks: sent to the provider, never stored or shown.
    corporate_account: CorporateAccount | None = None


class ChallengeView(Body):
    id: str
    kind: ChallengeKind
    user_id: str
    device_id: str
    purpose: str
    state: str  # pending | passed | consumed | locked | expired
    attempts_remaining: int
    max_attempts: int
    created_at_us: int
    expires_at_us: int
    expires_at: str

    @classmethod
    def of(cls, challenge: Challenge, now_us: int) -> ChallengeView:
        return cls(
            id=challenge.challenge_id,
            kind=challenge.kind,
            user_id=challenge.user_id,
            device_id=challenge.device_id,
            purpose=challenge.purpose,
            state=challenge.state_at(now_us).value,
            attempts_remaining=challenge.attempts_remaining,
            max_attempts=challenge.max_attempts,
            created_at_us=challenge.created_at_us,
            expires_at_us=challenge.expires_at_us,
            expires_at=iso_time(challenge.expires_at_us),
        )


class AnswerBody(Body):
    purpose: Id
    answer: Annotated[str, Field(min_length=1, max_length=MAX_ANSWER_LENGTH, pattern=NO_CONTROL)]


class AnswerView(Body):
    challenge_id: str
    result: str  # passed | wrong_answer | locked | expired | already_passed | ...
    attempts_remaining: int | None

    @classmethod
    def of(cls, challenge_id: str, outcome: AnswerOutcome) -> AnswerView:
        return cls(
            challenge_id=challenge_id,
            result=outcome.result.value,
            attempts_remaining=outcome.attempts_remaining,
        )


class CodeView(Body):
    challenge_id: str
    code: str  # the simulated provider's SMS code (drills and demos only)
