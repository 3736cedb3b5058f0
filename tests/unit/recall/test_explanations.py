# ruff: noqa: RUF001 - the Chinese texts checked here use Chinese (full-width) punctuation
"""Recall explanations (R-U1): six causes, plain words in zh-CN and en, and the next steps."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from hongbao.identity.verification import ChallengeKind
from hongbao.platform.clock import from_datetime, to_datetime
from hongbao.platform.i18n import Language, parse_language
from hongbao.recall.explanations import (
    CAUSE_NAMES,
    CAUSES,
    REASON_TEXTS,
    VERIFICATION_STEPS,
    ButtonState,
    Cause,
    Explanation,
    cause_name,
    explain,
    next_step_text,
    reason_text,
)
from hongbao.recall.model import (
    Decision,
    DecisionResult,
    NextStep,
    NextStepKind,
    RuleOutcome,
    Verdict,
)
from hongbao.recall.reasons import ReasonCode

LANGUAGES: tuple[Language, ...] = ("zh", "en")


def at(year: int, month: int, day: int, hour: int, minute: int) -> int:
    """A UTC wall-clock moment in microseconds since the epoch."""
    return from_datetime(datetime(year, month, day, hour, minute, tzinfo=UTC))


# 23:55 on 2026-11-29 in Beijing (UTC+8): inside the 23:50-00:10 settlement blackout.
NOW_US = at(2026, 11, 29, 15, 55)
BLACKOUT_ENDS_US = at(2026, 11, 29, 16, 10)  # 00:10 on 2026-11-30 in Beijing
NEXT_DAY_US = at(2026, 11, 29, 16, 0)  # 00:00 on 2026-11-30 in Beijing


def when(moment_us: int) -> str:
    """A time fact exactly as the rules write it."""
    return to_datetime(moment_us).isoformat()


# Every fact name the rules use, with values in the rules' formats. A rule reads only its own.
SAMPLE_FACTS: tuple[tuple[str, str], ...] = (
    ("state", "open"),
    ("expires_at", when(at(2026, 11, 29, 10, 0))),
    ("claimed", "0"),
    ("sent_at", when(at(2026, 11, 28, 10, 0))),
    ("closes_at", when(at(2026, 11, 29, 10, 0))),
    ("first_claim_at", when(at(2026, 11, 29, 9, 30))),
    ("packet_type", "personal"),
    ("window_minutes", "1440"),
    ("remainder_minor", "1000"),
    ("total_minor", "60000"),
    ("shares", "10"),
    ("min_remainder_minor", None),
    ("min_remainder_percent_of_total", None),
    ("min_remainder_percent_of_mean_share", 50),
    ("now", when(NOW_US)),
    ("blackout", "23:50-00:10 Asia/Shanghai"),
    ("status", "frozen"),
    ("amount_minor", "30000"),
    ("threshold_minor", "20000"),
    ("registered_at", when(at(2026, 11, 26, 0, 0))),
    ("new_until", when(at(2026, 12, 3, 0, 0))),
    ("large_above_minor", "20000"),
    ("tier", "class_i"),
    ("executed_today", "5"),
    ("daily_count", "5"),
    ("executed_today_minor", "480000"),
    ("daily_amount_minor", "500000"),
    ("verification", "sms_code"),
    ("is_watch", "True"),
    ("packet_total_minor", "60000"),
    ("cap_minor", "20000"),
    ("platform", "harmonyos"),
    ("os_major", "3"),
    ("level", "2"),
    ("error", "ZeroDivisionError: division by zero"),
)


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= character <= "\u9fff" for character in text)


def is_plain_english(text: str) -> bool:
    return bool(text.strip()) and text.isascii() and text.isprintable()


def failing(
    reason: ReasonCode,
    next_step: NextStep | None = None,
    facts: tuple[tuple[str, str], ...] = SAMPLE_FACTS,
) -> RuleOutcome:
    return RuleOutcome(reason.value, "R-test", Verdict.FAIL, reason, facts, next_step)


def challenging(reason: ReasonCode, kind: ChallengeKind) -> RuleOutcome:
    step = NextStep(NextStepKind.VERIFY, verification=kind)
    return RuleOutcome(reason.value, "R-test", Verdict.CHALLENGE, reason, SAMPLE_FACTS, step)


def passing(rule: str = "only_the_sender") -> RuleOutcome:
    return RuleOutcome(rule, "R-test", Verdict.PASS)


def decision(
    result: DecisionResult, *outcomes: RuleOutcome, decision_id: str = "dec-7f3a"
) -> Decision:
    return Decision(decision_id, result, "default-1", NOW_US, outcomes)


def retry(moment_us: int) -> NextStep:
    return NextStep(NextStepKind.RETRY_AT, retry_at_us=moment_us)


SUPPORT = NextStep(NextStepKind.CONTACT_SUPPORT)
SWITCH_DEVICE = NextStep(NextStepKind.SWITCH_DEVICE)


# ------------------------------------------------------------------------- catalogues


def test_every_reason_code_maps_to_one_cause_and_every_cause_is_used() -> None:
    assert set(CAUSES) == set(ReasonCode)
    assert set(CAUSES.values()) == set(Cause)


def test_every_reason_code_has_wording_in_the_catalogue() -> None:
    """Adding a ReasonCode without its sentences fails here, not in front of a user."""
    assert set(REASON_TEXTS) == set(ReasonCode)


def test_every_challenge_kind_has_a_named_verification_step() -> None:
    assert set(VERIFICATION_STEPS) == set(ChallengeKind)


def test_the_catalogues_are_read_only() -> None:
    with pytest.raises(TypeError):
        CAUSES[ReasonCode.BLACKOUT] = Cause.RISK_CONTROL  # type: ignore[index]
    with pytest.raises(TypeError):
        REASON_TEXTS[ReasonCode.BLACKOUT] = REASON_TEXTS[ReasonCode.EXPIRED]  # type: ignore[index]


@pytest.mark.parametrize("facts", [SAMPLE_FACTS, ()], ids=["with-facts", "without-facts"])
@pytest.mark.parametrize("reason", list(ReasonCode))
def test_every_reason_reads_as_chinese_and_as_plain_english(
    reason: ReasonCode, facts: tuple[tuple[str, str], ...]
) -> None:
    """Missing facts drop a detail, never the sentence."""
    outcome = failing(reason, SUPPORT, facts)
    chinese, english = reason_text(outcome, "zh"), reason_text(outcome, "en")
    assert has_cjk(chinese), chinese
    assert is_plain_english(english), english
    assert reason.value not in chinese + english  # words, not codes
    assert "None" not in chinese + english


@pytest.mark.parametrize("cause", list(Cause))
def test_every_cause_has_a_name_in_both_languages(cause: Cause) -> None:
    assert set(CAUSE_NAMES) == set(Cause)
    assert has_cjk(cause_name(cause, "zh"))
    assert is_plain_english(cause_name(cause, "en"))


@pytest.mark.parametrize("kind", list(ChallengeKind))
def test_every_verification_step_is_named_in_both_languages(kind: ChallengeKind) -> None:
    step = NextStep(NextStepKind.VERIFY, verification=kind)
    assert has_cjk(next_step_text(step, "zh", "dec-1"))
    assert is_plain_english(next_step_text(step, "en", "dec-1"))


def test_the_verification_steps_name_what_to_do() -> None:
    def text(kind: ChallengeKind, language: Language) -> str:
        return next_step_text(NextStep(NextStepKind.VERIFY, verification=kind), language, "d")

    assert "短信验证码" in text(ChallengeKind.SMS_CODE, "zh")
    assert "SMS" in text(ChallengeKind.SMS_CODE, "en")
    assert "人脸识别" in text(ChallengeKind.FACE, "zh")
    assert "face" in text(ChallengeKind.FACE, "en")
    assert "对公账户" in text(ChallengeKind.CORPORATE_ACCOUNT, "zh")
    assert "corporate" in text(ChallengeKind.CORPORATE_ACCOUNT, "en")
    assert "安全环境检测" in text(ChallengeKind.SECURITY_ENVIRONMENT, "zh")
    assert "security environment check" in text(ChallengeKind.SECURITY_ENVIRONMENT, "en")


@pytest.mark.parametrize(
    ("reason", "cause"),
    [
        (ReasonCode.EXPIRED, Cause.PAST_TIME_WINDOW),
        (ReasonCode.ALREADY_RECALLED, Cause.ALREADY_RECALLED),
        (ReasonCode.TYPE_WINDOW_PASSED, Cause.PAST_TIME_WINDOW),
        (ReasonCode.UNCLAIMED_WINDOW_PASSED, Cause.PAST_TIME_WINDOW),
        (ReasonCode.EXHAUSTED, Cause.FULLY_CLAIMED),
        (ReasonCode.LUCKY_WINDOW_PASSED, Cause.PARTIALLY_CLAIMED),
        (ReasonCode.REMAINDER_BELOW_MINIMUM, Cause.PARTIALLY_CLAIMED),
        (ReasonCode.BLACKOUT, Cause.SYSTEM_SETTLING),
        (ReasonCode.RECALL_IN_PROGRESS, Cause.SYSTEM_SETTLING),
        (ReasonCode.ESCROW_MISMATCH, Cause.SYSTEM_SETTLING),
        (ReasonCode.RULE_ERROR, Cause.SYSTEM_SETTLING),
    ],
)
def test_state_and_time_reasons_map_to_the_causes_of_r_u1(reason: ReasonCode, cause: Cause) -> None:
    assert CAUSES[reason] is cause


def test_reasons_map_to_causes_by_family() -> None:
    """permission.* and security.* are security level, device.* device, risk.* risk control."""
    families = {
        "permission": Cause.SECURITY_LEVEL_TOO_LOW,
        "security": Cause.SECURITY_LEVEL_TOO_LOW,
        "device": Cause.DEVICE_ENVIRONMENT_ABNORMAL,
        "risk": Cause.RISK_CONTROL,
    }
    for reason in ReasonCode:
        family = reason.value.split(".")[0]
        if family in families:
            assert CAUSES[reason] is families[family], reason


# ------------------------------------------------------------------- facts in the words


def test_the_blackout_answer_says_when_recall_reopens_in_beijing_time() -> None:
    outcome = failing(ReasonCode.BLACKOUT, retry(BLACKOUT_ENDS_US))
    assert "00:10 恢复撤回" in reason_text(outcome, "zh")
    assert "reopens at 00:10 Beijing time" in reason_text(outcome, "en")
    assert "23:50" in reason_text(outcome, "en")


def test_the_daily_count_answer_says_how_many_recalls_the_tier_allows() -> None:
    outcome = failing(ReasonCode.DAILY_COUNT_REACHED, retry(NEXT_DAY_US))
    assert "一类账户每天最多只能撤回 5 次" in reason_text(outcome, "zh")
    assert "a Class I account allows 5 recalls a day" in reason_text(outcome, "en")


def test_the_daily_amount_answer_names_the_amounts_in_yuan() -> None:
    outcome = failing(ReasonCode.DAILY_AMOUNT_REACHED, retry(NEXT_DAY_US))
    english = reason_text(outcome, "en")
    assert "at most 5000.00 yuan a day" in english
    assert "4800.00 yuan today" in english
    assert "this 300.00 yuan" in english
    assert "5000.00 元" in reason_text(outcome, "zh")


def test_the_watch_answer_names_the_cap_in_yuan() -> None:
    outcome = failing(ReasonCode.WATCH_CAP, SWITCH_DEVICE)
    assert "不超过 200.00 元" in reason_text(outcome, "zh")
    assert "up to 200.00 yuan" in reason_text(outcome, "en")
    assert "600.00 yuan" in reason_text(outcome, "en")


def test_amounts_are_shown_exactly_to_the_fen() -> None:
    facts = (("threshold_minor", "1"),)
    assert "0.01 yuan" in reason_text(failing(ReasonCode.FACE_REQUIRED, None, facts), "en")


def test_the_minimum_remainder_is_worked_out_without_rounding_down() -> None:
    """Half the mean share of 600.00 yuan in 10 shares is 30.00; 10.00 is left."""
    english = reason_text(failing(ReasonCode.REMAINDER_BELOW_MINIMUM, SUPPORT), "en")
    assert "Only 10.00 yuan" in english
    assert "at least 30.00 yuan" in english
    odd = (
        ("remainder_minor", "1"),
        ("total_minor", "100"),
        ("shares", "3"),
        ("min_remainder_percent_of_mean_share", 50),
    )
    # 50 % of 100 / 3 fen is 16.67 fen: 17 fen is the least that passes the rule.
    assert "at least 0.17 yuan" in reason_text(
        failing(ReasonCode.REMAINDER_BELOW_MINIMUM, SUPPORT, odd), "en"
    )


def test_time_windows_are_stated_with_their_length_and_end_in_beijing_time() -> None:
    lucky = failing(ReasonCode.LUCKY_WINDOW_PASSED, SUPPORT)
    assert "30 分钟内" in reason_text(lucky, "zh")
    assert "within 30 minutes of the first claim" in reason_text(lucky, "en")
    assert "2026-11-29 18:00 Beijing time" in reason_text(lucky, "en")
    typed = failing(ReasonCode.TYPE_WINDOW_PASSED, SUPPORT)
    assert "A personal red packet can be recalled only within 24 hours" in reason_text(typed, "en")
    assert "个人红包只能在发出后 24 小时内撤回" in reason_text(typed, "zh")


def test_the_new_account_answer_says_when_the_limit_lifts() -> None:
    outcome = failing(ReasonCode.NEW_ACCOUNT_LARGE_AMOUNT, retry(at(2026, 12, 3, 0, 0)))
    english = reason_text(outcome, "en")
    assert "less than 7 days old" in english
    assert "more than 200.00 yuan" in english
    assert "2026-12-03 08:00 Beijing time" in english


def test_malformed_facts_leave_out_the_detail_instead_of_failing() -> None:
    facts = (
        ("cap_minor", "2e4"),
        ("packet_total_minor", "-5"),
        ("closes_at", "yesterday"),
        ("window_minutes", "1.5"),
        ("daily_count", str(10**40)),
        ("min_remainder_percent_of_total", "thirty"),
    )
    for reason in ReasonCode:
        for language in LANGUAGES:
            assert reason_text(failing(reason, SUPPORT, facts), language)
    assert "yuan" not in reason_text(failing(ReasonCode.WATCH_CAP, SWITCH_DEVICE, facts), "en")


def test_a_rule_error_never_shows_the_exception_to_the_user() -> None:
    outcome = RuleOutcome(
        "broken", "R-T1", Verdict.ERROR, ReasonCode.RULE_ERROR, SAMPLE_FACTS, SUPPORT
    )
    assert "ZeroDivisionError" not in reason_text(outcome, "en") + reason_text(outcome, "zh")


def test_outcomes_without_a_reason_still_read_as_sentences() -> None:
    error = RuleOutcome("broken", "R-T1", Verdict.ERROR)
    asked = RuleOutcome("asks", "R-A2", Verdict.CHALLENGE)
    assert reason_text(error, "en") == reason_text(failing(ReasonCode.RULE_ERROR), "en")
    assert has_cjk(reason_text(asked, "zh"))
    assert is_plain_english(reason_text(passing(), "en"))


# ------------------------------------------------------------------------------ explain


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_allowed_recall_enables_the_button_with_nothing_to_do(language: Language) -> None:
    explanation = explain(decision(DecisionResult.ALLOW, passing(), passing("risk")), language)
    assert explanation == Explanation(
        decision_id="dec-7f3a",
        button=ButtonState.ENABLED,
        cause=None,
        headline=explanation.headline,
        reasons=(),
        next_steps=(),
        verifications=(),
        retry_at_us=None,
    )
    assert has_cjk(explanation.headline) == (language == "zh")


def test_a_challenge_lists_each_verification_once_with_its_reason() -> None:
    explanation = explain(
        decision(
            DecisionResult.CHALLENGE,
            passing(),
            challenging(ReasonCode.FACE_REQUIRED, ChallengeKind.FACE),
            challenging(ReasonCode.TIER_VERIFICATION_REQUIRED, ChallengeKind.SMS_CODE),
            challenging(ReasonCode.RISK_CHALLENGE, ChallengeKind.FACE),
        ),
        "en",
    )
    assert explanation.button is ButtonState.CHALLENGE
    assert explanation.cause is None
    assert explanation.verifications == (ChallengeKind.FACE, ChallengeKind.SMS_CODE)
    assert explanation.reasons == (
        "Recalling more than 200.00 yuan needs face verification first.",
        "To keep your money safe, your account needs an SMS code check before each recall.",
        "To protect your money, this recall needs face verification first.",
    )
    assert explanation.next_steps == (
        "Complete face verification.",
        "Enter the SMS verification code we send to your phone.",
    )
    assert explanation.retry_at_us is None


def test_a_denial_takes_its_cause_from_the_first_failing_rule_and_explains_every_one() -> None:
    explanation = explain(
        decision(
            DecisionResult.DENY,
            passing(),
            failing(ReasonCode.BLACKOUT, retry(BLACKOUT_ENDS_US)),
            challenging(ReasonCode.FACE_REQUIRED, ChallengeKind.FACE),
            failing(ReasonCode.WATCH_CAP, SWITCH_DEVICE),
        ),
        "zh",
    )
    assert explanation.button is ButtonState.DISABLED
    assert explanation.cause is Cause.SYSTEM_SETTLING
    assert "系统正在结算" in explanation.headline
    assert len(explanation.reasons) == 2
    assert "00:10" in explanation.reasons[0]
    assert "200.00 元" in explanation.reasons[1]
    assert explanation.verifications == ()  # verifying cannot lift a denial
    assert explanation.next_steps == (
        "请在北京时间 2026-11-30 00:10 以后再试。",
        "请换用发出这个红包的那部手机再试。",
    )
    assert explanation.retry_at_us == BLACKOUT_ENDS_US


@pytest.mark.parametrize("order", [1, -1], ids=["blackout-first", "daily-limit-first"])
def test_the_retry_time_is_the_latest_so_a_retry_then_is_not_refused_again(order: int) -> None:
    """In the blackout at 23:55 with the day's recalls used: 00:10 beats the new day at 00:00."""
    failures = (
        failing(ReasonCode.BLACKOUT, retry(BLACKOUT_ENDS_US)),
        failing(ReasonCode.DAILY_COUNT_REACHED, retry(NEXT_DAY_US)),
    )[::order]
    explanation = explain(decision(DecisionResult.DENY, *failures), "en")
    assert explanation.retry_at_us == BLACKOUT_ENDS_US
    assert explanation.next_steps == ("Try again after 2026-11-30 00:10 Beijing time.",)


def test_no_retry_time_is_offered_when_waiting_cannot_lift_every_failure() -> None:
    explanation = explain(
        decision(
            DecisionResult.DENY,
            failing(ReasonCode.BLACKOUT, retry(BLACKOUT_ENDS_US)),
            failing(ReasonCode.EXPIRED, SUPPORT),
        ),
        "en",
    )
    assert explanation.cause is Cause.SYSTEM_SETTLING
    assert explanation.retry_at_us is None
    assert explanation.next_steps == (
        "If you need help, contact customer support and give them this reference: dec-7f3a.",
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_contact_support_steps_quote_the_decision_id(language: Language) -> None:
    explanation = explain(
        decision(
            DecisionResult.DENY,
            failing(ReasonCode.NOT_SENDER, SUPPORT),
            failing(ReasonCode.RISK_HOLD, SUPPORT),
            failing(ReasonCode.NOT_SENDING_DEVICE, SWITCH_DEVICE),
            decision_id="dec-support-42",
        ),
        language,
    )
    assert len(explanation.next_steps) == 2  # the two support steps are one
    assert "dec-support-42" in explanation.next_steps[-1]  # what you can do yourself comes first
    assert next_step_text(SUPPORT, language, "dec-x9").count("dec-x9") == 1


def test_a_denial_without_a_failing_rule_is_still_explained_as_settling() -> None:
    explanation = explain(decision(DecisionResult.DENY, passing()), "en")
    assert explanation.cause is Cause.SYSTEM_SETTLING
    assert explanation.reasons
    assert "dec-7f3a" in explanation.next_steps[0]


def test_a_failure_without_a_next_step_points_to_support() -> None:
    explanation = explain(decision(DecisionResult.DENY, failing(ReasonCode.ESCROW_MISMATCH)), "zh")
    assert explanation.next_steps == ("如需帮助，请联系客服，并告诉客服处理编号：dec-7f3a。",)


def test_a_retry_step_without_a_time_asks_to_try_again_later() -> None:
    step = NextStep(NextStepKind.RETRY_AT)
    assert next_step_text(step, "en", "d") == "Try again in a little while."
    assert has_cjk(next_step_text(step, "zh", "d"))


def test_an_explanation_is_immutable() -> None:
    explanation = explain(decision(DecisionResult.ALLOW), "zh")
    with pytest.raises(dataclasses.FrozenInstanceError):
        explanation.headline = "changed"  # type: ignore[misc]


# ----------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh"),
        ("", "zh"),
        ("   ", "zh"),
        ("zh", "zh"),
        ("zh-CN", "zh"),
        ("zh-Hans", "zh"),
        ("zh-Hant-TW", "zh"),
        ("zh_CN", "zh"),
        ("ZH-cn", "zh"),
        ("en", "en"),
        ("en-US", "en"),
        ("en-GB,en;q=0.9,zh-CN;q=0.8", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en;q=0.5, zh;q=0.9", "zh"),
        ("fr-FR, zh;q=0.8", "zh"),
        ("fr", "en"),
        ("de, ja;q=0.5", "en"),
        ("*", "zh"),
        ("zh;q=0, en", "en"),
        ("en;q=0", "zh"),
        ("!!!", "zh"),
        ("zh;q=abc, en", "en"),
        ("x" * 100_000, "en"),
    ],
)
def test_the_language_comes_from_a_code_or_an_accept_language_header(
    header: str | None, language: Language
) -> None:
    assert parse_language(header) == language
