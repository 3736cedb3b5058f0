"""The recall rules: one per requirement, each compiled once per policy into a pure check.

A rule is a function of the policy returning its check, a function of the facts alone: the
policy's thresholds and tables are resolved when the policy is compiled, never per evaluation.
A check returns its outcomes (one, or several for a rule that asks for several
verifications): pass, fail, challenge, exempt or not-applicable, with a stable reason code, the
facts it used and the next step. The engine runs every check; none short-circuits another.
Facts are raw values (times in microseconds): formatting is the reader's job, not the rule's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from hongbao.identity.users import AccountTier, UserStatus
from hongbao.identity.verification import ChallengeKind
from hongbao.packets.model import PacketState, PacketType
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, is_due
from hongbao.platform.invariants import present
from hongbao.policy.document import Policy
from hongbao.recall.calendar import daily_blackout
from hongbao.recall.facts import RecallFacts
from hongbao.recall.model import FactValue, NextStep, NextStepKind, RuleOutcome, Verdict
from hongbao.recall.reasons import ReasonCode
from hongbao.risk.model import RiskAction, RiskAssessment

MICROSECONDS_PER_MINUTE = 60 * MICROSECONDS_PER_SECOND
MICROSECONDS_PER_DAY = 24 * 60 * MICROSECONDS_PER_MINUTE
SUPPORT = NextStep(NextStepKind.CONTACT_SUPPORT)
# Enum members as plain names: looking one up on its class is a descriptor call each time.
PASS, FAIL, CHALLENGE = Verdict.PASS, Verdict.FAIL, Verdict.CHALLENGE
NOT_APPLICABLE, EXEMPT = Verdict.NOT_APPLICABLE, Verdict.EXEMPT
LUCKY = PacketType.GROUP_LUCKY
RECALLED, EXPIRED, EXHAUSTED = PacketState.RECALLED, PacketState.EXPIRED, PacketState.EXHAUSTED
NOT_DELIVERED = frozenset({PacketState.SCHEDULED, PacketState.CANCELLED})
SWITCH_DEVICE = NextStep(NextStepKind.SWITCH_DEVICE)

Facts: TypeAlias = tuple[tuple[str, FactValue], ...]
Outcomes: TypeAlias = tuple[RuleOutcome, ...]
Check: TypeAlias = Callable[[RecallFacts], Sequence[RuleOutcome]]
"""A rule compiled for one policy: the outcomes it gives for one snapshot."""


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    requirement: str
    compile: Callable[[Policy], Check]

    def check(self, facts: RecallFacts, policy: Policy) -> Sequence[RuleOutcome]:
        """Compile for ``policy`` and run once (tests, tools); the engine compiles once."""
        return self.compile(policy)(facts)


def _retrying(policy: Policy) -> Callable[[int], NextStep]:
    """Retry at a moment, or when the settlement blackout ends if it falls inside it, so that
    following the advice is not refused again for a known reason."""
    recall = policy.recall
    blackout = daily_blackout(recall.blackout_start, recall.blackout_end, recall.timezone)

    def retry(moment_us: int) -> NextStep:
        reopens = blackout.reopens_at(moment_us)
        return NextStep(
            NextStepKind.RETRY_AT, retry_at_us=moment_us if reopens is None else reopens
        )

    return retry


def _verify(kind: ChallengeKind) -> NextStep:
    return NextStep(NextStepKind.VERIFY, verification=kind)


def _constant(rule: str, requirement: str, verdict: Verdict, facts: Facts = ()) -> Outcomes:
    """An outcome that depends on nothing but the policy: built once, shared by decisions."""
    return (RuleOutcome(rule, requirement, verdict, None, facts),)


# ------------------------------------------------------------------------ who and what


def only_the_sender(policy: Policy) -> Check:
    del policy
    rule, requirement = "only_the_sender", "R-A5"

    def check(facts: RecallFacts) -> Outcomes:
        requester, sender = facts.requester.user_id, facts.packet.sender_id
        used = (("requester", requester), ("sender", sender))
        if requester == sender:
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        return (RuleOutcome(rule, requirement, FAIL, ReasonCode.NOT_SENDER, used, SUPPORT),)

    return check


def account_in_good_standing(policy: Policy) -> Check:
    del policy
    rule, requirement = "account_in_good_standing", "R-F2"
    # One outcome per status: the status is the only fact.
    outcomes = {
        status: _constant(rule, requirement, PASS, (("status", status.value),))
        if status is UserStatus.NORMAL
        else (
            RuleOutcome(
                rule,
                requirement,
                FAIL,
                ReasonCode.ACCOUNT_RESTRICTED,
                (("status", status.value),),
                SUPPORT,
            ),
        )
        for status in UserStatus
    }

    def check(facts: RecallFacts) -> Outcomes:
        return outcomes[facts.requester.status]

    return check


def packet_still_recallable(policy: Policy) -> Check:
    rule, requirement = "packet_still_recallable", "R-P4"
    retry = _retrying(policy)

    def check(facts: RecallFacts) -> Outcomes:
        packet = facts.packet
        state, in_progress = packet.state, facts.other_recall_in_progress
        used = (
            ("state", state.value),
            ("expires_at", packet.expires_at_us),
            ("other_recall_in_progress", in_progress),
        )
        if state is RECALLED:
            reason = ReasonCode.ALREADY_RECALLED
        elif state is EXPIRED or is_due(packet.expires_at_us, facts.now_us):
            reason = ReasonCode.EXPIRED
        elif state is EXHAUSTED:
            reason = ReasonCode.EXHAUSTED
        elif state in NOT_DELIVERED:
            reason = ReasonCode.NOT_DELIVERED
        elif in_progress:
            step = retry(facts.now_us + MICROSECONDS_PER_MINUTE)
            return (
                RuleOutcome(rule, requirement, FAIL, ReasonCode.RECALL_IN_PROGRESS, used, step),
            )
        else:
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        return (RuleOutcome(rule, requirement, FAIL, reason, used, SUPPORT),)

    return check


# --------------------------------------------------------------------------------- time


def unclaimed_within_window(policy: Policy) -> Check:
    rule, requirement = "unclaimed_within_window", "R-T1"
    window_us = policy.recall.unclaimed_window_hours * 60 * MICROSECONDS_PER_MINUTE

    def check(facts: RecallFacts) -> Outcomes:
        packet = facts.packet
        claimed, sent_at = packet.claimed_count, packet.created_at_us
        closes = sent_at + window_us
        used = (("claimed", claimed), ("sent_at", sent_at), ("closes_at", closes))
        if claimed > 0:
            return (RuleOutcome(rule, requirement, NOT_APPLICABLE, None, used),)
        if is_due(closes, facts.now_us):
            reason = ReasonCode.UNCLAIMED_WINDOW_PASSED
            return (RuleOutcome(rule, requirement, FAIL, reason, used, SUPPORT),)
        return (RuleOutcome(rule, requirement, PASS, None, used),)

    return check


def lucky_within_window_of_first_claim(policy: Policy) -> Check:
    rule, requirement = "lucky_within_window_of_first_claim", "R-T2"
    window_us = policy.recall.type_rule(LUCKY).window_minutes * MICROSECONDS_PER_MINUTE
    not_applicable = _constant(rule, requirement, NOT_APPLICABLE)

    def check(facts: RecallFacts) -> Outcomes:
        packet = facts.packet
        if packet.packet_type is not LUCKY or packet.claimed_count == 0:
            return not_applicable
        # Claimed but no first claim time: contradictory facts must deny (as an error), not pass.
        first_claim_at = present(
            packet.first_claim_at_us, "a claimed packet has a first claim time"
        )
        closes = first_claim_at + window_us
        used = (("first_claim_at", first_claim_at), ("closes_at", closes))
        if is_due(closes, facts.now_us):
            reason = ReasonCode.LUCKY_WINDOW_PASSED
            return (RuleOutcome(rule, requirement, FAIL, reason, used, SUPPORT),)
        return (RuleOutcome(rule, requirement, PASS, None, used),)

    return check


def within_type_window(policy: Policy) -> Check:
    rule, requirement = "within_type_window", "R-T4"
    # A lucky packet's window runs from the first claim: that is R-T2's rule.
    not_applicable = _constant(rule, requirement, NOT_APPLICABLE)
    windows = {
        kind: (
            ("packet_type", kind.value),
            ("window_minutes", policy.recall.type_rule(kind).window_minutes),
            policy.recall.type_rule(kind).window_minutes * MICROSECONDS_PER_MINUTE,
        )
        for kind in PacketType
        if kind is not LUCKY
    }

    def check(facts: RecallFacts) -> Outcomes:
        packet = facts.packet
        if packet.packet_type is LUCKY:
            return not_applicable
        kind, minutes, window_us = windows[packet.packet_type]
        closes = packet.created_at_us + window_us
        used = (kind, minutes, ("closes_at", closes))
        if is_due(closes, facts.now_us):
            reason = ReasonCode.TYPE_WINDOW_PASSED
            return (RuleOutcome(rule, requirement, FAIL, reason, used, SUPPORT),)
        return (RuleOutcome(rule, requirement, PASS, None, used),)

    return check


def remainder_above_minimum(policy: Policy) -> Check:
    rule, requirement = "remainder_above_minimum", "R-T4"
    minimums = {
        kind: (
            (
                ("min_remainder_minor", type_rule.min_remainder_minor),
                ("min_remainder_percent_of_total", type_rule.min_remainder_percent_of_total),
                (
                    "min_remainder_percent_of_mean_share",
                    type_rule.min_remainder_percent_of_mean_share,
                ),
            ),
            type_rule.minimum_met,
        )
        for kind in PacketType
        for type_rule in (policy.recall.type_rule(kind),)
    }

    def check(facts: RecallFacts) -> Outcomes:
        packet = facts.packet
        (fixed, of_total, of_mean_share), minimum_met = minimums[packet.packet_type]
        remainder, total, shares = packet.remainder_minor, packet.total_minor, packet.share_count
        used = (
            ("remainder_minor", remainder),
            ("total_minor", total),
            ("shares", shares),
            fixed,
            of_total,
            of_mean_share,
        )
        if minimum_met(remainder, total, shares):
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        reason = ReasonCode.REMAINDER_BELOW_MINIMUM
        return (RuleOutcome(rule, requirement, FAIL, reason, used, SUPPORT),)

    return check


def outside_settlement_blackout(policy: Policy) -> Check:
    rule, requirement = "outside_settlement_blackout", "R-T3"
    recall = policy.recall
    blackout = daily_blackout(recall.blackout_start, recall.blackout_end, recall.timezone)
    window = ("blackout", f"{recall.blackout_start}-{recall.blackout_end} {recall.timezone}")

    def check(facts: RecallFacts) -> Outcomes:
        now = facts.now_us
        reopens = blackout.reopens_at(now)
        used = (("now", now), window)
        if reopens is None:
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        step = NextStep(NextStepKind.RETRY_AT, retry_at_us=reopens)
        return (RuleOutcome(rule, requirement, FAIL, ReasonCode.BLACKOUT, used, step),)

    return check


# -------------------------------------------------------------------------- consistency


def escrow_matches_packet(policy: Policy) -> Check:
    del policy
    rule, requirement = "escrow_matches_packet", "R-X2"

    def check(facts: RecallFacts) -> Outcomes:
        escrow, packet = facts.escrow, facts.packet
        expected_hold = escrow.expected_hold_minor
        # An expired or recalled packet already gave its remainder back.
        closed = packet.state is EXPIRED or packet.state is RECALLED
        expected_escrow = 0 if expected_hold > 0 or closed else packet.remainder_minor
        balance, hold = escrow.escrow_balance_minor, escrow.open_hold_minor
        used = (
            ("escrow_minor", balance),
            ("expected_escrow_minor", expected_escrow),
            ("hold_minor", hold),
            ("expected_hold_minor", expected_hold),
        )
        if balance == expected_escrow and hold == expected_hold:
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        reason = ReasonCode.ESCROW_MISMATCH
        return (RuleOutcome(rule, requirement, FAIL, reason, used, SUPPORT),)

    return check


# -------------------------------------------------------------------- identity and tier


def from_the_sending_device(policy: Policy) -> Check:
    del policy
    rule, requirement = "from_the_sending_device", "R-A1"

    def check(facts: RecallFacts) -> Outcomes:
        packet, device = facts.packet, facts.device
        sending_device, sending_sim = packet.sender_device_id, packet.sender_sim_id
        used = (
            ("device", device.device_id),
            ("sim", device.sim_id),
            ("sending_device", sending_device),
            ("sending_sim", sending_sim),
        )
        if sending_device is None or sending_sim is None:
            reason = ReasonCode.SENDING_DEVICE_UNKNOWN
            return (RuleOutcome(rule, requirement, FAIL, reason, used, SUPPORT),)
        if (
            device.device_id == sending_device
            and device.sim_id == sending_sim
            and device.is_registered_to_requester
        ):
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        reason = ReasonCode.NOT_SENDING_DEVICE
        return (RuleOutcome(rule, requirement, FAIL, reason, used, SWITCH_DEVICE),)

    return check


def face_above_threshold(policy: Policy) -> Check:
    rule, requirement = "face_above_threshold", "R-A2"
    threshold = policy.recall.security.face_above_minor
    verify = _verify(ChallengeKind.FACE)

    def check(facts: RecallFacts) -> Outcomes:
        amount = facts.packet.remainder_minor
        used = (("amount_minor", amount), ("threshold_minor", threshold))
        if amount <= threshold:
            return (RuleOutcome(rule, requirement, NOT_APPLICABLE, None, used),)
        if ChallengeKind.FACE in facts.passed_challenges:
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        reason = ReasonCode.FACE_REQUIRED
        return (RuleOutcome(rule, requirement, CHALLENGE, reason, used, verify),)

    return check


def new_account_large_amount(policy: Policy) -> Check:
    rule, requirement = "new_account_large_amount", "R-A3"
    security = policy.recall.security
    young_for_us = security.new_account_days * MICROSECONDS_PER_DAY
    large_above = security.new_account_large_above_minor
    exempting = policy.recall.exempting(rule)
    retry = _retrying(policy)

    def check(facts: RecallFacts) -> Outcomes:
        registered_at = facts.requester.registered_at_us
        grown_up_at = registered_at + young_for_us
        amount = facts.packet.remainder_minor
        used = (
            ("registered_at", registered_at),
            ("new_until", grown_up_at),
            ("amount_minor", amount),
            ("large_above_minor", large_above),
        )
        if is_due(grown_up_at, facts.now_us) or amount <= large_above:
            return (RuleOutcome(rule, requirement, NOT_APPLICABLE, None, used),)
        granted = tuple(kind for kind in exempting if kind in facts.exemptions)
        if granted:
            return (RuleOutcome(rule, requirement, EXEMPT, None, used, None, granted),)
        reason = ReasonCode.NEW_ACCOUNT_LARGE_AMOUNT
        return (RuleOutcome(rule, requirement, FAIL, reason, used, retry(grown_up_at)),)

    return check


def tier_daily_limits(policy: Policy) -> Check:
    rule, requirement = "tier_daily_limits", "R-A4"
    limits = {
        tier: (
            ("tier", tier.value),
            ("daily_count", tier_rule.daily_count),
            ("daily_amount_minor", tier_rule.daily_amount_minor),
            tier_rule.daily_count,
            tier_rule.daily_amount_minor,
        )
        for tier in AccountTier
        for tier_rule in (policy.recall.tier_rule(tier.value),)
    }
    retry = _retrying(policy)

    def check(facts: RecallFacts) -> Outcomes:
        tier, count_used, amount_used, daily_count, daily_amount = limits[facts.requester.tier]
        usage = facts.usage
        executed_count, executed_minor = usage.executed_count, usage.executed_minor
        amount = facts.packet.remainder_minor
        used = (
            tier,
            ("executed_today", executed_count),
            count_used,
            ("executed_today_minor", executed_minor),
            ("amount_minor", amount),
            amount_used,
        )
        if daily_count == 0:
            reason, step = ReasonCode.TIER_CANNOT_RECALL, SUPPORT
        elif executed_count >= daily_count:
            reason, step = ReasonCode.DAILY_COUNT_REACHED, retry(usage.next_day_start_us)
        elif executed_minor + amount > daily_amount:
            reason = ReasonCode.DAILY_AMOUNT_REACHED
            # Over the whole day's cap on its own, waiting never helps: support can.
            step = SUPPORT if amount > daily_amount else retry(usage.next_day_start_us)
        else:
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        return (RuleOutcome(rule, requirement, FAIL, reason, used, step),)

    return check


def tier_verification(policy: Policy) -> Check:
    rule, requirement = "tier_verification", "R-A4"
    reason = ReasonCode.TIER_VERIFICATION_REQUIRED
    # Per tier, per verification: the outcome once it is passed and the one asking for it.
    asked: dict[AccountTier, tuple[tuple[ChallengeKind, RuleOutcome, RuleOutcome], ...]] = {}
    not_applicable: dict[AccountTier, Outcomes] = {}
    for tier in AccountTier:
        names = policy.recall.tier_rule(tier.value).verification
        used = (("tier", tier.value), ("verification", ",".join(names) or "none"))
        if not names:
            not_applicable[tier] = _constant(rule, requirement, NOT_APPLICABLE, used)
            continue
        asked[tier] = tuple(
            (
                kind,
                RuleOutcome(rule, requirement, PASS, None, used),
                RuleOutcome(rule, requirement, CHALLENGE, reason, used, _verify(kind)),
            )
            for kind in map(ChallengeKind, names)
        )

    def check(facts: RecallFacts) -> Outcomes:
        tier = facts.requester.tier
        if tier in not_applicable:
            return not_applicable[tier]
        passed = facts.passed_challenges
        return tuple(passing if kind in passed else asking for kind, passing, asking in asked[tier])

    return check


# ------------------------------------------------------------------------------ devices


def watch_amount_cap(policy: Policy) -> Check:
    rule, requirement = "watch_amount_cap", "R-D1"
    cap = policy.recall.devices.watch_cap_minor

    def check(facts: RecallFacts) -> Outcomes:
        is_watch, total = facts.device.is_watch, facts.packet.total_minor
        used = (("is_watch", is_watch), ("packet_total_minor", total), ("cap_minor", cap))
        if not is_watch:
            return (RuleOutcome(rule, requirement, NOT_APPLICABLE, None, used),)
        if total <= cap:
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        return (RuleOutcome(rule, requirement, FAIL, ReasonCode.WATCH_CAP, used, SWITCH_DEVICE),)

    return check


def security_environment_check(policy: Policy) -> Check:
    rule, requirement = "security_environment_check", "R-D2"
    majors = policy.recall.devices.security_check_harmonyos_majors
    checked = ("checked_majors", ",".join(str(major) for major in majors))
    kind = ChallengeKind.SECURITY_ENVIRONMENT
    reason, verify = ReasonCode.SECURITY_ENVIRONMENT_REQUIRED, _verify(kind)

    def check(facts: RecallFacts) -> Outcomes:
        device = facts.device
        platform, os_major = device.platform, device.os_major
        used = (("platform", platform), ("os_major", os_major), checked)
        if platform != "harmonyos" or os_major not in majors:
            return (RuleOutcome(rule, requirement, NOT_APPLICABLE, None, used),)
        if kind in facts.passed_challenges:
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        return (RuleOutcome(rule, requirement, CHALLENGE, reason, used, verify),)

    return check


_CONDITION_REASONS: Final = {
    "power_saving": ReasonCode.POWER_SAVING_MODE,
    "game_acceleration": ReasonCode.GAME_ACCELERATION_ON,
}
# Once the person turns the setting off, trying again is all it takes.
_AFTER_TURNING_IT_OFF = NextStep(NextStepKind.RETRY_AT)


def device_conditions_clear(policy: Policy) -> Check:
    """R-D6: a condition the client reported stops recalls on the models the policy names
    for it (the source: a Mate 50 in power-saving mode, a Xiaomi 13 Ultra with game
    acceleration on)."""
    rule, requirement = "device_conditions_clear", "R-D6"
    stopping = {str(name): models for name, models in policy.recall.devices.conditions.items()}

    def check(facts: RecallFacts) -> Outcomes:
        model, reported = facts.device.model or "", facts.device.conditions or ()
        used = (("model", model), ("conditions", ",".join(reported)))
        if not reported:
            return (RuleOutcome(rule, requirement, NOT_APPLICABLE, None, used),)
        stopped = [c for c in reported if c in _CONDITION_REASONS and model in stopping.get(c, ())]
        if not stopped:
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        return tuple(
            RuleOutcome(rule, requirement, FAIL, _CONDITION_REASONS[c], used, _AFTER_TURNING_IT_OFF)
            for c in stopped
        )

    return check


# --------------------------------------------------------------------------------- risk

# R-K1: each level has its action; an assessor may add actions to its level's.
_LEVEL_ACTIONS = {
    1: RiskAction.CHALLENGE,
    2: RiskAction.HOLD,
    3: RiskAction.LOCK,
    4: RiskAction.BLOCK,
}
# A hold (level 2) does not refuse: the recall runs and its refund waits in the risk-hold
# account (delayed arrival); the recall's execution holds it.
_RISK_FAILURES = {
    RiskAction.BLOCK: ReasonCode.RISK_BLOCK,
    RiskAction.LOCK: ReasonCode.RISK_LOCK,
}


def risk_assessment(policy: Policy) -> Check:
    del policy
    rule, requirement = "risk_assessment", "R-K1"
    verify = _verify(ChallengeKind.FACE)

    def check(facts: RecallFacts) -> Outcomes:
        risk = facts.risk
        used = (
            ("level", risk.level),
            ("assessor", risk.assessor),
            ("actions", ",".join(risk.actions) or "none"),
            ("reasons", "; ".join(risk.reasons)),
            ("exemptions", _risk_exemptions(risk)),
            ("risk_policy", risk.policy_version),
        )
        actions = set(risk.actions)
        if risk.level in _LEVEL_ACTIONS:
            actions.add(_LEVEL_ACTIONS[risk.level])
        if not actions:
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        for action, reason in _RISK_FAILURES.items():
            if action in actions:
                return (RuleOutcome(rule, requirement, FAIL, reason, used, SUPPORT),)
        if RiskAction.CHALLENGE not in actions or ChallengeKind.FACE in facts.passed_challenges:
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        reason = ReasonCode.RISK_CHALLENGE
        return (RuleOutcome(rule, requirement, CHALLENGE, reason, used, verify),)

    return check


def _risk_exemptions(risk: RiskAssessment) -> str:
    """Each signal an exemption lifted, with the exemption: what the decision let through."""
    lifted = [
        f"{signal.name} {signal.value} >= {signal.threshold} lifted by {signal.exempted_by}"
        for signal in risk.signals
        if signal.exempted_by is not None
    ]
    return "; ".join(lifted) or "none"


# ------------------------------------------------------------------------------ refunds

_REFUND_REFUSALS = {
    "refunds.bank_maintenance": ReasonCode.REFUND_BANK_MAINTENANCE,
    "refunds.statement_issued": ReasonCode.REFUND_STATEMENT_ISSUED,
    "refunds.account_abnormal": ReasonCode.REFUND_ACCOUNT_ABNORMAL,
    "refunds.fx_rate_unavailable": ReasonCode.REFUND_FX_RATE_UNAVAILABLE,
}
ACCEPT_BALANCE = NextStep(NextStepKind.ACCEPT_BALANCE)


def refund_route_available(policy: Policy) -> Check:
    """R-F1/R-F2: the money goes back the way it came, or the recall is denied with the reason;
    with smart routing on, the sender may accept the balance instead."""
    rule, requirement = "refund_route_available", "R-F2"
    smart_routing = policy.refunds.smart_routing
    not_applicable = _constant(rule, requirement, NOT_APPLICABLE)
    retry = _retrying(policy)

    def check(facts: RecallFacts) -> Outcomes:
        refund = facts.refund
        if refund is None:
            return not_applicable
        used = (
            ("route", refund.route),
            ("destination", refund.destination),
            ("available", refund.available),
            ("refusal", refund.refusal),
            ("balance_available", refund.balance_available),
            ("smart_routing", smart_routing),
            ("accepted", facts.substitute_accepted),
            ("amount", refund.amount_minor),
            ("fee", refund.fee_minor),
            ("arrives_at", refund.arrives_at_us),
            ("frozen_until", refund.frozen_until_us),
            ("card_currency", refund.card_currency),
            ("card_amount", refund.card_amount_minor),
            ("rate_at_refund", refund.rate_at_refund),
            ("rate_at_send", refund.rate_at_send),
        )
        if refund.available or (
            smart_routing and refund.balance_available and facts.substitute_accepted
        ):
            return (RuleOutcome(rule, requirement, PASS, None, used),)
        if smart_routing and refund.balance_available:
            reason = ReasonCode.REFUND_BALANCE_INSTEAD
            return (RuleOutcome(rule, requirement, CHALLENGE, reason, used, ACCEPT_BALANCE),)
        reason = _REFUND_REFUSALS.get(refund.refusal or "", ReasonCode.RULE_ERROR)
        step = SUPPORT if refund.retry_at_us is None else retry(refund.retry_at_us)
        return (RuleOutcome(rule, requirement, FAIL, reason, used, step),)

    return check


RULES: tuple[Rule, ...] = tuple(
    Rule(compile_rule.__name__, requirement, compile_rule)
    for compile_rule, requirement in (
        (only_the_sender, "R-A5"),
        (account_in_good_standing, "R-F2"),
        (packet_still_recallable, "R-P4"),
        (unclaimed_within_window, "R-T1"),
        (lucky_within_window_of_first_claim, "R-T2"),
        (within_type_window, "R-T4"),
        (remainder_above_minimum, "R-T4"),
        (outside_settlement_blackout, "R-T3"),
        (escrow_matches_packet, "R-X2"),
        (from_the_sending_device, "R-A1"),
        (face_above_threshold, "R-A2"),
        (new_account_large_amount, "R-A3"),
        (tier_daily_limits, "R-A4"),
        (tier_verification, "R-A4"),
        (watch_amount_cap, "R-D1"),
        (security_environment_check, "R-D2"),
        (device_conditions_clear, "R-D6"),
        (risk_assessment, "R-K1"),
        (refund_route_available, "R-F2"),
    )
)
