# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The console's words in zh-CN and en. Each key has both; a page asks for a key and gets the
language the reader chose (a cookie) or the one their browser prefers."""

from __future__ import annotations

from typing import Final

from hongbao.entrypoints.web.drill_words import DRILL_WORDS
from hongbao.entrypoints.web.history_words import HISTORY_WORDS
from hongbao.entrypoints.web.state_words import STATE_WORDS
from hongbao.entrypoints.web.support_words import SUPPORT_WORDS
from hongbao.platform.i18n import Language
from hongbao.platform.invariants import invariant

WORDS: Final[dict[str, tuple[str, str]]] = {
    "title": ("红包", "hongbao"),
    "tagline": (
        "发红包、领红包、撤回与退款，每一步都讲清楚。",
        "Red packets: send, claim, recall and refunds, every step explained.",
    ),
    "skip": ("跳到正文", "Skip to content"),
    "language": ("语言", "Language"),
    "switch_to": ("English", "中文"),
    "nav": ("主导航", "Main"),
    "wallet": ("钱包", "Wallet"),
    "send": ("发红包", "Send"),
    "groups": ("群聊", "Groups"),
    "docs": ("API 文档", "API docs"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "signed_in_as": ("当前身份", "Signed in as"),
    "on_device": ("设备", "on"),
    "demo_intro": (
        "这是内置演示库：选择一位演示用户和他的一台设备来操作。"
        "设备规则真实生效（例如手表单笔上限 200 元）。",
        "This is the embedded demo: pick a demo person and one of their devices to act as. "
        "The device rules apply for real (a watch's 200-yuan cap, for example).",
    ),
    "person": ("用户", "Person"),
    "device": ("设备", "Device"),
    "token_intro": (
        "请粘贴运营人员为你签发的令牌（hongbao tokens issue）。"
        "令牌只保存在页面脚本读不到的 Cookie 中。",
        "Paste the token an operator issued for you (hongbao tokens issue). It is kept in an "
        "HttpOnly cookie that page scripts cannot read.",
    ),
    "token": ("令牌", "Token"),
    "sign_in_failed": ("登录失败", "Sign-in failed"),
    "balances": ("余额", "Balances"),
    "kind_balance": ("零钱", "Balance (零钱)"),
    "kind_money_market": ("零钱通", "零钱通 (money market)"),
    "kind_debit_card": ("借记卡", "Debit card"),
    "kind_credit_card": ("信用卡", "Credit card"),
    "kind_foreign_card": ("境外卡", "Foreign card"),
    "kind_budget": ("预算", "Budget"),
    "holds": ("可用", "available"),
    "available": ("可用", "Available"),
    "paid": ("已支付", "Paid so far"),
    "frozen": ("冻结中", "Frozen"),
    "releases_at": ("解冻时间", "released at"),
    "open_holds": ("预授权中", "Open holds"),
    "window_ends": ("窗口结束", "window ends"),
    "movements": ("资金流水", "Money movements"),
    "when": ("时间", "When"),
    "source": ("账户", "Source"),
    "reason": ("原因", "Reason"),
    "amount": ("金额", "Amount"),
    "packet": ("红包", "Packet"),
    "none_yet": ("暂无记录", "Nothing yet"),
    "send_title": ("发红包", "Send a red packet"),
    "type": ("类型", "Type"),
    "type_group_lucky": ("拼手气红包", "Lucky group packet"),
    "type_group_normal": ("普通群红包", "Fixed-share group packet"),
    "type_personal": ("个人红包", "Personal packet"),
    "type_enterprise": ("企业红包", "Enterprise packet"),
    "group": ("群", "Group"),
    "recipient": ("收款人（个人红包）", "Recipient (personal packet)"),
    "shares": ("份数", "Shares"),
    "amount_yuan": ("金额（元）", "Amount (yuan)"),
    "funding": ("付款方式", "Pay with"),
    "send_button": ("塞钱进红包", "Send"),
    "sent": ("红包已发出", "Packet sent"),
    "refused": ("未能完成", "Not done"),
    "open_packets": ("可领取的红包", "Open packets"),
    "all_packets": ("群里的红包", "Packets in this group"),
    "members": ("成员", "Members"),
    "claim": ("领取", "Claim"),
    "claimed_result": ("领取结果", "Claim result"),
    "from": ("来自", "From"),
    "state": ("状态", "State"),
    "state_open": ("进行中", "open"),
    "state_exhausted": ("已领完", "all claimed"),
    "state_expired": ("已过期", "expired"),
    "state_recalled": ("已撤回", "recalled"),
    "state_scheduled": ("定时发送中", "scheduled"),
    "state_cancelled": ("已取消定时发送", "cancelled before delivery"),
    "guard_title": ("发送前再确认一下", "One more look before it goes"),
    "guard_intro": (
        "这个红包发出后你可能会想撤回，原因是：",
        "You may want this packet back later, because it is:",
    ),
    "guard_send_now": ("仍然现在发送", "Send now anyway"),
    "guard_send_later": ("定时发送于", "Send it at"),
    "scheduled_title": ("定时发送", "Delayed send"),
    "scheduled_for": ("将于以下时间发出：", "It goes out at"),
    "cancel_scheduled": ("取消定时发送（免费）", "Cancel it (free)"),
    "total": ("总额", "Total"),
    "claimed": ("已领取", "Claimed"),
    "remainder": ("剩余", "Remainder"),
    "claims": ("领取记录", "Claims"),
    "who": ("领取人", "Who"),
    "recall": ("撤回", "Recall"),
    "recall_title": ("撤回红包", "Recall this packet"),
    "recall_needs_check": ("需要验证", "Needs verification"),
    "recall_disabled": ("暂不能撤回", "Cannot recall now"),
    "checks": ("需要完成的验证", "Checks to pass"),
    "next_steps": ("下一步", "Next steps"),
    "why": ("原因", "Why"),
    "refund_route": ("退款去向、手续费与到账时间", "Refund route, fee and arrival"),
    "credit_note": (
        "注意：撤回会被记录，频繁撤回可能影响你的信用与风控评级；已被领取的部分不能撤回。",
        "Note: a recall is recorded; frequent recalls can affect your credit and risk rating. "
        "Claimed shares cannot be recalled.",
    ),
    "confirm_recall": ("确认撤回", "Confirm the recall"),
    "cancel": ("取消", "Cancel"),
    "decision": ("决定编号", "Decision"),
    "sms_title": ("短信验证", "SMS verification"),
    "sms_sent": ("验证码已发送到你的手机。", "A code was sent to your phone."),
    "sms_code": ("验证码", "Code"),
    "submit_code": ("提交验证码", "Submit the code"),
    "drill": ("演练", "Drill"),
    "drill_reveal": (
        "演示库的模拟短信：显示验证码（仅演练，真实环境不会出现）",
        "Demo's simulated SMS: show the code (a drill only; never in real use)",
    ),
    "drill_code_is": ("演练验证码", "Drill code"),
    "recalled": ("已撤回", "Recalled"),
    "where_refund": ("退款在哪里", "Where the refund is"),
    "refund_state": ("退款状态", "Refund state"),
    "arrives": ("预计到账", "Arrives"),
    "fee": ("手续费", "Fee"),
    "net": ("实际到账", "Net"),
    "wrong_code": ("验证码不正确，请重试。", "The code is wrong; please try again."),
    "dismiss": ("知道了", "Got it"),
    "learn_more": ("了解更多", "Learn more"),
    "hint": ("提示", "Tip"),
    "hint_lucky_recall": (
        "拼手气红包被第一个人领取后，剩余部分在 30 分钟内可以撤回。",
        "After the first claim of a lucky packet, its remainder can be recalled for 30 minutes.",
    ),
    "hint_settlement": (
        "每天 23:50 至次日 00:10 系统结算，期间不能撤回红包。",
        "From 23:50 to 00:10 the system settles the day: recalls are paused meanwhile.",
    ),
    "hint_watch_cap": (
        "在手表上每个红包最多 200 元；更大的金额请用手机发送。",
        "On a watch a packet is at most 200 yuan; send larger ones from your phone.",
    ),
    "help": ("帮助", "Help"),
    "help_intro": (
        "撤回红包前请先了解这些规则：不是每个红包都能撤回，撤回也会被记录。",
        "Before recalling a packet, know these rules: not every packet can be recalled, and "
        "each recall is recorded.",
    ),
    "troubleshoot": ("撤回失败时依次排查", "When a recall fails, check in this order"),
    "trouble_network": ("先检查网络连接。", "Your network connection first."),
    "trouble_window": (
        "再确认红包是否仍在可撤回的时间内。",
        "Then whether the packet is still within its recall window.",
    ),
    "trouble_device": (
        "仍不行请换用发红包的那台设备，或联系客服。",
        "Then switch to the device that sent it, or contact support.",
    ),
    "not_found": ("没有找到", "Not found"),
    "back": ("返回", "Back"),
    "refresh": ("刷新", "Refresh"),
    "open_group": ("打开群", "Open group"),
    "your_groups": ("我的群", "Your groups"),
    "sent_packets": ("我发的红包", "Packets you sent"),
    "view": ("查看", "View"),
    "in": ("收入", "in"),
    "out": ("支出", "out"),
}

# The other pages' words join the console's; a key in two tables would change another page's
# word, so every table must bring keys of its own.
for _table in (SUPPORT_WORDS, STATE_WORDS, DRILL_WORDS, HISTORY_WORDS):
    invariant(not WORDS.keys() & _table.keys(), "each table of words has keys of its own")
    WORDS.update(_table)


def word(key: str, language: Language) -> str:
    zh, en = WORDS[key]
    return zh if language == "zh" else en
