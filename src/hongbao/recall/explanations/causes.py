"""The six user-facing causes of a denial (R-U1), which reason falls under which, and their
names in both languages."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from hongbao.platform.i18n import Language
from hongbao.recall.explanations.words import Texts
from hongbao.recall.reasons import ReasonCode


class Cause(StrEnum):
    """The six user-facing causes of a denial (R-U1). Stable: clients switch on them."""

    PARTIALLY_CLAIMED = "partially_claimed"
    PAST_TIME_WINDOW = "past_time_window"
    SECURITY_LEVEL_TOO_LOW = "security_level_too_low"
    DEVICE_ENVIRONMENT_ABNORMAL = "device_environment_abnormal"
    SYSTEM_SETTLING = "system_settling"
    RISK_CONTROL = "risk_control"


CAUSES: Mapping[ReasonCode, Cause] = MappingProxyType(
    {
        ReasonCode.ALREADY_RECALLED: Cause.PAST_TIME_WINDOW,
        ReasonCode.EXPIRED: Cause.PAST_TIME_WINDOW,
        ReasonCode.EXHAUSTED: Cause.PARTIALLY_CLAIMED,
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
    }
)


def cause_name(cause: Cause, language: Language) -> str:
    """The cause in a few plain words."""
    return CAUSE_NAMES[cause].in_language(language)
