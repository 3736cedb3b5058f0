# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The error codes of the HTTP layer itself: credentials, idempotency keys, load, the API.

Shed load that the platform itself refuses (``api.overloaded``, ``api.shutting_down``) is in
``hongbao.platform.errors.PlatformCode``, since the group committer raises it below HTTP.
"""

from __future__ import annotations

from hongbao.platform.errors import ErrorCode, Outcome


class AuthCode(ErrorCode):
    """Codes of bearer tokens and who may do what."""

    MISSING_TOKEN = (
        "auth.missing_token",
        Outcome.UNAUTHORIZED,
        "请先登录：请求需要带上 Bearer 令牌。",
        "Sign in: the request needs a Bearer token.",
    )
    INVALID_TOKEN = (
        "auth.invalid_token",
        Outcome.UNAUTHORIZED,
        "登录凭证无效，请重新登录。",
        "The token is invalid; sign in again.",
    )
    TOKEN_EXPIRED = (
        "auth.token_expired",
        Outcome.UNAUTHORIZED,
        "登录已过期，请重新登录。",
        "The token has expired; sign in again.",
    )
    TOKEN_REVOKED = (
        "auth.token_revoked",
        Outcome.UNAUTHORIZED,
        "登录凭证已被注销，请重新登录。",
        "The token was revoked; sign in again.",
    )
    FORBIDDEN = (
        "auth.forbidden",
        Outcome.FORBIDDEN,
        "您没有权限进行这个操作。",
        "You may not do this.",
    )
    OPERATOR_ONLY = (
        "auth.operator_only",
        Outcome.FORBIDDEN,
        "只有运营人员可以进行这个操作。",
        "Only an operator may do this.",
    )
    NOT_YOURS = (
        "auth.not_yours",
        Outcome.FORBIDDEN,
        "您只能查看和操作自己的数据。",
        "You may only see and act on your own data.",
    )
    SUBJECT_INVALID = (
        "auth.subject_invalid",
        Outcome.REFUSED,
        "登录凭证的用户编号无效。",
        "A token's subject must be a valid id.",
    )
    LIFETIME_INVALID = (
        "auth.lifetime_invalid",
        Outcome.REFUSED,
        "登录凭证的有效期超出了允许的范围。",
        "The token's lifetime is out of range.",
    )
    DEVICE_BINDING = (
        "auth.device_binding",
        Outcome.REFUSED,
        "登录凭证与设备的绑定有误。",
        "The token's device binding is invalid.",
    )
    # The token named in a revocation, not the caller's own: the caller's login is fine, so
    # this is a refusal (422), never a 401 that a client would answer by signing in again.
    REVOKED_TOKEN_INVALID = (
        "auth.revoked_token_invalid",
        Outcome.REFUSED,
        "要注销的登录凭证无效或已过期，无法注销。",
        "The token to revoke is malformed, not ours or expired.",
    )
    # Well formed, but not signed by us or past its expiry: no live token of ours to revoke.
    REVOKED_TOKEN_UNKNOWN = (
        "auth.revoked_token_unknown",
        Outcome.NOT_FOUND,
        "要注销的登录凭证不是本系统签发的，或已过期，无需注销。",
        "The token to revoke is not one of ours or has expired: nothing to revoke.",
    )
    # The device is registered, to another user than the token's subject.
    DEVICE_OF_ANOTHER = (
        "auth.device_of_another",
        Outcome.CONFLICT,
        "这台设备登记在其他用户名下。",
        "The device is registered to another user.",
    )
    REVOKER_MISSING = (
        "auth.revoker_missing",
        Outcome.REFUSED,
        "请说明由谁注销这个登录凭证。",
        "Say who revokes the token.",
    )


class ApiCode(ErrorCode):
    """Codes of the API as a whole: its routes, its load and its own faults."""

    ERROR = "api.error", Outcome.REFUSED, "请求未能完成。", "The request could not be done."
    NOT_FOUND = "api.not_found", Outcome.NOT_FOUND, "找不到这个地址。", "No such path."
    # Answered with the status the router chose (405), never through the outcome.
    METHOD_NOT_ALLOWED = (
        "api.method_not_allowed",
        Outcome.REFUSED,
        "这个地址不支持这种请求方法。",
        "This path does not allow this method.",
    )
    # Answered with the status the router chose, never through the outcome.
    HTTP_ERROR = "api.http_error", Outcome.REFUSED, "请求未能完成。", "The request failed."
    RATE_LIMITED = (
        "api.rate_limited",
        Outcome.TOO_MANY,
        "操作太频繁，请稍后再试。",
        "Too many requests; retry later.",
    )
    DEGRADED = (
        "api.degraded",
        Outcome.UNAVAILABLE,
        "系统繁忙，此功能暂停；发红包、领取、撤回和退款不受影响，请稍后再试。",
        "This is paused under load; sends, claims, recalls and refunds keep working.",
    )
    INTERNAL = (
        "api.internal",
        Outcome.FAULT,
        "系统出了点问题，请稍后重试；如需帮助请联系客服并提供处理编号。",
        "Something went wrong on our side; retry, or contact support with the reference.",
    )
    EVENTS_CURSOR_INVALID = (
        "events.cursor_invalid",
        Outcome.REFUSED,
        "Last-Event-ID 必须是最后收到的事件编号。",
        "Last-Event-ID is the id of the last event received.",
    )


class EdgeCode(ErrorCode):
    """Codes of the edge: values refused before anything else reads them (path, query string,
    headers, body), so no database ever sees them."""

    CONTROL_CHARACTER = (
        "input.control_character",
        Outcome.REFUSED,
        "请求中含有不允许的控制字符。",
        "The request carries a control character.",
    )
    NOT_UTF8 = (
        "input.invalid_encoding",
        Outcome.REFUSED,
        "请求中含有无效的 UTF-8 文本。",
        "The request carries text that is not valid UTF-8.",
    )
    TOO_LONG = (
        "input.too_long",
        Outcome.REFUSED,
        "请求中的某个值过长。",
        "A value in the request is too long.",
    )
