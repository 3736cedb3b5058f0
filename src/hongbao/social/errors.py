# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The error codes of the social context's own refusals: sends its recall penalties stop."""

from __future__ import annotations

from hongbao.platform.errors import ErrorCode, InvalidInput, Outcome


class SocialCode(ErrorCode):
    """Codes of the refusals the social context raises; clients switch on their wire values.
    The details say why (``cause_zh``, ``cause_en``) and until when (``lifts_at``)."""

    GROUP_SEND_BANNED = (
        "social.group_send_banned",
        Outcome.REFUSED,
        "你在这个群里撤回红包过于频繁，群红包暂时不能发送，解除时间见详情。",
        "You recalled red packets in this group too often; group red packets are paused here.",
    )
    PAIR_CAP_EXCEEDED = (
        "social.pair_cap_exceeded",
        Outcome.REFUSED,
        "因为近期撤回过发给对方的红包，给对方发红包的额度暂时降低，额度和恢复时间见详情。",
        "Recent recalls lowered how much you may send this person for now.",
    )


class SocialError(InvalidInput):
    """A send the social context refuses; nothing was written."""

    code = SocialCode.GROUP_SEND_BANNED
