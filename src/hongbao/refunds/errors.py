# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The error codes of refunds: requests that cannot be routed, and unknown refunds."""

from __future__ import annotations

from hongbao.platform.errors import ErrorCode, Outcome


class RefundCode(ErrorCode):
    """Codes of the errors the refunds context raises; clients switch on their wire values."""

    REFUSED = "refunds.refused", Outcome.REFUSED, "这笔退款无法办理。", "The refund is refused."
    UNKNOWN_REFUND = (
        "refunds.unknown_refund",
        Outcome.NOT_FOUND,
        "找不到这笔退款。",
        "No such refund.",
    )
    NOT_FAILED = (
        "refunds.not_failed",
        Outcome.CONFLICT,
        "只有支付失败的退款才能转入零钱。",
        "Only a failed refund can be moved to the balance.",
    )
    NOT_MONEY = (
        "refunds.not_money",
        Outcome.REFUSED,
        "退款金额必须是有效的金额。",
        "A refund amount must be money.",
    )
    AMOUNT_NOT_POSITIVE = (
        "refunds.amount_not_positive",
        Outcome.REFUSED,
        "退款金额必须大于零。",
        "A refund amount must be positive.",
    )
    CURRENCY_NOT_SUPPORTED = (
        "refunds.currency_not_supported",
        Outcome.REFUSED,
        "退款不支持这个币种。",
        "Refunds are not made in this currency.",
    )
    CHARGE_AFTER_NOW = (
        "refunds.charge_after_now",
        Outcome.REFUSED,
        "付款时间晚于当前时间，无法退款。",
        "The charge is later than now.",
    )
    INVALID_SOURCE = (
        "refunds.invalid_source",
        Outcome.REFUSED,
        "退款只能退回到一个付款方式。",
        "A refund goes back to a funding source.",
    )
    INVALID_STATUS = (
        "refunds.invalid_status",
        Outcome.REFUSED,
        "发红包用户的账户状态有误。",
        "The sender's status is invalid.",
    )
    INVALID_FLAG = (
        "refunds.invalid_flag",
        Outcome.REFUSED,
        "退款的开关选项只能是开启或关闭。",
        "A refund flag must be true or false.",
    )
    INVALID_TIME = (
        "refunds.invalid_time",
        Outcome.REFUSED,
        "退款的时间有误。",
        "A refund time is invalid.",
    )
    INVALID_DAY = "refunds.invalid_day", Outcome.REFUSED, "日期有误。", "The day is invalid."
    INVALID_START = (
        "refunds.invalid_start",
        Outcome.REFUSED,
        "起始时间有误。",
        "The start time is invalid.",
    )
    BUSINESS_DAYS_OUT_OF_RANGE = (
        "refunds.business_days_out_of_range",
        Outcome.REFUSED,
        "工作日天数超出了允许的范围。",
        "The number of business days is out of range.",
    )
    DRILL_INVALID = (
        "refunds.drill_invalid",
        Outcome.REFUSED,
        "退款演练的设置有误。",
        "The refund drill is invalid.",
    )
