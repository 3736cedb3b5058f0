# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""Why risk control stands in the way, in words: a verification, a review, a lock, a block."""

from __future__ import annotations

from hongbao.identity.verification import ChallengeKind
from hongbao.recall.explanations.steps import (
    ANY_VERIFICATION,
    VERIFICATION_STEPS,
    verification_named,
)
from hongbao.recall.explanations.words import Texts
from hongbao.recall.model import RuleOutcome


def risk_challenge(outcome: RuleOutcome) -> Texts:
    # The rule records no verification among its facts: its next step names it.
    kind = verification_named(outcome, None) or ChallengeKind.FACE
    check = VERIFICATION_STEPS.get(kind, ANY_VERIFICATION)
    return Texts(
        f"为了保护您的资金安全，这次撤回需要先完成{check.name.zh}。",
        f"To protect your money, this recall needs {check.name.en} first.",
    )


def risk_hold(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "为了保护您的资金安全，这次撤回需要人工审核，现在还不能完成。",
        "To protect your money, this recall needs a review by our staff and cannot go ahead "
        "right now.",
    )


def risk_lock(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "为了保护您的资金安全，您的账户暂时被锁定，不能撤回。",
        "To protect your money, your account is locked for now and cannot recall.",
    )


def risk_block(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "为了保护您的资金安全，这次撤回被拦截了。",
        "To protect your money, this recall has been stopped.",
    )
