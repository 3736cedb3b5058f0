# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The one error shape of hongbao: a stable machine-readable code plus a human message.

Expected failures of the ledger are *result codes* (see ``hongbao.ledger.results``); the
exceptions here are for input that cannot be understood at all and for broken invariants.

Every code is a member of one context's catalogue (a subclass of :class:`ErrorCode`): its wire
value is the text clients switch on, its :class:`Outcome` says what kind of failure it is (the
entry points turn that into a status), and it carries a zh-CN and an English message for people.
"""

from __future__ import annotations

from enum import Enum, StrEnum, auto
from typing import Any, Self


class Outcome(Enum):
    """What kind of failure a code reports, free of any transport's words for it."""

    NOT_FOUND = auto()  # the thing named does not exist
    CONFLICT = auto()  # the request contradicts what is already recorded
    REFUSED = auto()  # understood and refused: nothing was written
    UNAUTHORIZED = auto()  # no credentials, or credentials that prove nothing
    FORBIDDEN = auto()  # known caller, not allowed to do this
    TOO_MANY = auto()  # the caller asks too often
    TOO_LARGE = auto()  # the request is bigger than accepted: nothing of it was read further
    UNAVAILABLE = auto()  # shed load or a database that could not finish: retry shortly
    FAULT = auto()  # a fault of ours (a broken invariant, a bad configuration)


class ErrorCode(StrEnum):
    """Base of the per-context catalogues of error codes.

    A member is declared as ``NAME = "context.wire_value", Outcome.X, "zh-CN text", "English"``;
    it compares equal to (and serialises as) its wire value, which never changes once published.
    """

    outcome: Outcome
    zh: str
    en: str

    def __new__(cls, value: str, outcome: Outcome, zh: str, en: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.outcome = outcome
        member.zh = zh
        member.en = en
        return member


class PlatformCode(ErrorCode):
    """Codes of the platform: malformed input, broken invariants, configuration, load."""

    ERROR = "hongbao.error", Outcome.REFUSED, "请求未能完成。", "The request could not be done."
    INPUT_INVALID = (
        "input.invalid",
        Outcome.REFUSED,
        "请求内容有误，请检查后重试。",
        "The request is malformed.",
    )
    INPUT_LIMIT_EXCEEDED = (
        "input.limit_exceeded",
        Outcome.REFUSED,
        "请求中的数值超出了允许的范围。",
        "A value is over its limit.",
    )
    INPUT_NOT_INTEGER = (
        "input.not_integer",
        Outcome.REFUSED,
        "这里需要一个整数。",
        "A value must be an integer.",
    )
    INPUT_TOO_LARGE = (
        "input.too_large",
        Outcome.TOO_LARGE,
        "请求内容过大。",
        "The request body is too large.",
    )
    INVARIANT_VIOLATED = (
        "invariant.violated",
        Outcome.FAULT,
        "系统内部检查未通过，操作已停止，请联系客服。",
        "An internal check failed; the work was stopped.",
    )
    CONFIG_INVALID = (
        "config.invalid",
        Outcome.FAULT,
        "服务配置有误。",
        "The service is configured wrongly.",
    )
    CONFIG_DATABASE_URL = (
        "config.database_url",
        Outcome.FAULT,
        "数据库地址配置有误。",
        "The database URL cannot be used.",
    )
    CONFIG_VERIFICATION_PROVIDER = (
        "config.verification_provider",
        Outcome.FAULT,
        "身份验证服务配置有误。",
        "The verification provider is configured wrongly.",
    )
    CONFIG_OPERATIONS = (
        "config.operations",
        Outcome.FAULT,
        "运行参数配置有误。",
        "An operations setting cannot be used.",
    )
    CONFIG_TOKEN_SECRET = (
        "config.token_secret",
        Outcome.FAULT,
        "登录令牌密钥配置有误。",
        "The token secret is missing or too short.",
    )
    OVERLOADED = (
        "api.overloaded",
        Outcome.UNAVAILABLE,
        "系统繁忙，请稍后重试。",
        "Busy; retry shortly.",
    )
    SHUTTING_DOWN = (
        "api.shutting_down",
        Outcome.UNAVAILABLE,
        "服务正在重启，请稍后重试。",
        "The service is shutting down; retry shortly.",
    )


class StorageCode(ErrorCode):
    """Codes of the database: work it could not finish, and data it refuses to serve."""

    ERROR = (
        "storage.error",
        Outcome.UNAVAILABLE,
        "数据暂时无法保存，请稍后重试。",
        "The database could not complete the work.",
    )
    CONFLICT = (
        "storage.conflict",
        Outcome.UNAVAILABLE,
        "同时处理的请求太多，请稍后重试。",
        "The work kept conflicting with other work; retry.",
    )
    DUPLICATE_KEY = (
        "storage.duplicate_key",
        Outcome.UNAVAILABLE,
        "这条记录已存在，请稍后重试。",
        "A record with this key already exists.",
    )
    UNAVAILABLE = (
        "storage.unavailable",
        Outcome.UNAVAILABLE,
        "数据库暂时不可用，请稍后重试。",
        "The database is unreachable.",
    )
    TOO_MANY_ROWS = (
        "storage.too_many_rows",
        Outcome.REFUSED,
        "符合条件的记录太多，请缩小范围。",
        "Too many rows match.",
    )
    SCHEMA_OUTDATED = (
        "storage.schema_outdated",
        Outcome.FAULT,
        "数据库版本过旧，需要先升级。",
        "The database schema needs migrating.",
    )


class HongbaoError(Exception):
    """Base of every error hongbao raises on purpose.

    ``code`` is a catalogue member (clients switch on its wire value); ``message`` is for
    people; ``details`` holds the facts that led to the error so that it can be explained
    without reading logs.
    """

    code: ErrorCode = PlatformCode.ERROR

    def __init__(self, message: str, *, code: ErrorCode | None = None, **details: Any) -> None:
        super().__init__(message)
        if code is not None:
            if not isinstance(code, ErrorCode):
                # Free text would reach clients with no status, no zh message and no review.
                raise InvariantViolation(
                    "an error code is a member of a catalogue, not free text", code_given=code
                )
            self.code = code
        self.message = message
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class InvalidInput(HongbaoError):
    """The request itself is malformed; nothing was written."""

    code: ErrorCode = PlatformCode.INPUT_INVALID


class LimitExceeded(InvalidInput):
    """A value is over one of the limits in ``hongbao.platform.limits``; nothing was written."""

    code: ErrorCode = PlatformCode.INPUT_LIMIT_EXCEEDED


class InvariantViolation(HongbaoError):
    """A condition that must always hold did not. Never caught and skipped: it stops the work."""

    code: ErrorCode = PlatformCode.INVARIANT_VIOLATED


class StorageError(HongbaoError):
    """The database could not complete a unit of work (after any retries)."""

    code: ErrorCode = StorageCode.ERROR


class ConfigurationError(HongbaoError):
    """hongbao was started with settings it cannot use."""

    code: ErrorCode = PlatformCode.CONFIG_INVALID
