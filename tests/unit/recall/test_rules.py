"""Each recall rule on its own, at every boundary SPEC section 3 (and R-K1) names.

The rules are pure functions of (facts, default policy); every table starts from the allowed
snapshot of ``builders.allowed()`` and changes one thing. Each row asserts the verdict, the
reason code and the next step (with its retry time where there is one).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from hongbao.funding.sources import FundingKind
from hongbao.identity.users import AccountTier, UserStatus
from hongbao.identity.verification import ChallengeKind
from hongbao.packets.model import PacketState, PacketType
from hongbao.platform.clock import is_due
from hongbao.policy.document import default_policy
from hongbao.recall import rules
from hongbao.recall.engine import evaluate
from hongbao.recall.facts import RecallFacts
from hongbao.recall.model import DecisionResult, NextStep, NextStepKind, RuleOutcome, Verdict
from hongbao.recall.reasons import ReasonCode
from hongbao.risk.model import RiskAction
from tests.unit.recall.builders import (
    DAY_US,
    HOUR_US,
    MINUTE_US,
    NOW_US,
    OTHER_USER,
    SECOND_US,
    allowed,
    card_funded,
    claimed,
    local_us,
    lucky,
    packet_of,
    recall_in_progress,
    registered_ago,
    remainder_of,
    sent_ago,
    with_challenges,
    with_device,
    with_escrow,
    with_exemptions,
    with_packet,
    with_requester,
    with_risk,
    with_usage,
    yuan,
)

POLICY = default_policy()
SUPPORT = NextStep(NextStepKind.CONTACT_SUPPORT)
SWITCH_DEVICE = NextStep(NextStepKind.SWITCH_DEVICE)
TOMORROW_US = local_us(2026, 12, 1)  # the local day after NOW_US (2026-11-30 15:00) starts
TOMORROW_OPEN_US = local_us(2026, 12, 1, 0, 10)  # ... and recall reopens after the blackout
PASS, FAIL, CHALLENGE = Verdict.PASS, Verdict.FAIL, Verdict.CHALLENGE
EXEMPT, NOT_APPLICABLE = Verdict.EXEMPT, Verdict.NOT_APPLICABLE


def retry(at_us: int) -> NextStep:
    return NextStep(NextStepKind.RETRY_AT, retry_at_us=at_us)


def verify(kind: ChallengeKind) -> NextStep:
    return NextStep(NextStepKind.VERIFY, verification=kind)


def check(  # noqa: PLR0917 - one table row: what ran, and what it answered
    outcomes: list[RuleOutcome],
    rule: str,
    requirement: str,
    verdict: Verdict,
    reason: ReasonCode | None,
    next_step: NextStep | None,
) -> RuleOutcome:
    """The rule gave exactly one outcome, with this trace, verdict, reason and next step."""
    assert len(outcomes) == 1, outcomes
    (outcome,) = outcomes
    assert (outcome.rule, outcome.requirement) == (rule, requirement)
    assert (outcome.verdict, outcome.reason, outcome.next_step) == (verdict, reason, next_step)
    return outcome


def test_the_default_snapshot_passes_or_does_not_concern_every_rule() -> None:
    """The builder's defaults: no rule fails or challenges, so each table below varies one thing."""
    facts = allowed()
    for rule in rules.RULES:
        for outcome in rule.check(facts, POLICY):
            assert outcome.verdict in {PASS, NOT_APPLICABLE}, outcome


# ---------------------------------------------------------------------- R-T3 the blackout


@pytest.mark.parametrize(
    ("now_us", "verdict", "next_step"),
    [
        pytest.param(local_us(2026, 11, 30, 23, 49, 59), PASS, None, id="23:49:59 open"),
        pytest.param(
            local_us(2026, 11, 30, 23, 49, 59, 999_999), PASS, None, id="23:49:59.999999 open"
        ),
        pytest.param(
            local_us(2026, 11, 30, 23, 50),
            FAIL,
            retry(local_us(2026, 12, 1, 0, 10)),
            id="23:50:00 closed until 00:10 tomorrow",
        ),
        pytest.param(
            local_us(2026, 11, 30, 23, 59, 59, 999_999),
            FAIL,
            retry(local_us(2026, 12, 1, 0, 10)),
            id="23:59:59.999999 closed until 00:10 tomorrow",
        ),
        pytest.param(
            local_us(2026, 12, 1, 0, 0),
            FAIL,
            retry(local_us(2026, 12, 1, 0, 10)),
            id="00:00:00 closed until 00:10 today",
        ),
        pytest.param(
            local_us(2026, 12, 1, 0, 9, 59),
            FAIL,
            retry(local_us(2026, 12, 1, 0, 10)),
            id="00:09:59 closed until 00:10 today",
        ),
        pytest.param(local_us(2026, 12, 1, 0, 10), PASS, None, id="00:10:00 open again"),
        pytest.param(
            local_us(2026, 12, 31, 23, 55),
            FAIL,
            retry(local_us(2027, 1, 1, 0, 10)),
            id="new year's eve closed until 00:10 on 1 January",
        ),
        pytest.param(
            local_us(2027, 1, 1, 0, 5),
            FAIL,
            retry(local_us(2027, 1, 1, 0, 10)),
            id="new year's day (still 31 December in UTC) until 00:10 local",
        ),
        pytest.param(local_us(2026, 11, 30, 12, 0), PASS, None, id="noon open"),
    ],
)
def test_the_settlement_blackout_runs_from_2350_to_0010_shanghai_and_says_when_it_reopens(
    now_us: int, verdict: Verdict, next_step: NextStep | None
) -> None:
    """R-T3: 23:50:00 is inside, 00:10:00 is not; the reopen time is 00:10 of the right day."""
    outcomes = rules.outside_settlement_blackout(POLICY)(allowed(now_us))
    reason = ReasonCode.BLACKOUT if verdict is FAIL else None
    outcome = check(outcomes, "outside_settlement_blackout", "R-T3", verdict, reason, next_step)
    assert ("blackout", "23:50-00:10 Asia/Shanghai") in outcome.facts


# ---------------------------------------------------------- R-T1 the unclaimed 24-hour window


@pytest.mark.parametrize(
    ("age_us", "verdict", "reason"),
    [
        pytest.param(HOUR_US, PASS, None, id="an hour old"),
        pytest.param(24 * HOUR_US - SECOND_US, PASS, None, id="24 h minus a second"),
        pytest.param(24 * HOUR_US - 1, PASS, None, id="24 h minus a microsecond"),
        pytest.param(
            24 * HOUR_US, FAIL, ReasonCode.UNCLAIMED_WINDOW_PASSED, id="exactly 24 h: closed"
        ),
        pytest.param(
            24 * HOUR_US + 1, FAIL, ReasonCode.UNCLAIMED_WINDOW_PASSED, id="24 h and a microsecond"
        ),
    ],
)
def test_an_unclaimed_packet_may_be_recalled_until_24_hours_after_sending_but_not_at(
    age_us: int, verdict: Verdict, reason: ReasonCode | None
) -> None:
    """R-T1 with is_due semantics: a deadline is due AT its instant, so 24 h exactly is closed."""
    facts = sent_ago(allowed(), age_us)
    next_step = SUPPORT if verdict is FAIL else None
    outcomes = rules.unclaimed_within_window(POLICY)(facts)
    check(outcomes, "unclaimed_within_window", "R-T1", verdict, reason, next_step)


def test_the_deadline_convention_the_time_rules_rely_on_is_due_at_the_instant() -> None:
    """platform.clock.is_due is the one place deciding "passed": true at the deadline itself."""
    assert is_due(NOW_US, NOW_US)
    assert not is_due(NOW_US, NOW_US - 1)
    assert not is_due(None, NOW_US)


def test_the_unclaimed_window_does_not_concern_a_packet_somebody_has_claimed() -> None:
    """R-T1 speaks of packets nobody has claimed; a claimed packet falls under R-T2 / R-T4."""
    facts = claimed(sent_ago(allowed(), 25 * HOUR_US), 1, yuan("10.00"))
    check(
        rules.unclaimed_within_window(POLICY)(facts),
        "unclaimed_within_window",
        "R-T1",
        NOT_APPLICABLE,
        None,
        None,
    )


# ------------------------------------------------------ R-T2 lucky: 30 min after the first claim


def _partly_claimed_lucky(first_claim_ago_us: int) -> RecallFacts:
    return claimed(lucky(allowed(), yuan("100.00"), 10), 2, yuan("15.00"), first_claim_ago_us)


@pytest.mark.parametrize(
    ("first_claim_ago_us", "verdict"),
    [
        pytest.param(MINUTE_US, PASS, id="a minute after the first claim"),
        pytest.param(30 * MINUTE_US - SECOND_US, PASS, id="29:59 after"),
        pytest.param(30 * MINUTE_US - 1, PASS, id="30 min minus a microsecond"),
        pytest.param(30 * MINUTE_US, FAIL, id="exactly 30 min: closed"),
        pytest.param(30 * MINUTE_US + SECOND_US, FAIL, id="30:01 after"),
    ],
)
def test_a_partly_claimed_lucky_packet_may_be_recalled_for_30_minutes_after_its_first_claim(
    first_claim_ago_us: int, verdict: Verdict
) -> None:
    """R-T2 (and R-T4's lucky window): the 30 minutes run from the first claim, due at 30:00."""
    facts = _partly_claimed_lucky(first_claim_ago_us)
    reason = ReasonCode.LUCKY_WINDOW_PASSED if verdict is FAIL else None
    next_step = SUPPORT if verdict is FAIL else None
    outcomes = rules.lucky_within_window_of_first_claim(POLICY)(facts)
    check(outcomes, "lucky_within_window_of_first_claim", "R-T2", verdict, reason, next_step)


@pytest.mark.parametrize(
    "facts",
    [
        pytest.param(lucky(allowed(), yuan("100.00"), 10), id="unclaimed lucky (R-T1 applies)"),
        pytest.param(claimed(allowed(), 2, yuan("20.00"), 2 * HOUR_US), id="group_normal"),
        pytest.param(
            claimed(packet_of(allowed(), PacketType.ENTERPRISE), 2, yuan("20.00"), 2 * HOUR_US),
            id="enterprise",
        ),
    ],
)
def test_the_first_claim_window_concerns_only_claimed_lucky_packets(facts: RecallFacts) -> None:
    """R-T2 is about partially claimed lucky packets; other packets are not its business."""
    outcomes = rules.lucky_within_window_of_first_claim(POLICY)(facts)
    check(outcomes, "lucky_within_window_of_first_claim", "R-T2", NOT_APPLICABLE, None, None)


def test_an_unclaimed_lucky_packet_follows_the_24_hour_unclaimed_window() -> None:
    """Nobody claimed yet: the lucky packet's 30 minutes have not started; R-T1 governs it."""
    facts = sent_ago(lucky(allowed(), yuan("100.00"), 10), 23 * HOUR_US)
    assert rules.unclaimed_within_window(POLICY)(facts)[0].verdict is PASS
    late = sent_ago(facts, 24 * HOUR_US)
    assert rules.unclaimed_within_window(POLICY)(late)[0].reason is (
        ReasonCode.UNCLAIMED_WINDOW_PASSED
    )


# ----------------------------------------------------------------- R-T4 window per packet type


@pytest.mark.parametrize(
    "packet_type", [PacketType.PERSONAL, PacketType.GROUP_NORMAL, PacketType.ENTERPRISE]
)
@pytest.mark.parametrize(
    ("age_us", "verdict"),
    [
        pytest.param(24 * HOUR_US - 1, PASS, id="24 h minus a microsecond"),
        pytest.param(24 * HOUR_US, FAIL, id="exactly 24 h"),
    ],
)
def test_the_type_window_is_24_hours_from_sending_for_personal_normal_and_enterprise(
    packet_type: PacketType, age_us: int, verdict: Verdict
) -> None:
    """R-T4: personal, group normal and enterprise packets: 1,440 minutes, due at the instant."""
    facts = sent_ago(packet_of(allowed(), packet_type), age_us)
    if packet_type is not PacketType.PERSONAL:  # a claimed personal packet has nothing left
        facts = claimed(facts, 1, yuan("10.00"), HOUR_US)
    reason = ReasonCode.TYPE_WINDOW_PASSED if verdict is FAIL else None
    next_step = SUPPORT if verdict is FAIL else None
    check(
        rules.within_type_window(POLICY)(facts),
        "within_type_window",
        "R-T4",
        verdict,
        reason,
        next_step,
    )


def test_the_type_window_leaves_lucky_packets_to_the_first_claim_rule() -> None:
    """R-T4's 30 minutes for lucky packets run from the first claim: R-T2's outcome, not this."""
    facts = sent_ago(_partly_claimed_lucky(MINUTE_US), 23 * HOUR_US)
    check(
        rules.within_type_window(POLICY)(facts),
        "within_type_window",
        "R-T4",
        NOT_APPLICABLE,
        None,
        None,
    )


# -------------------------------------------------------------- R-T4 minimum remainder per type


def _group_normal(total: int, remainder: int) -> RecallFacts:
    return remainder_of(with_packet(allowed(), total_minor=total), remainder, count=3)


def _enterprise(total: int, remainder: int) -> RecallFacts:
    facts = packet_of(allowed(), PacketType.ENTERPRISE, total_minor=total)
    return remainder_of(facts, remainder, count=3)


def _lucky(total: int, shares: int, remainder: int) -> RecallFacts:
    return remainder_of(lucky(allowed(), total, shares), remainder, count=1)


def _personal(total: int, remainder: int) -> RecallFacts:
    facts = packet_of(allowed(), PacketType.PERSONAL, total_minor=total)
    return remainder_of(facts, remainder, count=0 if remainder == total else 1)


@pytest.mark.parametrize(
    ("facts", "verdict"),
    [
        # group normal: remainder >= 30 % of the total
        pytest.param(_group_normal(10_000, 3_000), PASS, id="normal 30.00 of 100.00 (30 %)"),
        pytest.param(_group_normal(10_000, 2_999), FAIL, id="normal 29.99 of 100.00"),
        pytest.param(_group_normal(10_001, 3_001), PASS, id="normal 30.01 of 100.01 (30.007 %)"),
        pytest.param(_group_normal(10_001, 3_000), FAIL, id="normal 30.00 of 100.01 (29.997 %)"),
        pytest.param(_group_normal(10_000, 10_000), PASS, id="normal unclaimed"),
        # enterprise follows group normal
        pytest.param(_enterprise(10_000, 3_000), PASS, id="enterprise 30 %"),
        pytest.param(_enterprise(10_000, 2_999), FAIL, id="enterprise a fen below 30 %"),
        # group lucky: remainder >= 50 % of the mean share, i.e. remainder * 2 * shares >= total
        pytest.param(_lucky(10_000, 10, 500), PASS, id="lucky 5.00 = half of the 10.00 mean"),
        pytest.param(_lucky(10_000, 10, 499), FAIL, id="lucky 4.99 below half of 10.00"),
        pytest.param(_lucky(10_000, 4, 1_250), PASS, id="lucky 12.50 = half of 25.00"),
        pytest.param(_lucky(10_000, 4, 1_249), FAIL, id="lucky 12.49 below half of 25.00"),
        pytest.param(_lucky(10_000, 6, 834), PASS, id="lucky 8.34 over half of 16.666"),
        pytest.param(_lucky(10_000, 6, 833), FAIL, id="lucky 8.33 below half of 16.666 (8.333)"),
        pytest.param(_lucky(10_000, 3, 1_667), PASS, id="lucky 16.67 over half of 33.333"),
        pytest.param(_lucky(10_000, 3, 1_666), FAIL, id="lucky 16.66 below 16.666"),
        pytest.param(_lucky(9_999, 2, 2_500), PASS, id="lucky 25.00 over half of 49.995"),
        pytest.param(_lucky(9_999, 2, 2_499), FAIL, id="lucky 24.99 below 24.9975"),
        pytest.param(_lucky(3, 3, 1), PASS, id="lucky 0.01 = 2x half of the 0.01 mean"),
        # personal: remainder >= 0.01
        pytest.param(_personal(1, 1), PASS, id="personal 0.01 left"),
        pytest.param(_personal(20_000, 20_000), PASS, id="personal unclaimed 200.00"),
        pytest.param(_personal(20_000, 0), FAIL, id="personal nothing left"),
    ],
)
def test_the_remainder_must_reach_the_type_minimum_in_exact_integer_arithmetic(
    facts: RecallFacts, verdict: Verdict
) -> None:
    """R-T4: 30 % of the total (normal, enterprise), 50 % of the mean share (lucky), 0.01
    (personal); the boundary itself is accepted, one fen less is not, nothing is rounded."""
    reason = ReasonCode.REMAINDER_BELOW_MINIMUM if verdict is FAIL else None
    next_step = SUPPORT if verdict is FAIL else None
    outcomes = rules.remainder_above_minimum(POLICY)(facts)
    outcome = check(outcomes, "remainder_above_minimum", "R-T4", verdict, reason, next_step)
    assert ("remainder_minor", facts.packet.remainder_minor) in outcome.facts


# ------------------------------------------------------------------ R-A2 face above 200 yuan


@pytest.mark.parametrize(
    ("facts", "verdict"),
    [
        pytest.param(
            with_packet(allowed(), total_minor=yuan("200.00")),
            NOT_APPLICABLE,
            id="200.00 needs no face",
        ),
        pytest.param(
            with_packet(allowed(), total_minor=yuan("200.01")),
            CHALLENGE,
            id="200.01 asks for the face",
        ),
        pytest.param(
            with_challenges(
                with_packet(allowed(), total_minor=yuan("200.01")),
                ChallengeKind.SMS_CODE,
                ChallengeKind.FACE,
            ),
            PASS,
            id="200.01 with the face passed",
        ),
        pytest.param(
            remainder_of(with_packet(allowed(), total_minor=yuan("300.00")), yuan("200.00")),
            NOT_APPLICABLE,
            id="300.00 packet, 200.00 left to recall",
        ),
        pytest.param(
            remainder_of(with_packet(allowed(), total_minor=yuan("300.00")), yuan("200.01")),
            CHALLENGE,
            id="300.00 packet, 200.01 left to recall",
        ),
    ],
)
def test_recalling_more_than_200_yuan_asks_for_face_verification(
    facts: RecallFacts, verdict: Verdict
) -> None:
    """R-A2: the recalled amount (the remainder) above 200.00 needs the face; 200.00 does not."""
    reason = ReasonCode.FACE_REQUIRED if verdict is CHALLENGE else None
    next_step = verify(ChallengeKind.FACE) if verdict is CHALLENGE else None
    outcomes = rules.face_above_threshold(POLICY)(facts)
    check(outcomes, "face_above_threshold", "R-A2", verdict, reason, next_step)


# --------------------------------------------------------- R-A3 new accounts and large amounts

SEVEN_DAYS_US = 7 * DAY_US


def _new_account(age_us: int, total: str, *exemptions: str) -> RecallFacts:
    facts = registered_ago(with_packet(allowed(), total_minor=yuan(total)), age_us)
    return with_exemptions(facts, *exemptions)


@pytest.mark.parametrize(
    ("facts", "verdict", "exempted_by"),
    [
        pytest.param(
            _new_account(SEVEN_DAYS_US - SECOND_US, "200.01"),
            FAIL,
            (),
            id="7 days minus a second, 200.01",
        ),
        pytest.param(
            _new_account(SEVEN_DAYS_US - 1, "200.01"),
            FAIL,
            (),
            id="7 days minus a microsecond, 200.01",
        ),
        pytest.param(
            _new_account(SEVEN_DAYS_US, "200.01"), NOT_APPLICABLE, (), id="exactly 7 days, 200.01"
        ),
        pytest.param(
            _new_account(SEVEN_DAYS_US - SECOND_US, "200.00"),
            NOT_APPLICABLE,
            (),
            id="7 days minus a second, 200.00 is not large",
        ),
        pytest.param(_new_account(0, "200.01"), FAIL, (), id="registered just now, 200.01"),
        pytest.param(
            _new_account(SEVEN_DAYS_US - SECOND_US, "200.01", "certified_enterprise"),
            EXEMPT,
            ("certified_enterprise",),
            id="certified enterprise is exempt",
        ),
        pytest.param(
            _new_account(SEVEN_DAYS_US - SECOND_US, "200.01", "vip"),
            FAIL,
            (),
            id="a vip exemption does not lift this rule",
        ),
        pytest.param(
            _new_account(SEVEN_DAYS_US - SECOND_US, "200.01", "vip", "certified_enterprise"),
            EXEMPT,
            ("certified_enterprise",),
            id="only the lifting exemption is recorded",
        ),
    ],
)
def test_accounts_younger_than_7_days_cannot_recall_more_than_200_yuan(
    facts: RecallFacts, verdict: Verdict, exempted_by: tuple[str, ...]
) -> None:
    """R-A3: younger than 7 days (7 days exactly is old enough) and above 200.00 fails until the
    account turns 7 days old; a certified enterprise is EXEMPT and the outcome says by what."""
    grown_up = facts.requester.registered_at_us + SEVEN_DAYS_US
    reason = ReasonCode.NEW_ACCOUNT_LARGE_AMOUNT if verdict is FAIL else None
    next_step = retry(grown_up) if verdict is FAIL else None
    outcomes = rules.new_account_large_amount(POLICY)(facts)
    outcome = check(outcomes, "new_account_large_amount", "R-A3", verdict, reason, next_step)
    assert outcome.exempted_by == exempted_by


# ---------------------------------------------------------------- R-A4 tiers and daily limits


def _tier(
    tier: AccountTier, count: int, executed: str = "0.00", total: str = "100.00"
) -> RecallFacts:
    facts = with_packet(allowed(), total_minor=yuan(total))
    return with_usage(with_requester(facts, tier=tier), count, yuan(executed))


CLASS_I, ENTERPRISE = AccountTier.CLASS_I, AccountTier.ENTERPRISE
COUNT, AMOUNT = ReasonCode.DAILY_COUNT_REACHED, ReasonCode.DAILY_AMOUNT_REACHED


@pytest.mark.parametrize(
    ("facts", "verdict", "reason"),
    [
        pytest.param(_tier(CLASS_I, 4), PASS, None, id="class I: the 5th recall of the day"),
        pytest.param(_tier(CLASS_I, 5), FAIL, COUNT, id="class I: the 6th recall of the day"),
        pytest.param(_tier(CLASS_I, 0, total="5000.00"), PASS, None, id="class I: 5,000.00"),
        pytest.param(_tier(CLASS_I, 0, total="5000.01"), FAIL, AMOUNT, id="class I: 5,000.01"),
        pytest.param(
            _tier(CLASS_I, 3, "4900.00"),
            PASS,
            None,
            id="class I: 4,900.00 today + 100.00 = 5,000.00",
        ),
        pytest.param(
            _tier(CLASS_I, 3, "4900.01"),
            FAIL,
            AMOUNT,
            id="class I: 4,900.01 today + 100.00 = 5,000.01",
        ),
        pytest.param(_tier(ENTERPRISE, 19), PASS, None, id="enterprise: the 20th recall"),
        pytest.param(_tier(ENTERPRISE, 20), FAIL, COUNT, id="enterprise: the 21st recall"),
        pytest.param(
            _tier(ENTERPRISE, 5, "49900.00"),
            PASS,
            None,
            id="enterprise: 49,900.00 today + 100.00 = 50,000.00",
        ),
        pytest.param(
            _tier(ENTERPRISE, 5, "49900.01"),
            FAIL,
            AMOUNT,
            id="enterprise: 49,900.01 today + 100.00 = 50,000.01",
        ),
        pytest.param(
            _tier(ENTERPRISE, 0, total="50000.00"), PASS, None, id="enterprise: 50,000.00 at once"
        ),
        pytest.param(
            _tier(ENTERPRISE, 0, total="50000.01"), FAIL, AMOUNT, id="enterprise: 50,000.01 at once"
        ),
    ],
)
def test_daily_count_and_amount_limits_per_tier_reopen_at_the_next_local_day(
    facts: RecallFacts, verdict: Verdict, reason: ReasonCode | None
) -> None:
    """R-A4: class I 5 a day / 5,000.00, enterprise 20 / 50,000.00, counted over executed
    recalls of the local day; a limit reached says: retry when the next local day opens for
    recalls (00:10, after the settlement blackout), unless the amount alone is over the day's
    cap, which no wait can cure: then support."""
    cap = POLICY.recall.tier_rule(facts.requester.tier.value).daily_amount_minor
    never = facts.packet.remainder_minor > cap
    next_step = (SUPPORT if never else retry(TOMORROW_OPEN_US)) if verdict is FAIL else None
    outcomes = rules.tier_daily_limits(POLICY)(facts)
    check(outcomes, "tier_daily_limits", "R-A4", verdict, reason, next_step)


def test_the_daily_limit_retry_time_is_the_coming_midnight_even_just_after_one() -> None:
    """Just after midnight the day has barely begun: retry when the coming day opens for
    recalls (00:10, after the blackout), ~23.7 h on."""
    now = local_us(2026, 12, 1, 0, 30)
    facts = with_usage(allowed(now), 5)
    check(
        rules.tier_daily_limits(POLICY)(facts),
        "tier_daily_limits",
        "R-A4",
        FAIL,
        COUNT,
        retry(local_us(2026, 12, 2, 0, 10)),
    )


def test_an_unverified_account_may_not_recall_at_all() -> None:
    """R-A4: the unverified tier (未实名) has 0 recalls a day: denied, next step support."""
    facts = with_requester(allowed(), tier=AccountTier.UNVERIFIED)
    check(
        rules.tier_daily_limits(POLICY)(facts),
        "tier_daily_limits",
        "R-A4",
        FAIL,
        ReasonCode.TIER_CANNOT_RECALL,
        SUPPORT,
    )
    check(
        rules.tier_verification(POLICY)(facts),
        "tier_verification",
        "R-A4",
        NOT_APPLICABLE,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("tier", "passed", "verdict", "needed"),
    [
        pytest.param(CLASS_I, (), CHALLENGE, ChallengeKind.SMS_CODE, id="class I asks for SMS"),
        pytest.param(CLASS_I, (ChallengeKind.SMS_CODE,), PASS, None, id="class I SMS passed"),
        pytest.param(
            CLASS_I,
            (ChallengeKind.FACE,),
            CHALLENGE,
            ChallengeKind.SMS_CODE,
            id="class I: the face does not replace the SMS",
        ),
        pytest.param(
            ENTERPRISE,
            (),
            CHALLENGE,
            ChallengeKind.CORPORATE_ACCOUNT,
            id="enterprise asks for the corporate account",
        ),
        pytest.param(
            ENTERPRISE,
            (ChallengeKind.SMS_CODE,),
            CHALLENGE,
            ChallengeKind.CORPORATE_ACCOUNT,
            id="enterprise: SMS is not enough",
        ),
        pytest.param(
            ENTERPRISE,
            (ChallengeKind.CORPORATE_ACCOUNT,),
            PASS,
            None,
            id="enterprise corporate account passed",
        ),
    ],
)
def test_each_tier_asks_for_its_own_verification_on_every_recall(
    tier: AccountTier,
    passed: tuple[ChallengeKind, ...],
    verdict: Verdict,
    needed: ChallengeKind | None,
) -> None:
    """R-A4: class I needs the SMS code, enterprise the corporate-account verification."""
    facts = with_challenges(with_requester(allowed(), tier=tier), *passed)
    reason = ReasonCode.TIER_VERIFICATION_REQUIRED if needed else None
    next_step = verify(needed) if needed else None
    outcomes = rules.tier_verification(POLICY)(facts)
    check(outcomes, "tier_verification", "R-A4", verdict, reason, next_step)


# ----------------------------------------------------------------------- R-A5 only the sender


def test_only_the_sender_may_recall() -> None:
    """R-A5: the sender passes; anybody else fails with permission.not_sender."""
    check(rules.only_the_sender(POLICY)(allowed()), "only_the_sender", "R-A5", PASS, None, None)
    other = with_requester(allowed(), user_id=OTHER_USER)
    check(
        rules.only_the_sender(POLICY)(other),
        "only_the_sender",
        "R-A5",
        FAIL,
        ReasonCode.NOT_SENDER,
        SUPPORT,
    )


@pytest.mark.parametrize("status", [UserStatus.ABNORMAL, UserStatus.FROZEN])
def test_an_abnormal_or_frozen_account_may_not_recall(status: UserStatus) -> None:
    """R-F2: a balance refund is impossible while the account is abnormal (frozen)."""
    facts = with_requester(allowed(), status=status)
    check(
        rules.account_in_good_standing(POLICY)(facts),
        "account_in_good_standing",
        "R-F2",
        FAIL,
        ReasonCode.ACCOUNT_RESTRICTED,
        SUPPORT,
    )


# ------------------------------------------------------------------- R-A1 the sending device


@pytest.mark.parametrize(
    ("facts", "verdict", "reason", "next_step"),
    [
        pytest.param(allowed(), PASS, None, None, id="same device, same SIM"),
        pytest.param(
            with_device(allowed(), device_id="device-other"),
            FAIL,
            ReasonCode.NOT_SENDING_DEVICE,
            SWITCH_DEVICE,
            id="other device, same SIM",
        ),
        pytest.param(
            with_device(allowed(), sim_id="sim-other"),
            FAIL,
            ReasonCode.NOT_SENDING_DEVICE,
            SWITCH_DEVICE,
            id="same device, other SIM",
        ),
        pytest.param(
            with_device(allowed(), device_id="device-other", sim_id="sim-other"),
            FAIL,
            ReasonCode.NOT_SENDING_DEVICE,
            SWITCH_DEVICE,
            id="other device and SIM",
        ),
        pytest.param(
            with_device(allowed(), is_registered_to_requester=False),
            FAIL,
            ReasonCode.NOT_SENDING_DEVICE,
            SWITCH_DEVICE,
            id="same ids, device not registered to the requester",
        ),
        pytest.param(
            with_packet(allowed(), sender_device_id=None),
            FAIL,
            ReasonCode.SENDING_DEVICE_UNKNOWN,
            SUPPORT,
            id="sending device unknown",
        ),
        pytest.param(
            with_packet(allowed(), sender_sim_id=None),
            FAIL,
            ReasonCode.SENDING_DEVICE_UNKNOWN,
            SUPPORT,
            id="sending SIM unknown",
        ),
    ],
)
def test_the_recall_must_come_from_the_sending_device_and_sim(
    facts: RecallFacts, verdict: Verdict, reason: ReasonCode | None, next_step: NextStep | None
) -> None:
    """R-A1: same device id and SIM as the send, on a device registered to the requester."""
    outcomes = rules.from_the_sending_device(POLICY)(facts)
    check(outcomes, "from_the_sending_device", "R-A1", verdict, reason, next_step)


# ---------------------------------------------------------------- R-D1 / R-D2 device limits


@pytest.mark.parametrize(
    ("facts", "verdict"),
    [
        pytest.param(
            with_device(with_packet(allowed(), total_minor=yuan("200.00")), is_watch=True),
            PASS,
            id="watch, 200.00 packet",
        ),
        pytest.param(
            with_device(with_packet(allowed(), total_minor=yuan("200.01")), is_watch=True),
            FAIL,
            id="watch, 200.01 packet",
        ),
        pytest.param(
            with_device(
                remainder_of(with_packet(allowed(), total_minor=yuan("300.00")), yuan("100.00")),
                is_watch=True,
            ),
            FAIL,
            id="watch, 300.00 packet with only 100.00 left: the total counts",
        ),
        pytest.param(
            with_packet(allowed(), total_minor=yuan("200.01")),
            NOT_APPLICABLE,
            id="phone, 200.01 packet",
        ),
    ],
)
def test_a_watch_may_recall_only_packets_up_to_200_yuan(
    facts: RecallFacts, verdict: Verdict
) -> None:
    """R-D1: the cap is on the packet total; above it the next step is another device."""
    reason = ReasonCode.WATCH_CAP if verdict is FAIL else None
    next_step = SWITCH_DEVICE if verdict is FAIL else None
    check(
        rules.watch_amount_cap(POLICY)(facts),
        "watch_amount_cap",
        "R-D1",
        verdict,
        reason,
        next_step,
    )


@pytest.mark.parametrize(
    ("platform", "major", "passed", "verdict"),
    [
        pytest.param("harmonyos", 3, (), CHALLENGE, id="HarmonyOS 3.x asks"),
        pytest.param(
            "harmonyos",
            3,
            (ChallengeKind.SECURITY_ENVIRONMENT,),
            PASS,
            id="HarmonyOS 3.x with the check passed",
        ),
        pytest.param("harmonyos", 4, (), NOT_APPLICABLE, id="HarmonyOS 4.x"),
        pytest.param("harmonyos", 2, (), NOT_APPLICABLE, id="HarmonyOS 2.x"),
        pytest.param("android", 3, (), NOT_APPLICABLE, id="Android 3 is not HarmonyOS"),
        pytest.param("ios", 3, (), NOT_APPLICABLE, id="iOS 3 is not HarmonyOS"),
    ],
)
def test_harmonyos_3_needs_one_extra_security_environment_verification(
    platform: str, major: int, passed: tuple[ChallengeKind, ...], verdict: Verdict
) -> None:
    """R-D2: only HarmonyOS 3.x is asked; a passed check turns the challenge into a pass."""
    facts = with_challenges(
        with_device(allowed(), platform=platform, os_major=major), ChallengeKind.SMS_CODE, *passed
    )
    reason = ReasonCode.SECURITY_ENVIRONMENT_REQUIRED if verdict is CHALLENGE else None
    next_step = verify(ChallengeKind.SECURITY_ENVIRONMENT) if verdict is CHALLENGE else None
    outcomes = rules.security_environment_check(POLICY)(facts)
    check(outcomes, "security_environment_check", "R-D2", verdict, reason, next_step)


# --------------------------------------------------------------------------- packet state


@pytest.mark.parametrize(
    ("facts", "verdict", "reason", "next_step"),
    [
        pytest.param(allowed(), PASS, None, None, id="open"),
        pytest.param(
            with_packet(allowed(), state=PacketState.RECALLED),
            FAIL,
            ReasonCode.ALREADY_RECALLED,
            SUPPORT,
            id="already recalled",
        ),
        pytest.param(
            with_packet(allowed(), state=PacketState.EXPIRED),
            FAIL,
            ReasonCode.EXPIRED,
            SUPPORT,
            id="expired state",
        ),
        pytest.param(
            with_packet(allowed(), expires_at_us=NOW_US),
            FAIL,
            ReasonCode.EXPIRED,
            SUPPORT,
            id="open but expires_at is now",
        ),
        pytest.param(
            with_packet(allowed(), expires_at_us=NOW_US - 1),
            FAIL,
            ReasonCode.EXPIRED,
            SUPPORT,
            id="open but past expires_at",
        ),
        pytest.param(
            with_packet(allowed(), expires_at_us=NOW_US + 1),
            PASS,
            None,
            None,
            id="a microsecond before expires_at",
        ),
        pytest.param(
            with_packet(allowed(), state=PacketState.EXHAUSTED),
            FAIL,
            ReasonCode.EXHAUSTED,
            SUPPORT,
            id="exhausted",
        ),
        pytest.param(
            recall_in_progress(allowed()),
            FAIL,
            ReasonCode.RECALL_IN_PROGRESS,
            NextStep(NextStepKind.RETRY_AT, retry_at_us=NOW_US + MINUTE_US),
            id="another recall in progress: retry in a minute",
        ),
    ],
)
def test_only_an_open_unexpired_packet_without_a_recall_in_flight_is_recallable(
    facts: RecallFacts, verdict: Verdict, reason: ReasonCode | None, next_step: NextStep | None
) -> None:
    """R-P4 and the recall's own exclusivity: recalled, expired, exhausted or busy fails."""
    outcomes = rules.packet_still_recallable(POLICY)(facts)
    check(outcomes, "packet_still_recallable", "R-P4", verdict, reason, next_step)


# ------------------------------------------------------------------ R-X2 escrow consistency


@pytest.mark.parametrize(
    ("facts", "verdict"),
    [
        pytest.param(allowed(), PASS, id="balance: escrow = remainder"),
        pytest.param(
            with_escrow(allowed(), escrow_balance_minor=yuan("99.99")),
            FAIL,
            id="balance: escrow a fen short",
        ),
        pytest.param(
            with_escrow(allowed(), escrow_balance_minor=yuan("100.01")),
            FAIL,
            id="balance: escrow a fen over",
        ),
        pytest.param(
            remainder_of(allowed(), yuan("40.00"), count=6),
            PASS,
            id="balance, partly claimed: escrow = remainder",
        ),
        pytest.param(
            with_escrow(
                remainder_of(allowed(), yuan("40.00"), count=6), escrow_balance_minor=yuan("100.00")
            ),
            FAIL,
            id="balance, partly claimed: escrow still holds the claimed shares",
        ),
        pytest.param(
            with_escrow(allowed(), open_hold_minor=1), FAIL, id="balance: an unexpected card hold"
        ),
        pytest.param(
            card_funded(allowed()), PASS, id="card window open: hold = remainder, escrow 0"
        ),
        pytest.param(
            card_funded(remainder_of(allowed(), yuan("40.00"), count=6)),
            PASS,
            id="card window open, partly claimed: hold = remainder",
        ),
        pytest.param(
            with_escrow(card_funded(allowed()), open_hold_minor=yuan("99.99")),
            FAIL,
            id="card: the open hold a fen short",
        ),
        pytest.param(
            with_escrow(card_funded(allowed()), open_hold_minor=0),
            FAIL,
            id="card: the hold is gone",
        ),
        pytest.param(
            with_escrow(card_funded(allowed()), escrow_balance_minor=yuan("100.00")),
            FAIL,
            id="card: escrow holds money while the card hold is open",
        ),
    ],
)
def test_the_packet_record_must_match_its_escrow_or_open_card_hold(
    facts: RecallFacts, verdict: Verdict
) -> None:
    """R-X2: a mismatch between the packet record and escrow (or the open hold) denies."""
    reason = ReasonCode.ESCROW_MISMATCH if verdict is FAIL else None
    next_step = SUPPORT if verdict is FAIL else None
    outcomes = rules.escrow_matches_packet(POLICY)(facts)
    check(outcomes, "escrow_matches_packet", "R-X2", verdict, reason, next_step)


def test_card_funded_packets_of_every_card_kind_are_checked_against_their_hold() -> None:
    """R-P2 / R-X1: debit, credit and foreign cards all hold; a consistent hold passes."""
    for kind in (FundingKind.DEBIT_CARD, FundingKind.CREDIT_CARD, FundingKind.FOREIGN_CARD):
        facts = card_funded(allowed(), kind)
        assert rules.escrow_matches_packet(POLICY)(facts)[0].verdict is PASS, kind


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        pytest.param(PacketState.EXPIRED, ReasonCode.EXPIRED, id="expired"),
        pytest.param(PacketState.RECALLED, ReasonCode.ALREADY_RECALLED, id="recalled"),
    ],
)
def test_a_closed_packet_with_its_remainder_refunded_is_not_an_escrow_mismatch(
    state: PacketState, reason: ReasonCode
) -> None:
    """Expiry or recall refunded the remainder, so escrow is 0: the ledger's consistent state;
    R-X2 must not flag it (the denial is the packet state alone)."""
    facts = with_escrow(with_packet(allowed(), state=state), escrow_balance_minor=0)
    assert rules.escrow_matches_packet(POLICY)(facts)[0].verdict is not FAIL
    assert evaluate(facts, POLICY, "d-closed").reasons == (reason,)


# --------------------------------------------------------------------------------- R-K1 risk


@pytest.mark.parametrize(
    ("actions", "passed", "verdict", "reason", "next_step"),
    [
        pytest.param((), (), PASS, None, None, id="no action"),
        pytest.param(
            (RiskAction.CHALLENGE,),
            (),
            CHALLENGE,
            ReasonCode.RISK_CHALLENGE,
            verify(ChallengeKind.FACE),
            id="step-up: face challenge",
        ),
        pytest.param(
            (RiskAction.CHALLENGE,),
            (ChallengeKind.FACE,),
            PASS,
            None,
            None,
            id="step-up with the face passed",
        ),
        pytest.param((RiskAction.HOLD,), (), PASS, None, None, id="hold runs, its refund held"),
        pytest.param((RiskAction.LOCK,), (), FAIL, ReasonCode.RISK_LOCK, SUPPORT, id="lock"),
        pytest.param((RiskAction.BLOCK,), (), FAIL, ReasonCode.RISK_BLOCK, SUPPORT, id="block"),
        pytest.param(
            (RiskAction.HOLD, RiskAction.CHALLENGE),
            (),
            CHALLENGE,
            ReasonCode.RISK_CHALLENGE,
            verify(ChallengeKind.FACE),
            id="a hold still asks for the face first",
        ),
        pytest.param(
            (RiskAction.CHALLENGE, RiskAction.HOLD, RiskAction.BLOCK),
            (),
            FAIL,
            ReasonCode.RISK_BLOCK,
            SUPPORT,
            id="the most severe action is reported",
        ),
        pytest.param(
            (RiskAction.HOLD, RiskAction.LOCK),
            (),
            FAIL,
            ReasonCode.RISK_LOCK,
            SUPPORT,
            id="lock over hold",
        ),
    ],
)
def test_risk_actions_step_up_to_face_or_deny_with_their_own_codes(
    actions: tuple[RiskAction, ...],
    passed: tuple[ChallengeKind, ...],
    verdict: Verdict,
    reason: ReasonCode | None,
    next_step: NextStep | None,
) -> None:
    """R-K1: challenge asks for the face; a hold lets the recall run (its refund is held when
    it executes); lock and block fail, each with its reason."""
    facts = with_challenges(with_risk(allowed(), *actions), ChallengeKind.SMS_CODE, *passed)
    outcomes = rules.risk_assessment(POLICY)(facts)
    check(outcomes, "risk_assessment", "R-K1", verdict, reason, next_step)


# ----------------------------------------------------- next steps that a client can follow


def _at_retry_time(facts: RecallFacts, outcome: RuleOutcome) -> RecallFacts:
    """The same packet and requester, asking again at the outcome's retry time on a fresh
    local day (nothing recalled yet that day), the packet sent an hour before."""
    assert outcome.next_step is not None
    assert outcome.next_step.retry_at_us is not None
    later = allowed(outcome.next_step.retry_at_us)
    later = with_packet(later, total_minor=facts.packet.total_minor)
    return with_requester(later, tier=facts.requester.tier)


def test_a_daily_count_denial_suggests_a_retry_time_at_which_recall_is_open() -> None:
    """R-A4 + R-T3 + R-U1: the retry time given must be one at which the recall can go through."""
    facts = with_usage(allowed(), 5)
    (outcome,) = rules.tier_daily_limits(POLICY)(facts)
    decision = evaluate(_at_retry_time(facts, outcome), POLICY, "d-retry")
    assert decision.result is DecisionResult.ALLOW, decision.reasons


def test_a_recall_larger_than_the_whole_daily_amount_is_not_told_to_retry_tomorrow() -> None:
    """R-A4 + R-U1: a retry time is only a next step if the limit is lifted by then."""
    facts = _tier(CLASS_I, 0, total="5000.01")
    (outcome,) = rules.tier_daily_limits(POLICY)(facts)
    assert outcome.next_step is not None
    if outcome.next_step.kind is NextStepKind.RETRY_AT:
        (again,) = rules.tier_daily_limits(POLICY)(_at_retry_time(facts, outcome))
        assert again.verdict is PASS, again


def test_a_new_account_retry_time_is_the_moment_the_limit_lifts() -> None:
    """R-A3's retry time is exact: a microsecond before it the rule fails, at it it is lifted."""
    facts = _new_account(SEVEN_DAYS_US - HOUR_US, "300.00")
    (outcome,) = rules.new_account_large_amount(POLICY)(facts)
    retry_at = facts.now_us + HOUR_US
    assert outcome.next_step == retry(retry_at)
    at_retry = rules.new_account_large_amount(POLICY)(replace(facts, now_us=retry_at))
    assert at_retry[0].verdict is NOT_APPLICABLE
    just_before = rules.new_account_large_amount(POLICY)(replace(facts, now_us=retry_at - 1))
    assert just_before[0].verdict is FAIL
