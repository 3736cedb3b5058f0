"""The error codes of the recall policy document: it cannot be read or is not valid.

A policy that cannot be loaded is a fault of the deployment, never of the caller.
"""

from __future__ import annotations

from hongbao.platform.errors import ErrorCode, Outcome


class PolicyCode(ErrorCode):
    """Codes of the errors the policy document raises; operators switch on their wire values."""

    INVALID = (
        "policy.invalid",
        Outcome.FAULT,
        "撤回规则配置有误。",
        "The policy document is invalid.",
    )
    AMOUNT_NOT_TEXT = (
        "policy.amount_not_text",
        Outcome.FAULT,
        "撤回规则中的金额必须写成文本。",
        "A policy amount must be decimal text.",
    )
    AMOUNT_INVALID = (
        "policy.amount_invalid",
        Outcome.FAULT,
        "撤回规则中的金额有误。",
        "A policy amount is invalid.",
    )
    TOO_LARGE = (
        "policy.too_large",
        Outcome.FAULT,
        "撤回规则文件太大。",
        "The policy document is too large.",
    )
    NOT_TOML = (
        "policy.not_toml",
        Outcome.FAULT,
        "撤回规则文件不是有效的 TOML。",
        "The policy document is not valid TOML.",
    )
    UNREADABLE = (
        "policy.unreadable",
        Outcome.FAULT,
        "无法读取撤回规则文件。",
        "The policy document cannot be read.",
    )
