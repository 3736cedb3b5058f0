# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The error codes of identity: users, devices, funding sources, groups and relationships.

Verification challenges keep their own catalogue next to them
(``hongbao.identity.verification.VerificationErrorCode``).
"""

from __future__ import annotations

from hongbao.platform.errors import ErrorCode, Outcome


class IdentityCode(ErrorCode):
    """Codes of the errors the identity context raises; clients switch on their wire values."""

    INVALID = "identity.invalid", Outcome.REFUSED, "账户信息有误。", "The identity data is invalid."
    UNKNOWN_USER = "identity.unknown_user", Outcome.NOT_FOUND, "找不到这个用户。", "No such user."
    UNKNOWN_GROUP = "identity.unknown_group", Outcome.NOT_FOUND, "找不到这个群。", "No such group."
    UNKNOWN_DEVICE = (
        "identity.unknown_device",
        Outcome.NOT_FOUND,
        "找不到这台设备。",
        "No such device.",
    )
    UNKNOWN_CHALLENGE = (
        "identity.unknown_challenge",
        Outcome.NOT_FOUND,
        "找不到这项验证。",
        "No such challenge.",
    )
    UNKNOWN_ENTERPRISE = (
        "identity.unknown_enterprise",
        Outcome.NOT_FOUND,
        "找不到这个企业。",
        "No such enterprise.",
    )
    UNKNOWN_FUNDING_SOURCE = (
        "identity.unknown_funding_source",
        Outcome.NOT_FOUND,
        "找不到这个付款方式。",
        "No such funding source.",
    )
    ALREADY_EXISTS = (
        "identity.already_exists",
        Outcome.CONFLICT,
        "这个编号已被使用，且登记的信息不同。",
        "This id is already registered with other details.",
    )
    DEVICE_CONDITIONS_INVALID = (
        "identity.device_conditions_invalid",
        Outcome.REFUSED,
        "设备状态有误：Hongbao-Device-Conditions 只能列出已知的状态"
        "（power_saving、game_acceleration），用逗号分隔。",
        "The device conditions are invalid: Hongbao-Device-Conditions lists known conditions only "
        "(power_saving, game_acceleration), separated by commas.",
    )
    DEVICE_TAKEN = (
        "identity.device_taken",
        Outcome.CONFLICT,
        "这台设备已登记在另一个用户名下。",
        "This device is registered to another user.",
    )
    LEDGER_ACCOUNT_CONFLICT = (
        "identity.ledger_account_conflict",
        Outcome.REFUSED,
        "付款方式对应的账户已存在，且信息不同。",
        "The funding source's ledger account exists with other details.",
    )
    ID_INVALID = "identity.id_invalid", Outcome.REFUSED, "编号无效。", "An id is invalid."
    TEXT_INVALID = "identity.text_invalid", Outcome.REFUSED, "文字内容有误。", "A text is invalid."
    TIME_INVALID = "identity.time_invalid", Outcome.REFUSED, "时间有误。", "A time is invalid."
    ENUM_INVALID = (
        "identity.enum_invalid",
        Outcome.REFUSED,
        "选项不在允许的范围内。",
        "A value is not one of the allowed choices.",
    )
    FLAG_INVALID = (
        "identity.flag_invalid",
        Outcome.REFUSED,
        "开关选项只能是开启或关闭。",
        "A flag must be true or false.",
    )
    DAYS_INVALID = (
        "identity.days_invalid",
        Outcome.REFUSED,
        "天数必须是不小于零的整数。",
        "A number of days must be a non-negative integer.",
    )
    TIER_REQUIRES_REAL_NAME = (
        "identity.tier_requires_real_name",
        Outcome.REFUSED,
        "这个账户等级需要先完成实名认证。",
        "This account tier needs real-name verification.",
    )
    ENTERPRISE_TIER_MISMATCH = (
        "identity.enterprise_tier_mismatch",
        Outcome.REFUSED,
        "企业信息与账户等级不符。",
        "The enterprise details do not match the account tier.",
    )
    STATUS_REASON_REQUIRED = (
        "identity.status_reason_required",
        Outcome.REFUSED,
        "这个账户状态需要说明原因。",
        "This account status needs a reason.",
    )
    STATUS_REASON_UNEXPECTED = (
        "identity.status_reason_unexpected",
        Outcome.REFUSED,
        "这个账户状态不需要说明原因。",
        "This account status takes no reason.",
    )
    CORPORATE_ACCOUNT_INVALID = (
        "identity.corporate_account_invalid",
        Outcome.REFUSED,
        "对公账户信息有误。",
        "The corporate account is invalid.",
    )
    CERTIFIED_ENTERPRISE_NEEDS_ACCOUNT = (
        "identity.certified_enterprise_needs_account",
        Outcome.REFUSED,
        "认证企业需要登记对公账户。",
        "A certified enterprise needs its corporate account on file.",
    )
    ACCOUNT_NOT_MASKED = (
        "identity.account_not_masked",
        Outcome.REFUSED,
        "对公账号必须以隐藏部分数字的形式保存。",
        "The corporate account number must be masked.",
    )
    CARD_INVALID = (
        "identity.card_invalid",
        Outcome.REFUSED,
        "银行卡号有误，请检查后重试。",
        "The card number is invalid.",
    )
    CARD_NOT_MASKED = (
        "identity.card_not_masked",
        Outcome.REFUSED,
        "银行卡号必须以隐藏部分数字的形式保存。",
        "The card number must be masked.",
    )
    CURRENCY_INVALID = (
        "identity.currency_invalid",
        Outcome.REFUSED,
        "币种有误。",
        "The currency is invalid.",
    )
    BUDGET_SOURCE_NOT_DIRECT = (
        "identity.budget_source_not_direct",
        Outcome.REFUSED,
        "预算付款方式只能通过开设或分配预算来登记。",
        "Budget sources are registered by opening or allocating a budget.",
    )
    TIME_OF_DAY_INVALID = (
        "identity.time_of_day_invalid",
        Outcome.REFUSED,
        "时刻有误。",
        "A time of day is invalid.",
    )
    SCHEDULE_INVALID = (
        "identity.schedule_invalid",
        Outcome.REFUSED,
        "确认时间表有误。",
        "The confirmation schedule is invalid.",
    )
    MAINTENANCE_WINDOW_INVALID = (
        "identity.maintenance_window_invalid",
        Outcome.REFUSED,
        "银行维护时段有误。",
        "A maintenance window is invalid.",
    )
    MAINTENANCE_NEVER_ENDS = (
        "identity.maintenance_never_ends",
        Outcome.REFUSED,
        "维护时段覆盖了整周，这张卡将永远无法使用。",
        "The maintenance windows cover the whole week.",
    )
    STATEMENT_DAY_OUT_OF_RANGE = (
        "identity.statement_day_out_of_range",
        Outcome.REFUSED,
        "账单日超出了允许的范围。",
        "The statement day is out of range.",
    )
    VERSION_MALFORMED = (
        "identity.version_malformed",
        Outcome.REFUSED,
        "版本号格式有误。",
        "A version number is malformed.",
    )
    DEVICE_INCONSISTENT = (
        "identity.device_inconsistent",
        Outcome.REFUSED,
        "设备信息前后矛盾。",
        "The device details are inconsistent.",
    )
    DEVICE_RULES_INVALID = (
        "identity.device_rules_invalid",
        Outcome.REFUSED,
        "设备规则设置有误。",
        "The device rules are invalid.",
    )
    EXEMPTION_SUBJECT_INVALID = (
        "identity.exemption_subject_invalid",
        Outcome.REFUSED,
        "豁免对象有误。",
        "The exemption's subject is invalid.",
    )
    EXEMPTION_PERIOD_INVALID = (
        "identity.exemption_period_invalid",
        Outcome.REFUSED,
        "豁免期限有误。",
        "The exemption's period is invalid.",
    )
    MEMBERSHIP_PERIOD_INVALID = (
        "identity.membership_period_invalid",
        Outcome.REFUSED,
        "群成员的加入和退出时间有误。",
        "The membership period is invalid.",
    )
    MEMBERS_OF_SEVERAL_GROUPS = (
        "identity.members_of_several_groups",
        Outcome.REFUSED,
        "一次只能提交一个群的成员。",
        "Members of several groups were mixed.",
    )
    RELATIONSHIP_TO_SELF = (
        "identity.relationship_to_self",
        Outcome.REFUSED,
        "不能与自己建立关系。",
        "A relationship joins two different users.",
    )
    RANK_OUT_OF_RANGE = (
        "identity.rank_out_of_range",
        Outcome.REFUSED,
        "聊天频率排名超出了允许的范围。",
        "The chat frequency rank is out of range.",
    )
    INTIMACY_OUT_OF_RANGE = (
        "identity.intimacy_out_of_range",
        Outcome.REFUSED,
        "亲密度超出了允许的范围。",
        "The intimacy is out of range.",
    )
    WEIGHT_OUT_OF_RANGE = (
        "identity.weight_out_of_range",
        Outcome.REFUSED,
        "关系权重超出了允许的范围。",
        "The relationship weight is out of range.",
    )
    INTIMACY_REDUCTION_OUT_OF_RANGE = (
        "identity.intimacy_reduction_out_of_range",
        Outcome.REFUSED,
        "亲密度扣减超出了允许的范围。",
        "The intimacy reduction is out of range.",
    )
    THRESHOLD_OUT_OF_RANGE = (
        "identity.threshold_out_of_range",
        Outcome.REFUSED,
        "置顶聊天的门槛超出了允许的范围。",
        "The top chat threshold is out of range.",
    )
