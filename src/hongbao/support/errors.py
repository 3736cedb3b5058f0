# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The error codes of support cases."""

from __future__ import annotations

from hongbao.platform.errors import ErrorCode, HongbaoError, Outcome


class SupportCode(ErrorCode):
    UNKNOWN_CASE = (
        "support.unknown_case",
        Outcome.NOT_FOUND,
        "没有这个客服工单。",
        "There is no such support case.",
    )
    CASE_CLOSED = (
        "support.case_closed",
        Outcome.CONFLICT,
        "这个客服工单已关闭。",
        "This support case is closed.",
    )
    TEXT_INVALID = (
        "support.text_invalid",
        Outcome.REFUSED,
        "请填写内容，不超过 1000 个字符。",
        "Write 1 to 1000 characters.",
    )
    TOO_MANY_NOTES = (
        "support.too_many_notes",
        Outcome.CONFLICT,
        "这个工单的留言已达上限，请新开一个工单。",
        "This case holds as many notes as it can: open a new case.",
    )


class SupportError(HongbaoError):
    code = SupportCode.UNKNOWN_CASE
