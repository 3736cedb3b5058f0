"""Stable reason codes of recall rules. Clients switch on them; never rename one."""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    # packet state
    ALREADY_RECALLED = "state.already_recalled"
    EXPIRED = "state.expired"
    EXHAUSTED = "state.exhausted"
    RECALL_IN_PROGRESS = "state.recall_in_progress"
    NOT_DELIVERED = "state.not_delivered"  # a delayed send: cancel it instead (R-B1)
    # time (R-T1..R-T4)
    UNCLAIMED_WINDOW_PASSED = "time.unclaimed_window_passed"
    LUCKY_WINDOW_PASSED = "time.lucky_window_passed"
    TYPE_WINDOW_PASSED = "time.type_window_passed"
    BLACKOUT = "time.settlement_blackout"
    REMAINDER_BELOW_MINIMUM = "amount.remainder_below_minimum"
    # consistency (R-X2)
    ESCROW_MISMATCH = "consistency.escrow_mismatch"
    # permissions and identity (R-A1..R-A5)
    NOT_SENDER = "permission.not_sender"
    ACCOUNT_RESTRICTED = "permission.account_restricted"
    NOT_SENDING_DEVICE = "device.not_sending_device"
    SENDING_DEVICE_UNKNOWN = "device.sending_device_unknown"
    FACE_REQUIRED = "security.face_required"
    NEW_ACCOUNT_LARGE_AMOUNT = "security.new_account_large_amount"
    TIER_CANNOT_RECALL = "security.tier_cannot_recall"
    DAILY_COUNT_REACHED = "security.daily_count_reached"
    DAILY_AMOUNT_REACHED = "security.daily_amount_reached"
    TIER_VERIFICATION_REQUIRED = "security.tier_verification_required"
    # devices (R-D1, R-D2, R-D6)
    WATCH_CAP = "device.watch_cap"
    SECURITY_ENVIRONMENT_REQUIRED = "device.security_environment_required"
    POWER_SAVING_MODE = "device.power_saving_mode"
    GAME_ACCELERATION_ON = "device.game_acceleration_on"
    # risk
    RISK_CHALLENGE = "risk.challenge"
    RISK_HOLD = "risk.hold"
    RISK_LOCK = "risk.lock"
    RISK_BLOCK = "risk.block"
    # refunds (R-F1..R-F4)
    REFUND_BANK_MAINTENANCE = "refund.bank_maintenance"
    REFUND_STATEMENT_ISSUED = "refund.statement_issued"
    REFUND_ACCOUNT_ABNORMAL = "refund.account_abnormal"
    REFUND_FX_RATE_UNAVAILABLE = "refund.fx_rate_unavailable"
    REFUND_BALANCE_INSTEAD = "refund.balance_instead"  # smart routing: accept the balance
    # the engine itself
    RULE_ERROR = "engine.rule_error"
