# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The simulation drill's words (模拟演练), in zh-CN and en."""

from __future__ import annotations

from typing import Final

DRILL_WORDS: Final[dict[str, tuple[str, str]]] = {
    "practice": ("模拟演练", "Practice drill"),
    "practice_banner": (
        "模拟演练：这里用的是练习用的钱和虚拟好友，在单独的练习库里进行，不会动你真实的账户和资金。",
        "Practice drill: play money and pretend friends in a separate practice store; no real "
        "account or money is touched.",
    ),
    "practice_intro": (
        "在演练里，你扮演李伟（iPhone 14 Pro），可以发红包、让好友领取、撤回，"
        "并用练习时钟跳到规则生效的时刻：第一次领取后 30 分钟、晚上 23:50 结算、24 小时过期。"
        "撤回规则与真实服务完全相同。",
        "In the drill you play Li Wei (iPhone 14 Pro): send, have a friend claim, recall, and "
        "move the practice clock to the moments the rules care about: 30 minutes after the "
        "first claim, the 23:50 settlement, the 24-hour expiry. The recall rules are the real "
        "service's.",
    ),
    "practice_start": ("开始演练", "Start practising"),
    "practice_sign_in_first": (
        "登录后即可开始演练（演练不会动你的真实账户）。",
        "Sign in to start practising (the drill never touches your real account).",
    ),
    "practice_end": ("结束演练", "End the practice"),
    "practice_ends_at": ("本次演练保留到", "This practice is kept until"),
    "practice_full": (
        "练习房间都在使用中，请稍后再试，最早空出时间：",
        "Every practice room is in use; please try again later. The first frees up at",
    ),
    "practice_worn_out": (
        "这次演练的操作次数已用完，请重新开始一次演练。",
        "This practice has used up its actions; please start a new one.",
    ),
    "practice_limits": (
        "每次演练最多保留 {minutes} 分钟、{actions} 次操作、{packets} 个红包。",
        "Each practice lasts at most {minutes} minutes, {actions} actions and {packets} packets.",
    ),
    "practice_clock": ("练习时钟（北京时间）", "Practice clock (Beijing time)"),
    "move_jump_31_minutes": ("快进 31 分钟", "Jump 31 minutes"),
    "move_set_23_55": ("调到 23:55", "Set to 23:55"),
    "move_pass_24_hours": ("过去 24 小时", "Pass 24 hours"),
    "practice_you": ("你（练习身份）", "You (practice)"),
    "practice_balance": ("练习零钱", "Play balance"),
    "practice_send": ("发一个练习红包", "Send a practice packet"),
    "practice_packets": ("你的练习红包", "Your practice packets"),
    "friend_claims": ("让{friend}领取", "Have {friend} claim"),
    "friend_liu-yang": ("刘洋", "Liu Yang"),
    "friend_zhao-lei": ("赵磊", "Zhao Lei"),
    "last_clock": ("练习时钟已移动。", "The practice clock moved."),
    "last_sent": ("练习红包已发出。", "Practice packet sent."),
    "last_claimed": ("{friend}领取了", "{friend} claimed"),
    "last_challenged": (
        "撤回需要短信验证：练习验证码已显示在下面。",
        "The recall needs an SMS check: the practice code is shown below.",
    ),
    "last_wrong_code": ("验证码不正确，请再试一次。", "The code is wrong; try again."),
    "practice_code": ("练习验证码", "Practice code"),
    "practice_nav": ("模拟演练", "Practice"),
}
