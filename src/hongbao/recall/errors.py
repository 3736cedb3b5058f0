# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The error codes of recalls (撤回): requests that cannot be evaluated, and unknown things.

A recall the policy refuses is a decision with reasons, not an error; these codes are for
requests that never reach the policy.
"""

from __future__ import annotations

from hongbao.platform.errors import ErrorCode, Outcome


class RecallCode(ErrorCode):
    """Codes of the errors the recall context raises; clients switch on their wire values."""

    INVALID = "recalls.invalid", Outcome.REFUSED, "撤回请求有误。", "The recall request is invalid."
    KEY_INVALID = (
        "recalls.key_invalid",
        Outcome.REFUSED,
        "撤回请求的 Idempotency-Key 无效。",
        "The recall key is invalid.",
    )
    KEY_REUSED = (
        "recalls.key_reused",
        Outcome.CONFLICT,
        "这个 Idempotency-Key 已用于另一次撤回。",
        "This key was used for another recall.",
    )
    TOO_MANY_CHALLENGES = (
        "recalls.too_many_challenges",
        Outcome.REFUSED,
        "这次撤回的验证次数太多，请重新发起撤回。",
        "This recall opened too many checks; use a new key.",
    )
    UNKNOWN_INCIDENT = (
        "recalls.unknown_incident",
        Outcome.NOT_FOUND,
        "找不到这个对账异常。",
        "No such reconciliation incident.",
    )
    INCIDENT_CLOSED = (
        "recalls.incident_closed",
        Outcome.CONFLICT,
        "这个对账异常已经处理完毕。",
        "The incident was resolved already.",
    )
    RESOLUTION_INVALID = (
        "recalls.resolution_invalid",
        Outcome.REFUSED,
        "请写明由谁处理、如何处理了这个对账异常。",
        "Say who resolves the incident and how.",
    )
    UNKNOWN_RECALL = (
        "recalls.unknown_recall",
        Outcome.NOT_FOUND,
        "找不到这次撤回请求。",
        "No such recall.",
    )
    UNKNOWN_DECISION = (
        "recalls.unknown_decision",
        Outcome.NOT_FOUND,
        "找不到这条撤回决定记录。",
        "No such recall decision.",
    )
    UNKNOWN_PACKET = (
        "recalls.unknown_packet",
        Outcome.NOT_FOUND,
        "找不到这个红包。",
        "No such packet.",
    )
    UNKNOWN_USER = "recalls.unknown_user", Outcome.NOT_FOUND, "找不到这个用户。", "No such user."
    UNKNOWN_DEVICE = (
        "recalls.unknown_device",
        Outcome.NOT_FOUND,
        "找不到这台设备。",
        "No such device.",
    )
    UNKNOWN_CHALLENGE = (
        "recalls.unknown_challenge",
        Outcome.NOT_FOUND,
        "找不到这项验证。",
        "No such challenge.",
    )
