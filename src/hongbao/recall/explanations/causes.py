# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The user-facing causes of a denial (R-U1), which reason falls under which, their names in
both languages and, for the causes that have one, the step that fits only them.

The six causes of R-U1 cover a packet that could be recalled but not now or not by this
person. A packet with nothing left to recall has a cause of its own: calling a packet claimed
in full "partially claimed", or a recall that lost a race "past the time window", sent people
looking for a fix that does not exist."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from hongbao.platform.i18n import Language
from hongbao.recall.explanations.words import Texts
from hongbao.recall.reasons import ReasonCode


class Cause(StrEnum):
    """The user-facing causes of a denial (R-U1's six, and the two states with nothing left to
    recall). Stable: clients switch on them."""

    PARTIALLY_CLAIMED = "partially_claimed"
    PAST_TIME_WINDOW = "past_time_window"
    SECURITY_LEVEL_TOO_LOW = "security_level_too_low"
    DEVICE_ENVIRONMENT_ABNORMAL = "device_environment_abnormal"
    SYSTEM_SETTLING = "system_settling"
    RISK_CONTROL = "risk_control"
    FULLY_CLAIMED = "fully_claimed"
    ALREADY_RECALLED = "already_recalled"


CAUSES: Mapping[ReasonCode, Cause] = MappingProxyType(
    {
        ReasonCode.ALREADY_RECALLED: Cause.ALREADY_RECALLED,
        ReasonCode.EXPIRED: Cause.PAST_TIME_WINDOW,
        ReasonCode.EXHAUSTED: Cause.FULLY_CLAIMED,
        ReasonCode.RECALL_IN_PROGRESS: Cause.SYSTEM_SETTLING,
        ReasonCode.NOT_DELIVERED: Cause.SYSTEM_SETTLING,
        ReasonCode.UNCLAIMED_WINDOW_PASSED: Cause.PAST_TIME_WINDOW,
        ReasonCode.LUCKY_WINDOW_PASSED: Cause.PARTIALLY_CLAIMED,
        ReasonCode.TYPE_WINDOW_PASSED: Cause.PAST_TIME_WINDOW,
        ReasonCode.BLACKOUT: Cause.SYSTEM_SETTLING,
        ReasonCode.REMAINDER_BELOW_MINIMUM: Cause.PARTIALLY_CLAIMED,
        ReasonCode.ESCROW_MISMATCH: Cause.SYSTEM_SETTLING,
        ReasonCode.NOT_SENDER: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.ACCOUNT_RESTRICTED: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.NOT_SENDING_DEVICE: Cause.DEVICE_ENVIRONMENT_ABNORMAL,
        ReasonCode.SENDING_DEVICE_UNKNOWN: Cause.DEVICE_ENVIRONMENT_ABNORMAL,
        ReasonCode.FACE_REQUIRED: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.NEW_ACCOUNT_LARGE_AMOUNT: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.TIER_CANNOT_RECALL: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.DAILY_COUNT_REACHED: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.DAILY_AMOUNT_REACHED: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.TIER_VERIFICATION_REQUIRED: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.WATCH_CAP: Cause.DEVICE_ENVIRONMENT_ABNORMAL,
        ReasonCode.SECURITY_ENVIRONMENT_REQUIRED: Cause.DEVICE_ENVIRONMENT_ABNORMAL,
        ReasonCode.POWER_SAVING_MODE: Cause.DEVICE_ENVIRONMENT_ABNORMAL,
        ReasonCode.GAME_ACCELERATION_ON: Cause.DEVICE_ENVIRONMENT_ABNORMAL,
        ReasonCode.RISK_CHALLENGE: Cause.RISK_CONTROL,
        ReasonCode.RISK_HOLD: Cause.RISK_CONTROL,
        ReasonCode.RISK_LOCK: Cause.RISK_CONTROL,
        ReasonCode.RISK_BLOCK: Cause.RISK_CONTROL,
        ReasonCode.REFUND_BANK_MAINTENANCE: Cause.SYSTEM_SETTLING,
        ReasonCode.REFUND_STATEMENT_ISSUED: Cause.PAST_TIME_WINDOW,
        ReasonCode.REFUND_ACCOUNT_ABNORMAL: Cause.SECURITY_LEVEL_TOO_LOW,
        ReasonCode.REFUND_FX_RATE_UNAVAILABLE: Cause.SYSTEM_SETTLING,
        ReasonCode.REFUND_BALANCE_INSTEAD: Cause.SYSTEM_SETTLING,
        ReasonCode.RULE_ERROR: Cause.SYSTEM_SETTLING,
    }
)
# A failing outcome without a reason code is a fault on our side, like a rule that raised.
CAUSE_WITHOUT_REASON = Cause.SYSTEM_SETTLING

CAUSE_NAMES: Mapping[Cause, Texts] = MappingProxyType(
    {
        Cause.PARTIALLY_CLAIMED: Texts("红包已有人领取", "someone has already claimed from it"),
        Cause.PAST_TIME_WINDOW: Texts("已超过撤回时间", "the time for recalling it has passed"),
        Cause.SECURITY_LEVEL_TOO_LOW: Texts(
            "账户安全等级不够", "your account's security level is not high enough"
        ),
        Cause.DEVICE_ENVIRONMENT_ABNORMAL: Texts(
            "设备环境异常", "there is a problem with the device you are using"
        ),
        Cause.SYSTEM_SETTLING: Texts("系统正在结算", "the system is busy settling accounts"),
        Cause.RISK_CONTROL: Texts("安全风控限制", "our security checks have stopped it"),
        Cause.FULLY_CLAIMED: Texts(
            "红包已被全部领完", "it has been claimed in full, so nothing is left to recall"
        ),
        Cause.ALREADY_RECALLED: Texts(
            "红包已经撤回过了", "it has already been recalled, so its money is on its way back"
        ),
    }
)

# The step that only this cause has, shown before the rules' own steps: what to do instead
# of trying again.
CAUSE_STEPS: Mapping[Cause, Texts] = MappingProxyType(
    {
        Cause.FULLY_CLAIMED: Texts(
            "钱已经到了领取人手里，撤回不会再退回任何钱；如果发错了，请直接联系领取人转回。",
            "The money is with the people who claimed it and a recall cannot bring any of it "
            "back; if it was sent by mistake, ask them to transfer it back to you.",
        ),
        Cause.ALREADY_RECALLED: Texts(
            "不用再撤回：在钱包的资金流水或撤回结果页查看退款到了哪里、何时到账。",
            "No need to recall again: see where the refund is and when it arrives in your "
            "wallet's money movements or on the recall's result page.",
        ),
    }
)


def cause_name(cause: Cause, language: Language) -> str:
    """The cause in a few plain words."""
    return CAUSE_NAMES[cause].in_language(language)


def cause_step(cause: Cause, language: Language) -> str | None:
    """The step that fits only this cause, or None when the rules' own steps say it all."""
    step = CAUSE_STEPS.get(cause)
    return None if step is None else step.in_language(language)
