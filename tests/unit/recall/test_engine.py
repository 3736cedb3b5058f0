"""The recall engine: every rule always runs, and the outcomes combine into one decision.

Any fail denies (listing every failing rule); else any challenge asks for every verification
still needed, once each; else the recall is allowed. A rule that raises denies safely with
``engine.rule_error``. The decision names the policy version and is a pure function of its
inputs, which a Hypothesis property checks over generated snapshots.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hongbao.identity.users import AccountTier, UserStatus, UserType
from hongbao.identity.verification import ChallengeKind
from hongbao.packets.model import PacketState, PacketType
from hongbao.policy.document import Policy, default_policy, parse_policy
from hongbao.recall.engine import (
    MAX_COMPILED_POLICIES,
    MAX_ERROR_TEXT,
    CompiledPolicy,
    compiled,
    evaluate,
)
from hongbao.recall.facts import RecallFacts
from hongbao.recall.model import (
    Decision,
    DecisionResult,
    NextStep,
    NextStepKind,
    RuleOutcome,
    Verdict,
)
from hongbao.recall.reasons import ReasonCode
from hongbao.recall.rules import RULES, Check, Rule
from hongbao.risk.assessors import PassingAssessor
from hongbao.risk.model import RiskAction, RiskAssessment
from tests.unit.recall.builders import (
    DAY_US,
    HOUR_US,
    MINUTE_US,
    NOW_US,
    OTHER_USER,
    SECOND_US,
    allowed,
    claimed,
    local_us,
    lucky,
    registered_ago,
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
EVERY_RULE = tuple(rule.name for rule in RULES)


def decide(
    facts: RecallFacts, policy: Policy = POLICY, rules: tuple[Rule, ...] = RULES
) -> Decision:
    return evaluate(facts, policy, "decision-1", rules)


# ----------------------------------------------------------------------------------- allow


def test_the_default_snapshot_is_allowed_with_a_full_trace() -> None:
    """The builder's defaults ALLOW: no reason, no challenge, and every rule is in the trace,
    in the engine's order, each one passing or not concerned."""
    facts = allowed()
    decision = decide(facts)
    assert decision.result is DecisionResult.ALLOW
    assert decision.reasons == ()
    assert decision.challenges == ()
    assert decision.failures == ()
    assert tuple(outcome.rule for outcome in decision.outcomes) == EVERY_RULE
    assert {outcome.verdict for outcome in decision.outcomes} <= {
        Verdict.PASS,
        Verdict.NOT_APPLICABLE,
    }
    assert decision.decision_id == "decision-1"
    assert decision.evaluated_at_us == facts.now_us


def test_every_outcome_names_the_rule_and_requirement_it_came_from() -> None:
    """The trace is honest: each outcome's (rule, requirement) is one of the engine's rules."""
    known = {(rule.name, rule.requirement) for rule in RULES}
    for outcome in decide(allowed()).outcomes:
        assert (outcome.rule, outcome.requirement) in known


def test_the_passing_risk_assessor_leaves_an_allowed_recall_allowed() -> None:
    """R-K1's default port: level 0, no action, so it neither challenges nor denies."""
    facts = allowed()
    risk = PassingAssessor().assess(facts)
    assert risk == RiskAssessment(
        level=0, actions=(), assessor="default", reasons=("no risk rules",)
    )
    assert decide(replace(facts, risk=risk)).result is DecisionResult.ALLOW


def test_an_exempt_outcome_does_not_block_the_recall() -> None:
    """R-A3 exemption: a certified enterprise, 3 days old, recalls 300.00 with the face passed."""
    facts = with_exemptions(
        registered_ago(with_packet(allowed(), total_minor=yuan("300.00")), 3 * DAY_US),
        "certified_enterprise",
    )
    facts = with_challenges(facts, ChallengeKind.SMS_CODE, ChallengeKind.FACE)
    decision = decide(facts)
    assert decision.result is DecisionResult.ALLOW
    (exempt,) = [o for o in decision.outcomes if o.verdict is Verdict.EXEMPT]
    assert (exempt.rule, exempt.exempted_by) == (
        "new_account_large_amount",
        ("certified_enterprise",),
    )


# ------------------------------------------------------------------------------------ deny


def test_a_denial_lists_every_failing_rule_not_only_the_first() -> None:
    """All rules always run: a stranger, on a watch in the blackout, with a broken escrow and a
    risk block, gets every one of those reasons, in rule order."""
    facts = allowed(local_us(2026, 11, 30, 23, 55))
    facts = with_requester(facts, user_id=OTHER_USER)
    facts = with_packet(facts, total_minor=yuan("250.00"))
    facts = with_escrow(facts, escrow_balance_minor=1)
    facts = with_device(facts, is_watch=True)
    facts = with_risk(facts, RiskAction.BLOCK)
    decision = decide(facts)
    assert decision.result is DecisionResult.DENY
    assert decision.reasons == (
        ReasonCode.NOT_SENDER,
        ReasonCode.BLACKOUT,
        ReasonCode.ESCROW_MISMATCH,
        ReasonCode.WATCH_CAP,
        ReasonCode.RISK_BLOCK,
    )
    assert tuple(o.rule for o in decision.failures) == (
        "only_the_sender",
        "outside_settlement_blackout",
        "escrow_matches_packet",
        "watch_amount_cap",
        "risk_assessment",
    )
    assert tuple(outcome.rule for outcome in decision.outcomes) == EVERY_RULE


def test_a_failure_denies_even_when_other_rules_only_challenge() -> None:
    """Fail beats challenge: the face challenge of a 300.00 recall does not soften a blackout,
    and a denial's reasons are its failures only."""
    facts = with_packet(allowed(local_us(2026, 11, 30, 23, 50)), total_minor=yuan("300.00"))
    decision = decide(facts)
    assert decision.result is DecisionResult.DENY
    assert decision.reasons == (ReasonCode.BLACKOUT,)
    (blackout,) = decision.failures
    assert blackout.next_step == NextStep(
        NextStepKind.RETRY_AT, retry_at_us=local_us(2026, 12, 1, 0, 10)
    )


def test_at_exactly_24_hours_an_unclaimed_packet_is_denied_by_every_window_that_closed() -> None:
    """R-T1, R-P4 and R-T4 all close at 24 h; a microsecond earlier the recall is allowed."""
    assert decide(sent_ago(allowed(), 24 * HOUR_US - 1)).result is DecisionResult.ALLOW
    decision = decide(sent_ago(allowed(), 24 * HOUR_US))
    assert decision.result is DecisionResult.DENY
    assert decision.reasons == (
        ReasonCode.EXPIRED,
        ReasonCode.UNCLAIMED_WINDOW_PASSED,
        ReasonCode.TYPE_WINDOW_PASSED,
    )


def test_an_unverified_account_is_denied_whatever_else_is_right() -> None:
    """R-A4: the unverified tier has no recalls at all."""
    decision = decide(with_requester(allowed(), tier=AccountTier.UNVERIFIED))
    assert decision.result is DecisionResult.DENY
    assert decision.reasons == (ReasonCode.TIER_CANNOT_RECALL,)


def test_a_lucky_packet_30_minutes_after_its_first_claim_is_denied() -> None:
    """R-T2 end to end: 29:59 after the first claim allowed, 30:00 denied."""
    packet = lucky(allowed(), yuan("100.00"), 10)
    open_ = claimed(packet, 3, yuan("30.00"), 30 * MINUTE_US - SECOND_US)
    closed = claimed(packet, 3, yuan("30.00"), 30 * MINUTE_US)
    assert decide(open_).result is DecisionResult.ALLOW
    assert decide(closed).reasons == (ReasonCode.LUCKY_WINDOW_PASSED,)


# ------------------------------------------------------------------------------- challenge


def test_a_challenge_lists_every_verification_still_needed_once_in_rule_order() -> None:
    """300.00 (face, R-A2), no SMS yet (class I), HarmonyOS 3 (R-D2) and a risk step-up (face
    again): one challenge asking for face, SMS and the security environment, face once."""
    facts = with_packet(allowed(), total_minor=yuan("300.00"))
    facts = with_device(facts, platform="harmonyos", os_major=3)
    facts = with_challenges(with_risk(facts, RiskAction.CHALLENGE))
    decision = decide(facts)
    assert decision.result is DecisionResult.CHALLENGE
    assert decision.challenges == (
        ChallengeKind.FACE,
        ChallengeKind.SMS_CODE,
        ChallengeKind.SECURITY_ENVIRONMENT,
    )
    assert decision.reasons == (
        ReasonCode.FACE_REQUIRED,
        ReasonCode.TIER_VERIFICATION_REQUIRED,
        ReasonCode.SECURITY_ENVIRONMENT_REQUIRED,
        ReasonCode.RISK_CHALLENGE,
    )
    assert decision.failures == ()


def test_passing_every_asked_verification_turns_the_challenge_into_an_allow() -> None:
    """Once face, SMS and the security environment are passed, the same request is allowed."""
    facts = with_packet(allowed(), total_minor=yuan("300.00"))
    facts = with_device(facts, platform="harmonyos", os_major=3)
    facts = with_risk(facts, RiskAction.CHALLENGE)
    facts = with_challenges(
        facts, ChallengeKind.FACE, ChallengeKind.SMS_CODE, ChallengeKind.SECURITY_ENVIRONMENT
    )
    decision = decide(facts)
    assert decision.result is DecisionResult.ALLOW
    assert decision.challenges == ()


def test_an_enterprise_account_is_challenged_for_its_corporate_account() -> None:
    """R-A4: enterprise recalls need the corporate-account verification; SMS does not do."""
    facts = with_requester(allowed(), tier=AccountTier.ENTERPRISE, user_type=UserType.ENTERPRISE)
    decision = decide(facts)
    assert decision.result is DecisionResult.CHALLENGE
    assert decision.challenges == (ChallengeKind.CORPORATE_ACCOUNT,)
    passed = with_challenges(facts, ChallengeKind.CORPORATE_ACCOUNT)
    assert decide(passed).result is DecisionResult.ALLOW


# ---------------------------------------------------------------------- a rule that raises


def _explode(policy: Policy) -> Check:
    del policy

    def check(facts: RecallFacts) -> list[RuleOutcome]:
        del facts
        raise RuntimeError("the rule fell over")

    return check


EXPLODING = Rule("exploding_rule", "R-T9", _explode)


def test_a_rule_that_raises_becomes_an_error_outcome_that_denies() -> None:
    """The broken rule denies with engine.rule_error and support as next step; every other
    rule still runs, before and after it."""
    rules = (*RULES[:3], EXPLODING, *RULES[3:])
    decision = decide(allowed(), rules=rules)
    assert decision.result is DecisionResult.DENY
    assert decision.reasons == (ReasonCode.RULE_ERROR,)
    (error,) = decision.failures
    assert error == RuleOutcome(
        "exploding_rule",
        "R-T9",
        Verdict.ERROR,
        ReasonCode.RULE_ERROR,
        (("error", "RuntimeError: the rule fell over"),),
        NextStep(NextStepKind.CONTACT_SUPPORT),
    )
    assert error.blocks
    assert tuple(o.rule for o in decision.outcomes) == (
        *EVERY_RULE[:3],
        "exploding_rule",
        *EVERY_RULE[3:],
    )


def test_a_raising_rule_denies_a_request_that_would_otherwise_be_challenged() -> None:
    """An error is never softer than a challenge: the challenge is still listed, the result is
    deny."""
    facts = with_packet(allowed(), total_minor=yuan("300.00"))
    decision = decide(facts, rules=(*RULES, EXPLODING))
    assert decision.result is DecisionResult.DENY
    assert decision.reasons == (ReasonCode.RULE_ERROR,)
    assert decision.challenges == (ChallengeKind.FACE,)


def test_an_error_message_is_cut_to_a_bounded_length() -> None:
    """A rule raising with a huge message yields at most MAX_ERROR_TEXT characters of it."""

    def chatty(policy: Policy) -> Check:
        del policy

        def check(facts: RecallFacts) -> list[RuleOutcome]:
            del facts
            raise ValueError("x" * 10_000)

        return check

    decision = decide(allowed(), rules=(Rule("chatty", "R-T9", chatty),))
    (error,) = decision.outcomes
    ((name, text),) = error.facts
    assert name == "error"
    assert len(text) == MAX_ERROR_TEXT
    assert text.startswith("ValueError: xxx")


def test_a_rule_that_cannot_compile_for_the_policy_denies_every_recall() -> None:
    """A rule whose compile step raises (a table the policy lacks) is an error outcome in every
    decision under that policy, never a crash and never a pass."""

    def unreadable(policy: Policy) -> Check:
        raise KeyError(policy.version)

    decision = decide(allowed(), rules=(*RULES, Rule("unreadable", "R-T9", unreadable)))
    assert decision.result is DecisionResult.DENY
    (error,) = decision.failures
    assert (error.rule, error.reason) == ("unreadable", ReasonCode.RULE_ERROR)
    assert error.facts == (("error", f"KeyError: '{POLICY.version}'"),)


# ------------------------------------------------------------------------- policy version


def test_the_decision_records_the_version_of_the_policy_it_was_made_under() -> None:
    """The default policy's version is name@hash; a changed number is a new version, and the
    decision made under it names that version and follows its numbers."""
    facts = with_usage(allowed(), 5)
    under_default = decide(facts)
    assert under_default.policy_version == POLICY.version
    assert POLICY.version.startswith("default@")
    assert under_default.reasons == (ReasonCode.DAILY_COUNT_REACHED,)

    from importlib import resources  # noqa: PLC0415 - only this test reads the file

    text = resources.files("hongbao.policy").joinpath("default.toml").read_text("utf-8")
    assert text.count("daily_count = 5\n") == 1
    six_a_day = parse_policy(text.replace("daily_count = 5\n", "daily_count = 6\n").encode())
    assert six_a_day.version != POLICY.version
    under_six = decide(facts, policy=six_a_day)
    assert under_six.policy_version == six_a_day.version
    assert under_six.result is DecisionResult.ALLOW


def test_the_decision_echoes_whatever_version_the_policy_carries() -> None:
    """policy_version is copied from the policy, not computed by the engine."""
    relabelled = POLICY.model_copy(update={"version": "ops-2026-11@abc"})
    assert decide(allowed(), policy=relabelled).policy_version == "ops-2026-11@abc"


# ------------------------------------------------------------------------------ purity


# 23:49:59, 23:50:00, 00:09:59, 00:10:00 local, as offsets into the local day
BLACKOUT_EDGES = (
    23 * HOUR_US + 49 * MINUTE_US + 59 * SECOND_US,
    23 * HOUR_US + 50 * MINUTE_US,
    9 * MINUTE_US + 59 * SECOND_US,
    10 * MINUTE_US,
)
KNOBS = (
    "age",
    "claims",
    "state",
    "sending_device",
    "escrow",
    "requester",
    "tier",
    "status",
    "registered",
    "device",
    "watch",
    "platform",
    "usage",
    "challenges",
    "exemptions",
    "risk",
    "in_progress",
)


@st.composite
def recall_facts(draw: st.DrawFn) -> RecallFacts:  # noqa: PLR0912 - one branch per knob
    """Snapshots across the space the rules look at. Time, packet type and amounts always vary
    (blackout, face, watch and daily-amount boundaries included); up to five other knobs
    (claims, states, devices, tiers, escrow, usage, challenges, exemptions, risk) move away
    from the allowed defaults, so allow, challenge and deny are all generated."""
    day = local_us(2026, 1, 1) + draw(st.integers(0, 730)) * DAY_US
    noon_based = st.integers(0, DAY_US - 1).map(lambda offset: (offset + 12 * HOUR_US) % DAY_US)
    at_blackout_edges = st.sampled_from(BLACKOUT_EDGES)
    now = day + draw(st.one_of(noon_based, at_blackout_edges))
    knobs = draw(st.sets(st.sampled_from(KNOBS), max_size=5))
    facts = allowed(now)
    packet_type = draw(st.sampled_from(PacketType))
    shares = 1 if packet_type is PacketType.PERSONAL else draw(st.integers(1, 100))
    boundaries = st.sampled_from([20_000, 20_001, 500_000, 500_001])  # 200.00, 5,000.00 (+0.01)
    total = max(shares, draw(st.one_of(st.integers(shares, 800_000), boundaries)))
    facts = with_packet(facts, packet_type=packet_type, share_count=shares, total_minor=total)
    if "age" in knobs:
        facts = sent_ago(facts, draw(st.integers(0, 2 * DAY_US)))
    if "claims" in knobs and packet_type is not PacketType.PERSONAL:
        count = draw(st.integers(1, shares))
        age = now - facts.packet.created_at_us
        facts = claimed(facts, count, draw(st.integers(0, total)), draw(st.integers(0, age)))
    if "state" in knobs:
        facts = with_packet(facts, state=draw(st.sampled_from(PacketState)))
    if "sending_device" in knobs:
        facts = with_packet(
            facts,
            sender_device_id=draw(st.sampled_from([facts.device.device_id, "device-x", None])),
            sender_sim_id=draw(st.sampled_from([facts.device.sim_id, "sim-x", None])),
        )
    if "escrow" in knobs:
        facts = with_escrow(
            facts,
            escrow_balance_minor=facts.escrow.escrow_balance_minor + draw(st.integers(-2, 2)),
            open_hold_minor=draw(st.integers(0, 2)),
        )
    if "requester" in knobs:
        facts = with_requester(facts, user_id=OTHER_USER)
    if "tier" in knobs:
        facts = with_requester(
            facts,
            tier=draw(st.sampled_from(AccountTier)),
            user_type=draw(st.sampled_from(UserType)),
        )
    if "status" in knobs:
        facts = with_requester(facts, status=draw(st.sampled_from(UserStatus)))
    if "registered" in knobs:
        facts = registered_ago(facts, draw(st.integers(0, 30 * DAY_US)))
    if "device" in knobs:
        facts = with_device(
            facts,
            device_id=draw(st.sampled_from([facts.device.device_id, "device-y"])),
            is_registered_to_requester=draw(st.booleans()),
        )
    if "watch" in knobs:
        facts = with_device(facts, is_watch=True)
    if "platform" in knobs:
        facts = with_device(
            facts,
            platform=draw(st.sampled_from(["ios", "android", "harmonyos", "watchos"])),
            os_major=draw(st.integers(0, 20)),
        )
    if "usage" in knobs:
        facts = with_usage(facts, draw(st.integers(0, 25)), draw(st.integers(0, 6_000_000)))
    if "challenges" in knobs:
        kinds = draw(st.lists(st.sampled_from(ChallengeKind), unique=True, max_size=4))
        facts = with_challenges(facts, *kinds)
    if "exemptions" in knobs:
        kinds = draw(st.lists(st.sampled_from(["vip", "certified_enterprise"]), unique=True))
        facts = with_exemptions(facts, *kinds)
    if "risk" in knobs:
        facts = with_risk(
            facts, *draw(st.lists(st.sampled_from(RiskAction), unique=True, max_size=3))
        )
    if "in_progress" in knobs:
        facts = replace(facts, other_recall_in_progress=True)
    return facts


@settings(max_examples=100, deadline=None)
@given(recall_facts())
def test_evaluating_the_same_facts_twice_gives_the_same_decision(facts: RecallFacts) -> None:
    """Purity: same facts and policy, same decision (outcomes and result), also from a deep
    copy of the snapshot; the rules do not depend on each other's order; and the result is
    the documented combination of the outcomes."""
    first = evaluate(facts, POLICY, "d-1")
    second = evaluate(facts, POLICY, "d-1")
    assert first == second
    assert evaluate(copy.deepcopy(facts), POLICY, "d-1") == first

    backwards = evaluate(facts, POLICY, "d-1", tuple(reversed(RULES)))
    assert Counter(backwards.outcomes) == Counter(first.outcomes)
    assert backwards.result is first.result

    assert {outcome.rule for outcome in first.outcomes} == set(EVERY_RULE)
    assert all(outcome.verdict is not Verdict.ERROR for outcome in first.outcomes)
    if any(outcome.blocks for outcome in first.outcomes):
        assert first.result is DecisionResult.DENY
    elif any(outcome.verdict is Verdict.CHALLENGE for outcome in first.outcomes):
        assert first.result is DecisionResult.CHALLENGE
        assert first.challenges
    else:
        assert first.result is DecisionResult.ALLOW
    assert first.policy_version == POLICY.version
    assert first.evaluated_at_us == facts.now_us


@settings(max_examples=200, deadline=None)
@given(st.lists(recall_facts(), min_size=1, max_size=5))
def test_the_kept_compiled_policy_decides_as_a_fresh_compile(snapshots: list[RecallFacts]) -> None:
    """The compiled policy kept for POLICY (and the blackout offsets it keeps between calls)
    gives, snapshot after snapshot, the decision of the rules compiled afresh, down to the
    stored record's bytes."""
    from hongbao.recall.service import outcomes_json  # noqa: PLC0415 - the stored form

    kept = compiled(POLICY)
    for facts in snapshots:
        fresh = CompiledPolicy.of(POLICY).evaluate(facts, "d-fresh")
        decision = kept.evaluate(facts, "d-fresh")
        assert decision == fresh
        assert outcomes_json(decision.outcomes) == outcomes_json(fresh.outcomes)
        assert evaluate(facts, POLICY, "d-fresh") == fresh


def test_a_policy_is_compiled_once_and_kept_per_policy_object() -> None:
    """The same policy object finds its compiled rules again; a copy with the same version but
    another number gets its own, so it decides by its own numbers."""
    assert compiled(POLICY) is compiled(POLICY)
    security = POLICY.recall.security.model_copy(update={"face_above_minor": 100_00})
    stricter = POLICY.model_copy(
        update={"recall": POLICY.recall.model_copy(update={"security": security})}
    )
    assert stricter.version == POLICY.version
    assert compiled(stricter) is not compiled(POLICY)
    facts = with_packet(allowed(), total_minor=yuan("150.00"))
    assert decide(facts).result is DecisionResult.ALLOW
    assert decide(facts, policy=stricter).challenges == (ChallengeKind.FACE,)


def test_the_compiled_policies_kept_are_bounded() -> None:
    """Many policies built in code (tests, what-if tools) never grow the cache past its limit;
    the oldest is dropped and compiled again when asked for."""
    policies = [
        POLICY.model_copy(update={"version": f"bounded@{index}"})
        for index in range(MAX_COMPILED_POLICIES + 5)
    ]
    first = compiled(policies[0])
    for policy in policies[1:]:
        assert compiled(policy).version == policy.version
    again = compiled(policies[0])
    assert again is not first
    assert again.version == "bounded@0"


def test_threads_compiling_many_policies_at_once_each_get_their_own() -> None:
    """Request threads may meet a new policy together while the cache is full and evicting:
    each gets the compiled rules of the policy it asked for, and nothing raises."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - only this test

    policies = [
        POLICY.model_copy(update={"version": f"threads@{index}"})
        for index in range(4 * MAX_COMPILED_POLICIES)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = list(pool.map(lambda policy: compiled(policy).version, policies * 2))
    assert versions == [policy.version for policy in policies * 2]


def test_the_default_snapshot_is_taken_at_a_quiet_afternoon() -> None:
    """Builder sanity: NOW is 15:00 Shanghai (07:00 UTC), the packet is an hour old."""
    facts = allowed()
    assert NOW_US == local_us(2026, 11, 30, 15) == 1_796_022_000 * SECOND_US
    assert facts.packet.created_at_us == NOW_US - HOUR_US


def test_contradictory_facts_deny_as_a_rule_error_instead_of_passing() -> None:
    """A lucky packet with claims but no first-claim time cannot be judged against R-T2: the
    rule raises, and the engine denies with engine.rule_error rather than letting it through."""
    facts = with_packet(lucky(allowed(), 100_00, 4), claimed_count=1, claimed_minor=10_00)
    decision = evaluate(facts, default_policy(), "d-contradiction")
    assert decision.result is DecisionResult.DENY
    failing = {outcome.rule: outcome.reason for outcome in decision.failures}
    assert failing["lucky_within_window_of_first_claim"] is ReasonCode.RULE_ERROR


@pytest.mark.parametrize(
    ("level", "result", "reason"),
    [
        (0, DecisionResult.ALLOW, None),
        (1, DecisionResult.CHALLENGE, ReasonCode.RISK_CHALLENGE),
        (2, DecisionResult.ALLOW, None),  # runs; its refund is held for review
        (3, DecisionResult.DENY, ReasonCode.RISK_LOCK),
        (4, DecisionResult.DENY, ReasonCode.RISK_BLOCK),
    ],
)
def test_a_risk_level_alone_carries_its_action(
    level: int, result: DecisionResult, reason: ReasonCode | None
) -> None:
    """R-K1: each of the five levels has its action, even when the assessor lists none; a
    hold (level 2) lets the recall run and holds its refund when it executes."""
    decision = evaluate(with_risk(allowed(), level=level), default_policy(), "d-risk")
    assert decision.result is result
    if reason is not None:
        assert reason in decision.reasons


def test_the_direct_outcomes_encoding_equals_the_generic_one_and_reads_back() -> None:
    """Decision records are written by a hand-built encoder; it must say exactly what the
    generic record encoder says, and read back to the same outcomes."""
    from hongbao.platform.records import from_json, to_json  # noqa: PLC0415
    from hongbao.recall.service import StoredOutcomes, outcomes_json  # noqa: PLC0415

    for facts in (allowed(), with_risk(allowed(), level=4), registered_ago(allowed(), DAY_US)):
        outcomes = evaluate(facts, default_policy(), "d-json").outcomes
        assert outcomes_json(outcomes) == to_json(StoredOutcomes(outcomes))
        assert from_json(StoredOutcomes, outcomes_json(outcomes)).items == outcomes
