# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""One plain sentence per reason code (the catalogue :data:`REASON_TEXTS`), built from the
facts of the rule that gave it; the words themselves live in a module per family."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from hongbao.platform.i18n import Language
from hongbao.recall.explanations import (
    account_reasons,
    device_reasons,
    packet_reasons,
    refund_texts,
    risk_reasons,
)
from hongbao.recall.explanations.words import Texts
from hongbao.recall.model import RuleOutcome, Verdict
from hongbao.recall.reasons import ReasonCode


def rule_error(outcome: RuleOutcome) -> Texts:
    del outcome  # the error detail is for operators, never shown to the user
    return Texts(
        "系统出了点问题，暂时无法确认这个红包能不能撤回。",
        "Something went wrong on our side, so we cannot check whether this red packet can be "
        "recalled right now.",
    )


REASON_TEXTS: Mapping[ReasonCode, Callable[[RuleOutcome], Texts]] = MappingProxyType(
    {
        ReasonCode.ALREADY_RECALLED: packet_reasons.already_recalled,
        ReasonCode.NOT_DELIVERED: packet_reasons.not_delivered,
        ReasonCode.EXPIRED: packet_reasons.expired,
        ReasonCode.EXHAUSTED: packet_reasons.exhausted,
        ReasonCode.RECALL_IN_PROGRESS: packet_reasons.recall_in_progress,
        ReasonCode.UNCLAIMED_WINDOW_PASSED: packet_reasons.unclaimed_window_passed,
        ReasonCode.LUCKY_WINDOW_PASSED: packet_reasons.lucky_window_passed,
        ReasonCode.TYPE_WINDOW_PASSED: packet_reasons.type_window_passed,
        ReasonCode.BLACKOUT: packet_reasons.blackout,
        ReasonCode.REMAINDER_BELOW_MINIMUM: packet_reasons.remainder_below_minimum,
        ReasonCode.ESCROW_MISMATCH: packet_reasons.escrow_mismatch,
        ReasonCode.NOT_SENDER: account_reasons.not_sender,
        ReasonCode.ACCOUNT_RESTRICTED: account_reasons.account_restricted,
        ReasonCode.NOT_SENDING_DEVICE: device_reasons.not_sending_device,
        ReasonCode.SENDING_DEVICE_UNKNOWN: device_reasons.sending_device_unknown,
        ReasonCode.FACE_REQUIRED: account_reasons.face_required,
        ReasonCode.NEW_ACCOUNT_LARGE_AMOUNT: account_reasons.new_account_large_amount,
        ReasonCode.TIER_CANNOT_RECALL: account_reasons.tier_cannot_recall,
        ReasonCode.DAILY_COUNT_REACHED: account_reasons.daily_count_reached,
        ReasonCode.DAILY_AMOUNT_REACHED: account_reasons.daily_amount_reached,
        ReasonCode.TIER_VERIFICATION_REQUIRED: account_reasons.tier_verification_required,
        ReasonCode.WATCH_CAP: device_reasons.watch_cap,
        ReasonCode.SECURITY_ENVIRONMENT_REQUIRED: device_reasons.security_environment_required,
        ReasonCode.POWER_SAVING_MODE: device_reasons.power_saving_mode,
        ReasonCode.GAME_ACCELERATION_ON: device_reasons.game_acceleration_on,
        ReasonCode.RISK_CHALLENGE: risk_reasons.risk_challenge,
        ReasonCode.RISK_HOLD: risk_reasons.risk_hold,
        ReasonCode.RISK_LOCK: risk_reasons.risk_lock,
        ReasonCode.RISK_BLOCK: risk_reasons.risk_block,
        ReasonCode.REFUND_BANK_MAINTENANCE: refund_texts.refund_bank_maintenance,
        ReasonCode.REFUND_STATEMENT_ISSUED: refund_texts.refund_statement_issued,
        ReasonCode.REFUND_ACCOUNT_ABNORMAL: refund_texts.refund_account_abnormal,
        ReasonCode.REFUND_FX_RATE_UNAVAILABLE: refund_texts.refund_fx_rate_unavailable,
        ReasonCode.REFUND_BALANCE_INSTEAD: refund_texts.refund_balance_instead,
        ReasonCode.RULE_ERROR: rule_error,
    }
)

_VERIFICATION_NEEDED = Texts(
    "撤回前需要先完成一次验证。", "A quick check is needed before this recall."
)
_CHECK_PASSED = Texts("这一项检查没有问题。", "This check passed.")


def reason_text(outcome: RuleOutcome, language: Language) -> str:
    """One plain sentence saying why ``outcome`` stands in the way, using its facts."""
    wording = REASON_TEXTS.get(outcome.reason) if outcome.reason is not None else None
    if wording is not None:
        return wording(outcome).in_language(language)
    if outcome.blocks:  # a failure without a known reason is a fault on our side
        return rule_error(outcome).in_language(language)
    if outcome.verdict is Verdict.CHALLENGE:
        return _VERIFICATION_NEEDED.in_language(language)
    return _CHECK_PASSED.in_language(language)
