# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""Next steps in words: retry at a time, complete a named verification, accept the balance,
switch to the sending device, or contact support quoting the decision id."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from hongbao.identity.verification import ChallengeKind
from hongbao.platform.i18n import Language
from hongbao.recall.explanations.words import Texts, beijing_us
from hongbao.recall.model import NextStep, NextStepKind, RuleOutcome
from hongbao.recall.reasons import ReasonCode


class VerificationTexts(NamedTuple):
    """A verification's name (fits "needs {name}" / "完成{name}") and its instruction."""

    name: Texts
    step: Texts


VERIFICATION_STEPS: Mapping[ChallengeKind, VerificationTexts] = MappingProxyType(
    {
        ChallengeKind.SMS_CODE: VerificationTexts(
            Texts("短信验证码验证", "an SMS code check"),
            Texts(
                "请输入发到您手机上的短信验证码。",
                "Enter the SMS verification code we send to your phone.",
            ),
        ),
        ChallengeKind.FACE: VerificationTexts(
            Texts("人脸识别", "face verification"),
            Texts("请完成人脸识别。", "Complete face verification."),
        ),
        ChallengeKind.CORPORATE_ACCOUNT: VerificationTexts(
            Texts("企业对公账户验证", "a corporate bank account check"),
            Texts(
                "请完成企业对公账户验证。",
                "Complete the corporate bank account check for your company.",
            ),
        ),
        ChallengeKind.SECURITY_ENVIRONMENT: VerificationTexts(
            Texts("安全环境检测", "a security environment check"),
            Texts(
                "请在这部手机上完成安全环境检测。",
                "Complete the security environment check on this phone.",
            ),
        ),
    }
)
ANY_VERIFICATION = VerificationTexts(
    Texts("安全验证", "a security check"),
    Texts("请完成安全验证。", "Complete the security check."),
)


def verification_named(outcome: RuleOutcome, recorded: str | None) -> ChallengeKind | None:
    """The verification an outcome asks for: its next step's, else the one its facts name."""
    step = outcome.next_step
    if step is not None and step.verification is not None:
        return step.verification
    try:
        return ChallengeKind(recorded) if recorded is not None else None
    except ValueError:
        return None


# Steps that only one reason has (R-D6): what to change on the device, then try again.
REASON_STEPS: Mapping[ReasonCode, Texts] = MappingProxyType(
    {
        ReasonCode.POWER_SAVING_MODE: Texts(
            "请关闭省电模式（设置 > 电池），然后再撤回一次。",
            "Turn power-saving mode off (Settings > Battery), then recall again.",
        ),
        ReasonCode.GAME_ACCELERATION_ON: Texts(
            "请关闭游戏加速（游戏工具箱或手机管家里），然后再撤回一次。",
            "Turn game acceleration off (in the game toolbox or the security app), then "
            "recall again.",
        ),
    }
)


def retry_text(retry_at_us: int | None) -> Texts:
    when = beijing_us(retry_at_us) if retry_at_us is not None else None
    if when is None:
        return Texts("请过一会儿再试。", "Try again in a little while.")
    return Texts(f"请在北京时间 {when} 以后再试。", f"Try again after {when} Beijing time.")


def support_text(decision_id: str) -> Texts:
    return Texts(
        f"如需帮助，请联系客服，并告诉客服处理编号：{decision_id}。",
        f"If you need help, contact customer support and give them this reference: {decision_id}.",
    )


def next_step_text(step: NextStep, language: Language, decision_id: str) -> str:
    """One instruction for ``step``; a contact-support step always quotes ``decision_id``."""
    if step.kind is NextStepKind.RETRY_AT:
        texts = retry_text(step.retry_at_us)
    elif step.kind is NextStepKind.VERIFY:
        kind = step.verification
        check = VERIFICATION_STEPS.get(kind, ANY_VERIFICATION) if kind else ANY_VERIFICATION
        texts = check.step
    elif step.kind is NextStepKind.ACCEPT_BALANCE:
        texts = Texts(
            "如同意退到零钱，请确认后再次撤回。",
            "If the balance is fine, accept it and recall again.",
        )
    elif step.kind is NextStepKind.SWITCH_DEVICE:
        texts = Texts(
            "请换用发出这个红包的那部手机再试。",
            "Use the phone you sent this red packet from and try again.",
        )
    else:
        texts = support_text(decision_id)
    return texts.in_language(language)
