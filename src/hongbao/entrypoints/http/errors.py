# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""One error shape for every HTTP answer that is not a success.

    {"error": {"code": "packets.insufficient_funds", "message": "...", "details": {...},
               "decision_id": null}}

``code`` is stable (clients switch on it), ``message`` is in the language the request asked for
(``Accept-Language``: zh-CN by default, en), ``details`` holds the facts, and ``decision_id``
names the recorded recall decision when there is one. The HTTP status follows from the code:
unknown things are 404, conflicts 409, credentials 401/403, shed load 503, a broken invariant or
an unexpected fault 500 (with a reference, never a stack trace), every other refusal 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from hongbao.entrypoints.http.codes import ApiCode
from hongbao.platform.errors import (
    ConfigurationError,
    ErrorCode,
    HongbaoError,
    InvariantViolation,
    StorageError,
)
from hongbao.recall.explanations import Language

NOT_FOUND_MARKERS: Final = (".unknown_", ".not_found")
CONFLICT_CODES: Final = frozenset(
    {
        "packets.already_exists",
        "recalls.key_reused",
        "idempotency.in_progress",
        "distribution.budget_exists",
        "identity.duplicate",
        "identity.already_exists",
        "identity.device_taken",
        "refunds.not_failed",
    }
)
UNAUTHORIZED_CODES: Final = frozenset(
    {"auth.missing_token", "auth.invalid_token", "auth.token_expired", "auth.token_revoked"}
)
FORBIDDEN_CODES: Final = frozenset({"auth.forbidden", "auth.operator_only", "auth.not_yours"})
UNAVAILABLE_CODES: Final = frozenset({"api.overloaded", "api.degraded", "api.shutting_down"})
TOO_MANY_CODES: Final = frozenset({"api.rate_limited"})

# zh-CN words for the codes people meet most; any other code keeps its English message.
ZH_MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        "auth.missing_token": "请先登录：请求需要带上 Bearer 令牌。",
        "auth.invalid_token": "登录凭证无效，请重新登录。",
        "auth.token_expired": "登录已过期，请重新登录。",
        "auth.token_revoked": "登录凭证已被注销，请重新登录。",
        "auth.forbidden": "您没有权限进行这个操作。",
        "auth.operator_only": "只有运营人员可以进行这个操作。",
        "auth.not_yours": "您只能查看和操作自己的数据。",
        "idempotency.key_missing": "请求缺少 Idempotency-Key 请求头。",
        "idempotency.key_reused": "这个 Idempotency-Key 已用于另一个不同的请求。",
        "idempotency.in_progress": "相同的请求正在处理中，请稍后重试。",
        "input.invalid": "请求内容有误，请检查后重试。",
        "packets.insufficient_funds": "余额不足，无法发出这个红包。",
        "packets.unknown_packet": "找不到这个红包。",
        "packets.sender_restricted": "您的账户受到限制，暂时不能发红包。",
        "recalls.unknown_recall": "找不到这次撤回请求。",
        "refunds.unknown_refund": "找不到这笔退款。",
        "refunds.not_failed": "只有支付失败的退款才能转入零钱。",
        "recalls.unknown_packet": "找不到这个红包。",
        "recalls.unknown_decision": "找不到这条撤回决定记录。",
        "recalls.key_reused": "这个 Idempotency-Key 已用于另一次撤回。",
        "identity.unknown_user": "找不到这个用户。",
        "identity.unknown_group": "找不到这个群。",
        "identity.unknown_device": "找不到这台设备。",
        "identity.unknown_challenge": "找不到这项验证。",
        "identity.already_exists": "这个编号已被使用，且登记的信息不同。",
        "identity.device_taken": "这台设备已登记在另一个用户名下。",
        "identity.card_invalid": "银行卡号有误，请检查后重试。",
        "api.overloaded": "系统繁忙，请稍后重试。",
        "api.rate_limited": "操作太频繁，请稍后再试。",
        "api.degraded": "系统繁忙，此功能暂停；发红包、领取、撤回和退款不受影响，请稍后再试。",
        "api.internal": "系统出了点问题，请稍后重试；如需帮助请联系客服并提供处理编号。",
    }
)


class ApiError(HongbaoError):
    """An error raised by the HTTP layer itself (credentials, idempotency, load)."""

    code: ErrorCode = ApiCode.ERROR


def status_for(error: HongbaoError) -> int:  # noqa: PLR0911 - one status per family of codes
    code = error.code
    if code in UNAUTHORIZED_CODES:
        return 401
    if code in FORBIDDEN_CODES:
        return 403
    if code in UNAVAILABLE_CODES:
        return 503
    if code in TOO_MANY_CODES:
        return 429
    if isinstance(error, InvariantViolation | ConfigurationError):
        return 500
    if isinstance(error, StorageError):
        return 503
    if any(marker in code for marker in NOT_FOUND_MARKERS):
        return 404
    if code in CONFLICT_CODES:
        return 409
    return 422


UNAVAILABLE: Final = 503
RETRY_AFTER_SECONDS: Final = "1"


@dataclass(frozen=True, slots=True)
class Refusal:
    """How a refused request is answered: status, the one error shape, extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] | None


def refusal_of(error: HongbaoError, language: Language) -> Refusal | None:
    """The answer to ``error`` when it is a refusal; None for a fault of ours (5xx other than
    503), which the app answers with a reference and logs. Unavailable (a database that could
    not finish, shed load) is worth retrying shortly: it says when."""
    status = status_for(error)
    if status >= 500 and status != UNAVAILABLE:
        return None
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == UNAVAILABLE else None
    return Refusal(
        status, error_body(error.code, error.message, language, details=error.details), headers
    )


def error_body(
    code: str,
    message: str,
    language: Language,
    *,
    details: Mapping[str, Any] | None = None,
    decision_id: str | None = None,
) -> dict[str, Any]:
    shown = ZH_MESSAGES.get(code, message) if language == "zh" else message
    return {
        "error": {
            "code": code,
            "message": shown,
            "details": _plain(details or {}),
            "decision_id": decision_id,
        }
    }


def _plain(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details as JSON values: text for anything that is not already a plain value."""
    plain: dict[str, Any] = {}
    for key, value in details.items():
        if value is None or isinstance(value, bool | int | str):
            plain[key] = value
        elif isinstance(value, list | tuple):
            plain[key] = [
                item if isinstance(item, bool | int | str) else str(item) for item in value
            ]
        else:
            plain[key] = str(value)
    return plain
