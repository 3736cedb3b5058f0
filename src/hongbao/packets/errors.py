# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The error codes of red packets: sending, splitting and claiming."""

from __future__ import annotations

from hongbao.platform.errors import ErrorCode, Outcome


class PacketCode(ErrorCode):
    """Codes of the errors the packets context raises; clients switch on their wire values."""

    INVALID = "packets.invalid", Outcome.REFUSED, "红包请求有误。", "The packet request is invalid."
    LIMIT_EXCEEDED = (
        "packets.limit_exceeded",
        Outcome.REFUSED,
        "红包的数值超出了允许的范围。",
        "A packet value is over its limit.",
    )
    ALREADY_EXISTS = (
        "packets.already_exists",
        Outcome.CONFLICT,
        "这个红包编号已被另一个红包使用。",
        "This packet id was used for another packet.",
    )
    ID_INVALID = (
        "packets.id_invalid",
        Outcome.REFUSED,
        "红包编号无效。",
        "The packet id is invalid.",
    )
    UNKNOWN_PACKET = (
        "packets.unknown_packet",
        Outcome.NOT_FOUND,
        "找不到这个红包。",
        "No such packet.",
    )
    UNKNOWN_SENDER = (
        "packets.unknown_sender",
        Outcome.NOT_FOUND,
        "找不到发红包的用户。",
        "No such sender.",
    )
    UNKNOWN_USER = "packets.unknown_user", Outcome.NOT_FOUND, "找不到这个用户。", "No such user."
    UNKNOWN_RECIPIENT = (
        "packets.unknown_recipient",
        Outcome.NOT_FOUND,
        "找不到红包的接收人。",
        "No such recipient.",
    )
    UNKNOWN_DEVICE = (
        "packets.unknown_device",
        Outcome.NOT_FOUND,
        "这台设备不是发红包用户的设备。",
        "The device is not one of the sender's.",
    )
    TUITION_NOT_EDUCATION = (
        "packets.tuition_not_education",
        Outcome.REFUSED,
        "教育缴费只能以群红包发到教育类群。",
        "A tuition payment is a group packet to an education group.",
    )
    DEVICE_LOCKED = (
        "packets.device_locked",
        Outcome.FORBIDDEN,
        "这台设备已被风控锁定，暂时不能发、抢或撤回红包；在本设备完成人脸验证或联系客服即可解锁。",
        "This device is locked by risk control: it cannot send, claim or recall until it is "
        "unlocked (pass a face verification on this device, or contact support).",
    )
    UNKNOWN_FUNDING_SOURCE = (
        "packets.unknown_funding_source",
        Outcome.NOT_FOUND,
        "找不到这个付款方式。",
        "No such funding source for this sender.",
    )
    UNKNOWN_ALGORITHM = (
        "packets.unknown_algorithm",
        Outcome.NOT_FOUND,
        "不支持这种拆分红包的方式。",
        "No such split algorithm.",
    )
    SENDER_RESTRICTED = (
        "packets.sender_restricted",
        Outcome.REFUSED,
        "您的账户受到限制，暂时不能发红包。",
        "The sender's account is restricted.",
    )
    NOT_ENTERPRISE = (
        "packets.not_enterprise",
        Outcome.FORBIDDEN,  # the sender's account decides, not the request
        "只有企业账户可以发企业红包。",
        "Only enterprise accounts send enterprise packets.",
    )
    CURRENCY_MISMATCH = (
        "packets.currency_mismatch",
        Outcome.REFUSED,
        "付款方式的币种与红包的币种不一致。",
        "The currencies do not match.",
    )
    CURRENCY_NOT_SUPPORTED = (
        "packets.currency_not_supported",
        Outcome.REFUSED,
        "红包不支持这个币种。",
        "Packets are not sent in this currency.",
    )
    AUDIENCE_INVALID = (
        "packets.audience_invalid",
        Outcome.REFUSED,
        "红包的接收对象有误。",
        "The packet's audience is invalid.",
    )
    NOT_A_MEMBER = (
        "packets.not_a_member",
        Outcome.FORBIDDEN,  # the group's members decide, not the request
        "只有群成员才能在群里发红包。",
        "Only members send packets to a group.",
    )
    SHARES_OUT_OF_RANGE = (
        "packets.shares_out_of_range",
        Outcome.REFUSED,
        "红包个数超出了允许的范围。",
        "The number of shares is out of range.",
    )
    SHARES_INVALID = (
        "packets.shares_invalid",
        Outcome.REFUSED,
        "红包个数有误。",
        "The number of shares is invalid.",
    )
    MAX_SHARES_INVALID = (
        "packets.max_shares_invalid",
        Outcome.REFUSED,
        "红包个数的上限有误。",
        "The maximum number of shares is invalid.",
    )
    TOO_MANY_SHARES = (
        "packets.too_many_shares",
        Outcome.REFUSED,
        "红包个数太多。",
        "Too many shares.",
    )
    SHARE_BELOW_MINIMUM = (
        "packets.share_below_minimum",
        Outcome.REFUSED,
        "每个红包的金额低于最小金额。",
        "A share is below the minimum.",
    )
    TOTAL_TOO_SMALL = (
        "packets.total_too_small",
        Outcome.REFUSED,
        "红包总金额太少，不够每人分到最小金额。",
        "The total is too small for the shares.",
    )
    TOTAL_TOO_LARGE = (
        "packets.total_too_large",
        Outcome.REFUSED,
        "红包总金额太大。",
        "The total is too large.",
    )
    TOTAL_OVER_LIMIT = (
        "packets.total_over_limit",
        Outcome.REFUSED,
        "红包总金额超过了单个红包的上限。",
        "The total is over the packet limit.",
    )
    AMOUNT_OVER_LIMIT = (
        "packets.amount_over_limit",
        Outcome.REFUSED,
        "单个红包的金额超过了上限。",
        "A share is over the limit.",
    )
    TOTAL_NOT_MONEY = (
        "packets.total_not_money",
        Outcome.REFUSED,
        "红包总金额必须是有效的金额。",
        "The total must be an amount of money.",
    )
    SEED_INVALID = (
        "packets.seed_invalid",
        Outcome.REFUSED,
        "拼手气红包的随机种子有误。",
        "The lucky split seed is invalid.",
    )
    INSUFFICIENT_FUNDS = (
        "packets.insufficient_funds",
        Outcome.REFUSED,
        "余额不足，无法发出这个红包。",
        "Not enough money in the funding source.",
    )
    LEDGER_REFUSED = (
        "packets.ledger_refused",
        Outcome.REFUSED,
        "账务系统拒绝了这笔红包付款。",
        "The ledger refused the send.",
    )
    # ------------------------------------------------------------ the send-time guard (R-B1)
    CONFIRMATION_NEEDED = (
        "packets.confirmation_needed",
        Outcome.CONFLICT,
        "这个红包发出后你可能会想撤回：请确认发送，或改为定时发送。",
        "You may want this packet back later: confirm the send, or send it later.",
    )
    DELIVER_AT_PAST = (
        "packets.deliver_at_past",
        Outcome.REFUSED,
        "定时发送的时间必须晚于现在。",
        "A delayed send is delivered after now.",
    )
    DELIVER_AT_TOO_FAR = (
        "packets.deliver_at_too_far",
        Outcome.REFUSED,
        "定时发送的时间超出了允许的范围。",
        "A delayed send is delivered too far ahead.",
    )
    NOT_SCHEDULED = (
        "packets.not_scheduled",
        Outcome.CONFLICT,
        "这个红包不是待发送的定时红包，不能取消。",
        "This packet is not a delayed send waiting for delivery.",
    )
    NOT_THE_SENDER = (
        "packets.not_the_sender",
        Outcome.FORBIDDEN,
        "只有发红包的人可以取消定时发送。",
        "Only the sender cancels a delayed send.",
    )
    UNKNOWN_GUARD_DECISION = (
        "packets.unknown_guard_decision",
        Outcome.NOT_FOUND,
        "找不到这个发送提醒的决定。",
        "No such guard decision.",
    )
