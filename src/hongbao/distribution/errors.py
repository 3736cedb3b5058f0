# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The error codes of enterprise budget distribution."""

from __future__ import annotations

from hongbao.platform.errors import ErrorCode, Outcome


class DistributionCode(ErrorCode):
    """Codes of the errors the distribution context raises; clients switch on their wire
    values."""

    INVALID = (
        "distribution.invalid",
        Outcome.REFUSED,
        "预算请求有误。",
        "The budget request is invalid.",
    )
    ID_INVALID = (
        "distribution.id_invalid",
        Outcome.REFUSED,
        "编号无效。",
        "An id is invalid.",
    )
    INVALID_BUDGET = (
        "distribution.invalid_budget",
        Outcome.REFUSED,
        "预算设置有误。",
        "The budget is invalid.",
    )
    UNKNOWN_BUDGET = (
        "distribution.unknown_budget",
        Outcome.NOT_FOUND,
        "找不到这个预算。",
        "No such budget.",
    )
    UNKNOWN_USER = (
        "distribution.unknown_user",
        Outcome.NOT_FOUND,
        "找不到这个用户。",
        "No such user.",
    )
    BUDGET_EXISTS = (
        "distribution.budget_exists",
        Outcome.CONFLICT,
        "这个预算编号已被使用，且登记的信息不同。",
        "This budget id is taken with other details.",
    )
    BUDGET_CLOSED = (
        "distribution.budget_closed",
        Outcome.REFUSED,
        "这个预算已关闭。",
        "The budget is closed.",
    )
    HAS_OPEN_CHILDREN = (
        "distribution.has_open_children",
        Outcome.REFUSED,
        "请先关闭下级预算。",
        "The budget has open children; close them first.",
    )
    TOO_DEEP = (
        "distribution.too_deep",
        Outcome.REFUSED,
        "预算层级太深，不能再往下分配。",
        "The budget cannot allocate further down.",
    )
    NOT_ENTERPRISE = (
        "distribution.not_enterprise",
        Outcome.REFUSED,
        "只有企业账户可以使用预算。",
        "Only an enterprise may hold budgets.",
    )
    USER_RESTRICTED = (
        "distribution.user_restricted",
        Outcome.REFUSED,
        "这个账户受到限制，暂时不能使用预算。",
        "The account is restricted.",
    )
    NOT_MONEY = (
        "distribution.not_money",
        Outcome.REFUSED,
        "金额必须是有效的金额。",
        "An amount must be money.",
    )
    AMOUNT_NOT_POSITIVE = (
        "distribution.amount_not_positive",
        Outcome.REFUSED,
        "金额必须大于零。",
        "An amount must be positive.",
    )
    CURRENCY_NOT_SUPPORTED = (
        "distribution.currency_not_supported",
        Outcome.REFUSED,
        "预算不支持这个币种。",
        "Budgets are not kept in this currency.",
    )
    CURRENCY_MISMATCH = (
        "distribution.currency_mismatch",
        Outcome.REFUSED,
        "币种不一致。",
        "The currencies do not match.",
    )
    INSUFFICIENT_FUNDS = (
        "distribution.insufficient_funds",
        Outcome.REFUSED,
        "预算余额不足。",
        "Not enough money in the budget.",
    )
    LEDGER_REFUSED = (
        "distribution.ledger_refused",
        Outcome.REFUSED,
        "账务系统拒绝了这笔预算操作。",
        "The ledger refused the transfer.",
    )
    TRANSFER_KEY_REUSED = (
        "distribution.transfer_key_reused",
        Outcome.REFUSED,
        "这个充值编号已用于另一笔充值。",
        "This top-up key was used for another top-up.",
    )
    REFUND_ALREADY_UNWOUND = (
        "distribution.refund_already_unwound",
        Outcome.REFUSED,
        "这笔退款已经退回到各级预算。",
        "The refund was already cleared back through the budgets.",
    )
