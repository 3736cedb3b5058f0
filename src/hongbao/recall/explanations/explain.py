# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""A whole decision in words (R-U1): the recall button's state, the headline, one sentence per
failing rule or challenge, the next steps and the refund plan."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hongbao.identity.verification import ChallengeKind
from hongbao.platform.i18n import Language
from hongbao.recall.explanations.causes import (
    CAUSE_NAMES,
    CAUSE_WITHOUT_REASON,
    CAUSES,
    Cause,
    cause_step,
)
from hongbao.recall.explanations.reasons import reason_text
from hongbao.recall.explanations.refund_texts import refund_text
from hongbao.recall.explanations.steps import REASON_STEPS, next_step_text
from hongbao.recall.explanations.words import Texts
from hongbao.recall.model import (
    Decision,
    DecisionResult,
    NextStep,
    NextStepKind,
    RuleOutcome,
    Verdict,
)


class ButtonState(StrEnum):
    """The recall button: usable, usable after verification, or not usable now."""

    ENABLED = "enabled"
    CHALLENGE = "challenge"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class Explanation:
    """A decision in words, for one language.

    ``cause`` is the cause of the first failing rule of a denial (None unless denied).
    ``reasons`` holds one sentence per failing rule (denial) or per challenge (challenge).
    ``retry_at_us`` is the latest retry time among the failing rules, so that a retry then is
    not refused again for a known reason; None when waiting alone cannot help.
    """

    decision_id: str
    button: ButtonState
    cause: Cause | None
    headline: str
    reasons: tuple[str, ...]
    next_steps: tuple[str, ...]
    verifications: tuple[ChallengeKind, ...]
    retry_at_us: int | None
    refund: str | None = None  # where the money would go, when, at what cost (R-F1..R-F4)
    accept_balance: bool = False  # smart routing: the sender may accept the balance instead


_ALLOWED = Texts("可以撤回这个红包。", "You can recall this red packet.")
_CHALLENGED = Texts("撤回前请先完成验证。", "Please complete a quick check before recalling.")
_SUPPORT = NextStep(NextStepKind.CONTACT_SUPPORT)


def _unique(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(texts))


def _denied(cause: Cause) -> Texts:
    name = CAUSE_NAMES[cause]
    return Texts(
        f"现在不能撤回这个红包：{name.zh}。", f"This red packet cannot be recalled now: {name.en}."
    )


def _latest_retry(failures: tuple[RuleOutcome, ...]) -> tuple[bool, int | None]:
    """Whether waiting can cure every failure, and the latest known time to wait for."""
    steps = [outcome.next_step for outcome in failures]
    curable = all(
        step is not None and step.kind is not NextStepKind.CONTACT_SUPPORT for step in steps
    )
    times = [
        step.retry_at_us
        for step in steps
        if step is not None and step.kind is NextStepKind.RETRY_AT and step.retry_at_us is not None
    ]
    return curable, (max(times) if curable and times else None)


def _explain_denial(decision: Decision, language: Language) -> Explanation:
    # A denial without a failing rule is malformed: explain it as a fault on our side.
    failures = decision.failures or (RuleOutcome("decision", "R-U1", Verdict.ERROR),)
    first = failures[0].reason
    cause = CAUSE_WITHOUT_REASON if first is None else CAUSES.get(first, CAUSE_WITHOUT_REASON)
    curable, retry_at_us = _latest_retry(failures)
    own_step = cause_step(cause, language)
    steps: list[str] = [] if own_step is None else [own_step]
    for outcome in failures:
        own = REASON_STEPS.get(outcome.reason) if outcome.reason is not None else None
        if own is not None:
            steps.append(own.in_language(language))
            continue
        step = outcome.next_step or _SUPPORT
        if step.kind is NextStepKind.RETRY_AT:
            if not curable:  # another failure stays after the wait: retrying would be refused
                continue
            step = NextStep(NextStepKind.RETRY_AT, retry_at_us=retry_at_us)
        steps.append(next_step_text(step, language, decision.decision_id))
    support = next_step_text(_SUPPORT, language, decision.decision_id)
    steps.sort(key=lambda text: text == support)  # stable: what the user can do comes first
    return Explanation(
        decision_id=decision.decision_id,
        button=ButtonState.DISABLED,
        cause=cause,
        headline=_denied(cause).in_language(language),
        reasons=_unique(reason_text(outcome, language) for outcome in failures),
        next_steps=_unique(steps),
        verifications=(),
        retry_at_us=retry_at_us,
    )


def explain(decision: Decision, language: Language) -> Explanation:
    """The decision in words for the recall button, its dialog and the support handoff."""
    if decision.result is DecisionResult.DENY:
        return _explain_denial(decision, language)
    if decision.result is DecisionResult.CHALLENGE:
        kinds = decision.challenges
        challenged = [o for o in decision.outcomes if o.verdict is Verdict.CHALLENGE]
        accept = [
            o.next_step
            for o in challenged
            if o.next_step is not None and o.next_step.kind is NextStepKind.ACCEPT_BALANCE
        ]
        steps = [NextStep(NextStepKind.VERIFY, verification=kind) for kind in kinds] + accept
        return Explanation(
            decision_id=decision.decision_id,
            button=ButtonState.CHALLENGE,
            cause=None,
            headline=_CHALLENGED.in_language(language),
            reasons=_unique(reason_text(outcome, language) for outcome in challenged),
            next_steps=_unique(
                next_step_text(step, language, decision.decision_id) for step in steps
            ),
            verifications=kinds,
            retry_at_us=None,
            refund=refund_text(decision, language),
            accept_balance=bool(accept),
        )
    return Explanation(
        decision_id=decision.decision_id,
        button=ButtonState.ENABLED,
        cause=None,
        headline=_ALLOWED.in_language(language),
        reasons=(),
        next_steps=(),
        verifications=(),
        retry_at_us=None,
        refund=refund_text(decision, language),
    )
