# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The console's names for the API's stable codes, in zh-CN and en: refund states and where the
money is in each, refund routes, the checks a recall asks for, account tiers, device form
factors and platforms. A page shows these words, never the bare code; a test walks every enum
so a new state without its words fails the suite instead of leaking English into a zh page."""

from __future__ import annotations

from typing import Final

STATE_WORDS: Final[dict[str, tuple[str, str]]] = {
    "refund_state_planned": ("待撤回", "planned"),
    "refund_state_in_clearing": ("清算中", "in clearing"),
    "refund_state_frozen": ("冻结中", "frozen"),
    "refund_state_held": ("等待退款路径", "held"),
    "refund_state_failed_retrying": ("出款重试中", "payout being retried"),
    "refund_state_failed": ("出款失败，待人工处理", "payout failed"),
    "refund_state_settled": ("已到账", "arrived"),
    "refund_state_released": ("已解冻到账", "released"),
    "refund_state_credited": ("已由客服退到零钱", "credited"),
    "refund_state_risk_held": ("风控审核中", "held for a risk review"),
    "refund_where_planned": ("尚未撤回，钱还没有动", "planned, nothing has moved"),
    "refund_where_in_clearing": ("在退款清算中，正在退回", "in refund clearing, on its way"),
    "refund_where_frozen": (
        "在退款清算中，冻结到零钱通下一次确认时间",
        "in refund clearing, frozen until the money-market confirmation",
    ),
    "refund_where_held": (
        "在退款清算中，等待可用的退款路径",
        "in refund clearing, waiting for a route to take it",
    ),
    "refund_where_failed_retrying": (
        "在退款清算中，出款正在重试",
        "in refund clearing, the payout is being retried",
    ),
    "refund_where_failed": (
        "在退款清算中，等待客服退到零钱",
        "in refund clearing, waiting for an operator's balance credit",
    ),
    "refund_where_settled": ("已退回原支付方式", "arrived"),
    "refund_where_released": ("冻结结束，已到账", "arrived (released from the freeze)"),
    "refund_where_credited": (
        "已由客服退到零钱",
        "arrived in the balance (credited by an operator)",
    ),
    "refund_where_risk_held": (
        "风控审核中，审核通过或到期后释放",
        "held for a risk review, released at its release time",
    ),
    "route_balance": ("退回零钱", "back to the balance"),
    "route_money_market": ("退回零钱通", "back to 零钱通 (money market)"),
    "route_debit_card": ("退回借记卡", "back to the debit card"),
    "route_credit_card": ("退回信用卡", "back to the credit card"),
    "route_foreign_card": ("按撤回时汇率退回境外卡", "back to the foreign card"),
    "route_distribution": ("逐层退回分销预算", "back through the budgets, level by level"),
    "check_sms_code": ("短信验证码", "SMS code"),
    "check_face": ("人脸识别", "face verification"),
    "check_corporate_account": ("对公账户验证", "corporate account check"),
    "check_security_environment": ("安全环境检测", "security environment check"),
    "tier_unverified": ("未实名", "unverified"),
    "tier_class_i": ("一类账户", "class I account"),
    "tier_class_ii": ("二类账户", "class II account"),
    "tier_class_iii": ("三类账户", "class III account"),
    "tier_enterprise": ("企业账户", "enterprise account"),
    "credit_impact": ("对信用和社交的影响", "Effect on your credit and standing"),
    "troubleshoot_link": (
        "撤回失败？按顺序排查：网络、有效期、设备或客服",
        "Recall failed? Check in order: network, validity period, device or support",
    ),
    "condition_power_saving": ("省电模式", "power-saving mode"),
    "condition_game_acceleration": ("游戏加速", "game acceleration"),
    "device_title": ("设备状态（演示）", "Device state (demo)"),
    "device_intro": (
        "真实的客户端会随每次请求报告设备状态。在演示里，你可以在这里为当前设备打开这些状态，"
        "看看撤回按钮会怎样说明原因和下一步"
        "（例如华为 Mate 50 的省电模式、小米 13 Ultra 的游戏加速）。",
        "A real client reports its device's state with every request. In the demo, switch these "
        "on for the device you act as and see how the recall button explains them (a HUAWEI "
        "Mate 50 in power-saving mode, a Xiaomi 13 Ultra with game acceleration on).",
    ),
    "device_save": ("保存", "Save"),
    "form_phone": ("手机", "phone"),
    "form_tablet": ("平板", "tablet"),
    "form_watch": ("手表", "watch"),
    "platform_ios": ("iOS", "iOS"),
    "platform_android": ("Android", "Android"),
    "platform_harmonyos": ("鸿蒙 HarmonyOS", "HarmonyOS"),
    "platform_watchos": ("watchOS", "watchOS"),
    "platform_wearos": ("Wear OS", "Wear OS"),
}
