# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""The words of a packet's history page and of the device's own unlock, zh-CN and en."""

from __future__ import annotations

from typing import Final

HISTORY_WORDS: Final[dict[str, tuple[str, str]]] = {
    "history_title": ("红包记录链", "Tamper-evident history"),
    "history_link": ("查看防篡改记录", "See its tamper-evident history"),
    "history_intro": (
        "红包的每一步都记在一条哈希链上。下面的结论由本页用客户端自己的代码逐条重新计算得出，"
        "不依赖服务器的说法。",
        "Every step of this packet is an entry of a hash chain. The verdict below is recomputed "
        "here, entry by entry, with the client's own code, not taken from the server's word.",
    ),
    "history_verdict": ("校验结果", "Verdict"),
    "history_intact": ("完整（共 {entries} 条）", "intact ({entries} entries)"),
    "history_broken": ("第 {entry} 条起被改动：{why}", "broken at entry {entry}: {why}"),
    "history_sequence_gap": ("序号不连续，有记录缺失", "an entry is missing before it"),
    "history_unchained": ("这条记录没有哈希", "the entry carries no hashes"),
    "history_previous_mismatch": (
        "它没有指向上一条记录的哈希",
        "it does not name the previous entry's hash",
    ),
    "history_payload_mismatch": ("内容与摘要不符", "its payload does not match its digest"),
    "history_hash_mismatch": ("内容与哈希不符", "its content does not match its hash"),
    "history_head_mismatch": ("链头不是最后一条", "the head does not name the last entry"),
    "sequence": ("序号", "No."),
    "event": ("事件", "Event"),
    "short_hash": ("哈希（前 12 位）", "Hash (first 12)"),
    "event_PacketSent": ("发出红包", "packet sent"),
    "event_PacketClaimed": ("有人领取", "a share claimed"),
    "event_PacketExhausted": ("已领完", "all shares claimed"),
    "event_AuthorizationCaptured": ("扣款完成", "payment captured"),
    "event_PacketExpired": ("已过期", "packet expired"),
    "event_PacketRecalled": ("已撤回", "packet recalled"),
    "event_RefundProgressed": ("退款进展", "refund progressed"),
    "unlock_title": ("刷脸解锁本设备", "Unlock this device with a face check"),
    "unlock_button": ("刷脸验证解锁", "Unlock with a face check"),
    "unlock_locked": (
        "这台设备因风控被锁定，暂时不能发红包、领红包或撤回。你可以在本设备上刷脸验证后自行解锁。",
        "This device was locked by risk control: it cannot send, claim or recall for now. You "
        "may unlock it yourself with a face check on this device.",
    ),
    "unlock_face_intro": (
        "请看向摄像头完成人脸验证，验证通过后本设备即解锁，并回到你刚才的页面。",
        "Look at the camera to pass the face check; once it passes, this device is unlocked "
        "and you return to where you were.",
    ),
    "unlock_face_drill": ("模拟摄像头：验证通过", "Simulated camera: the face check passes"),
    "unlock_face_done": ("我已完成人脸验证", "I have finished the face check"),
    "unlock_face_failed": (
        "人脸验证未通过或已失效，请重新开始。",
        "The face check did not pass or is no longer valid: please start again.",
    ),
}
