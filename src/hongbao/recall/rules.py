"""The recall rules: small pure functions of (facts, policy), one per requirement.

Each returns one :class:`RuleOutcome` (or several, for a rule that asks for several
verifications): pass, fail, challenge, exempt or not-applicable, with a stable reason code, the
facts it used and the next step. The engine runs every rule; none short-circuits another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hongbao.identity.users import UserStatus
from hongbao.identity.verification import ChallengeKind
from hongbao.packets.model import PacketState, PacketType
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, is_due
from hongbao.platform.invariants import invariant
from hongbao.policy.document import Policy
from hongbao.recall.calendar import blackout_reopens_at
from hongbao.recall.facts import RecallFacts
from hongbao.recall.model import FactValue, NextStep, NextStepKind, RuleOutcome, Verdict
from hongbao.recall.reasons import ReasonCode
from hongbao.risk.model import RiskAction

MICROSECONDS_PER_MINUTE = 60 * MICROSECONDS_PER_SECOND
MICROSECONDS_PER_DAY = 24 * 60 * MICROSECONDS_PER_MINUTE
SUPPORT = NextStep(NextStepKind.CONTACT_SUPPORT)
# Enum members as plain names: looking one up on its class is a descriptor call each time.
PASS, FAIL, CHALLENGE = Verdict.PASS, Verdict.FAIL, Verdict.CHALLENGE
NOT_APPLICABLE, EXEMPT = Verdict.NOT_APPLICABLE, Verdict.EXEMPT
LUCKY = PacketType.GROUP_LUCKY
SWITCH_DEVICE = NextStep(NextStepKind.SWITCH_DEVICE)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    requirement: str
    check: Callable[[RecallFacts, Policy], Sequence[RuleOutcome]]


def _retry(moment_us: int, policy: Policy) -> NextStep:
    """Retry at ``moment_us``, or when the settlement blackout ends if it falls inside it,
    so that following the advice is not refused again for a known reason."""
    recall = policy.recall
    reopens = blackout_reopens_at(
        moment_us, recall.blackout_start, recall.blackout_end, recall.timezone
    )
    return NextStep(NextStepKind.RETRY_AT, retry_at_us=moment_us if reopens is None else reopens)


def _verify(kind: ChallengeKind) -> NextStep:
    return NextStep(NextStepKind.VERIFY, verification=kind)


class _Outcomes:
    """Builds the outcomes of one rule with its name and requirement filled in."""

    # Some twenty of these per decision: slots and direct construction keep evaluation cheap.
    __slots__ = ("facts", "name", "requirement")

    def __init__(self, name: str, requirement: str, **facts: FactValue) -> None:
        self.name, self.requirement = name, requirement
        # Raw values (times in microseconds): formatting is the reader's job, not the rule's.
        self.facts = tuple(facts.items())

    def verdict(
        self,
        verdict: Verdict,
        reason: ReasonCode | None = None,
        next_step: NextStep | None = None,
        exempted_by: tuple[str, ...] = (),
    ) -> list[RuleOutcome]:
        return [
            RuleOutcome(
                self.name, self.requirement, verdict, reason, self.facts, next_step, exempted_by
            )
        ]

    def passes(self) -> list[RuleOutcome]:
        return [RuleOutcome(self.name, self.requirement, PASS, None, self.facts)]

    def not_applicable(self) -> list[RuleOutcome]:
        return [RuleOutcome(self.name, self.requirement, NOT_APPLICABLE, None, self.facts)]

    def fails(self, reason: ReasonCode, next_step: NextStep) -> list[RuleOutcome]:
        return [RuleOutcome(self.name, self.requirement, FAIL, reason, self.facts, next_step)]

    def challenge(
        self, reason: ReasonCode, kind: ChallengeKind, facts: RecallFacts
    ) -> list[RuleOutcome]:
        if kind in facts.passed_challenges:
            return self.passes()
        return self.verdict(CHALLENGE, reason, _verify(kind))


# ------------------------------------------------------------------------ who and what


def only_the_sender(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    del policy
    out = _Outcomes(
        "only_the_sender", "R-A5", requester=facts.requester.user_id, sender=facts.packet.sender_id
    )
    if facts.requester.user_id == facts.packet.sender_id:
        return out.passes()
    return out.fails(ReasonCode.NOT_SENDER, SUPPORT)


def account_in_good_standing(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    del policy
    out = _Outcomes("account_in_good_standing", "R-F2", status=facts.requester.status.value)
    if facts.requester.status is UserStatus.NORMAL:
        return out.passes()
    return out.fails(ReasonCode.ACCOUNT_RESTRICTED, SUPPORT)


def packet_still_recallable(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    packet = facts.packet
    out = _Outcomes(
        "packet_still_recallable",
        "R-P4",
        state=packet.state.value,
        expires_at=packet.expires_at_us,
        other_recall_in_progress=facts.other_recall_in_progress,
    )
    if packet.state is PacketState.RECALLED:
        return out.fails(ReasonCode.ALREADY_RECALLED, SUPPORT)
    if packet.state is PacketState.EXPIRED or is_due(packet.expires_at_us, facts.now_us):
        return out.fails(ReasonCode.EXPIRED, SUPPORT)
    if packet.state is PacketState.EXHAUSTED:
        return out.fails(ReasonCode.EXHAUSTED, SUPPORT)
    if facts.other_recall_in_progress:
        return out.fails(
            ReasonCode.RECALL_IN_PROGRESS, _retry(facts.now_us + MICROSECONDS_PER_MINUTE, policy)
        )
    return out.passes()


# --------------------------------------------------------------------------------- time


def unclaimed_within_window(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    packet = facts.packet
    closes = (
        packet.created_at_us + policy.recall.unclaimed_window_hours * 60 * MICROSECONDS_PER_MINUTE
    )
    out = _Outcomes(
        "unclaimed_within_window",
        "R-T1",
        claimed=packet.claimed_count,
        sent_at=packet.created_at_us,
        closes_at=closes,
    )
    if packet.claimed_count > 0:
        return out.not_applicable()
    if is_due(closes, facts.now_us):
        return out.fails(ReasonCode.UNCLAIMED_WINDOW_PASSED, SUPPORT)
    return out.passes()


def lucky_within_window_of_first_claim(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    packet = facts.packet
    if packet.packet_type is not LUCKY or packet.claimed_count == 0:
        return _Outcomes("lucky_within_window_of_first_claim", "R-T2").not_applicable()
    # Claimed but no first claim time: contradictory facts must deny (as an error), not pass.
    invariant(packet.first_claim_at_us is not None, "a claimed packet has a first claim time")
    assert packet.first_claim_at_us is not None  # noqa: S101 - narrows the type
    window = policy.recall.type_rule(LUCKY).window_minutes
    closes = packet.first_claim_at_us + window * MICROSECONDS_PER_MINUTE
    out = _Outcomes(
        "lucky_within_window_of_first_claim",
        "R-T2",
        first_claim_at=packet.first_claim_at_us,
        closes_at=closes,
    )
    if is_due(closes, facts.now_us):
        return out.fails(ReasonCode.LUCKY_WINDOW_PASSED, SUPPORT)
    return out.passes()


def within_type_window(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    packet = facts.packet
    if packet.packet_type is LUCKY:
        # Its window runs from the first claim: that is R-T2's rule.
        return _Outcomes("within_type_window", "R-T4").not_applicable()
    window = policy.recall.type_rule(packet.packet_type).window_minutes
    closes = packet.created_at_us + window * MICROSECONDS_PER_MINUTE
    out = _Outcomes(
        "within_type_window",
        "R-T4",
        packet_type=packet.packet_type.value,
        window_minutes=window,
        closes_at=closes,
    )
    if is_due(closes, facts.now_us):
        return out.fails(ReasonCode.TYPE_WINDOW_PASSED, SUPPORT)
    return out.passes()


def remainder_above_minimum(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    packet = facts.packet
    rule = policy.recall.type_rule(packet.packet_type)
    out = _Outcomes(
        "remainder_above_minimum",
        "R-T4",
        remainder_minor=packet.remainder_minor,
        total_minor=packet.total_minor,
        shares=packet.share_count,
        min_remainder_minor=rule.min_remainder_minor,
        min_remainder_percent_of_total=rule.min_remainder_percent_of_total,
        min_remainder_percent_of_mean_share=rule.min_remainder_percent_of_mean_share,
    )
    if rule.minimum_met(packet.remainder_minor, packet.total_minor, packet.share_count):
        return out.passes()
    return out.fails(ReasonCode.REMAINDER_BELOW_MINIMUM, SUPPORT)


def outside_settlement_blackout(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    recall = policy.recall
    reopens = blackout_reopens_at(
        facts.now_us, recall.blackout_start, recall.blackout_end, recall.timezone
    )
    out = _Outcomes(
        "outside_settlement_blackout",
        "R-T3",
        now=facts.now_us,
        blackout=f"{recall.blackout_start}-{recall.blackout_end} {recall.timezone}",
    )
    if reopens is None:
        return out.passes()
    return out.fails(ReasonCode.BLACKOUT, NextStep(NextStepKind.RETRY_AT, retry_at_us=reopens))


# -------------------------------------------------------------------------- consistency


def escrow_matches_packet(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    del policy
    escrow, packet = facts.escrow, facts.packet
    held = escrow.expected_hold_minor > 0
    # An expired or recalled packet already gave its remainder back.
    closed = packet.state in (PacketState.EXPIRED, PacketState.RECALLED)
    expected_escrow = 0 if held or closed else packet.remainder_minor
    out = _Outcomes(
        "escrow_matches_packet",
        "R-X2",
        escrow_minor=escrow.escrow_balance_minor,
        expected_escrow_minor=expected_escrow,
        hold_minor=escrow.open_hold_minor,
        expected_hold_minor=escrow.expected_hold_minor,
    )
    if (
        escrow.escrow_balance_minor == expected_escrow
        and escrow.open_hold_minor == escrow.expected_hold_minor
    ):
        return out.passes()
    return out.fails(ReasonCode.ESCROW_MISMATCH, SUPPORT)


# -------------------------------------------------------------------- identity and tier


def from_the_sending_device(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    del policy
    packet, device = facts.packet, facts.device
    out = _Outcomes(
        "from_the_sending_device",
        "R-A1",
        device=device.device_id,
        sim=device.sim_id,
        sending_device=packet.sender_device_id,
        sending_sim=packet.sender_sim_id,
    )
    if packet.sender_device_id is None or packet.sender_sim_id is None:
        return out.fails(ReasonCode.SENDING_DEVICE_UNKNOWN, SUPPORT)
    same = (device.device_id, device.sim_id) == (packet.sender_device_id, packet.sender_sim_id)
    if same and device.is_registered_to_requester:
        return out.passes()
    return out.fails(ReasonCode.NOT_SENDING_DEVICE, SWITCH_DEVICE)


def face_above_threshold(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    threshold = policy.recall.security.face_above_minor
    amount = facts.packet.remainder_minor
    out = _Outcomes("face_above_threshold", "R-A2", amount_minor=amount, threshold_minor=threshold)
    if amount <= threshold:
        return out.not_applicable()
    return out.challenge(ReasonCode.FACE_REQUIRED, ChallengeKind.FACE, facts)


def new_account_large_amount(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    security = policy.recall.security
    grown_up_at = (
        facts.requester.registered_at_us + security.new_account_days * MICROSECONDS_PER_DAY
    )
    amount = facts.packet.remainder_minor
    out = _Outcomes(
        "new_account_large_amount",
        "R-A3",
        registered_at=facts.requester.registered_at_us,
        new_until=grown_up_at,
        amount_minor=amount,
        large_above_minor=security.new_account_large_above_minor,
    )
    if is_due(grown_up_at, facts.now_us) or amount <= security.new_account_large_above_minor:
        return out.not_applicable()
    granted = tuple(
        kind
        for kind in policy.recall.exempting("new_account_large_amount")
        if kind in facts.exemptions
    )
    if granted:
        return out.verdict(EXEMPT, exempted_by=granted)
    return out.fails(ReasonCode.NEW_ACCOUNT_LARGE_AMOUNT, _retry(grown_up_at, policy))


def tier_daily_limits(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    tier = policy.recall.tier_rule(facts.requester.tier.value)
    usage = facts.usage
    amount = facts.packet.remainder_minor
    out = _Outcomes(
        "tier_daily_limits",
        "R-A4",
        tier=facts.requester.tier.value,
        executed_today=usage.executed_count,
        daily_count=tier.daily_count,
        executed_today_minor=usage.executed_minor,
        amount_minor=amount,
        daily_amount_minor=tier.daily_amount_minor,
    )
    if tier.daily_count == 0:
        return out.fails(ReasonCode.TIER_CANNOT_RECALL, SUPPORT)
    if usage.executed_count >= tier.daily_count:
        return out.fails(ReasonCode.DAILY_COUNT_REACHED, _retry(usage.next_day_start_us, policy))
    if usage.executed_minor + amount > tier.daily_amount_minor:
        # Over the whole day's cap on its own, waiting never helps: support can.
        if amount > tier.daily_amount_minor:
            return out.fails(ReasonCode.DAILY_AMOUNT_REACHED, SUPPORT)
        return out.fails(ReasonCode.DAILY_AMOUNT_REACHED, _retry(usage.next_day_start_us, policy))
    return out.passes()


def tier_verification(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    tier = policy.recall.tier_rule(facts.requester.tier.value)
    out = _Outcomes(
        "tier_verification",
        "R-A4",
        tier=facts.requester.tier.value,
        verification=",".join(tier.verification) or "none",
    )
    if not tier.verification:
        return out.not_applicable()
    outcomes: list[RuleOutcome] = []
    for name in tier.verification:
        outcomes += out.challenge(ReasonCode.TIER_VERIFICATION_REQUIRED, ChallengeKind(name), facts)
    return outcomes


# ------------------------------------------------------------------------------ devices


def watch_amount_cap(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    cap = policy.recall.devices.watch_cap_minor
    out = _Outcomes(
        "watch_amount_cap",
        "R-D1",
        is_watch=facts.device.is_watch,
        packet_total_minor=facts.packet.total_minor,
        cap_minor=cap,
    )
    if not facts.device.is_watch:
        return out.not_applicable()
    if facts.packet.total_minor <= cap:
        return out.passes()
    return out.fails(ReasonCode.WATCH_CAP, SWITCH_DEVICE)


def security_environment_check(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    majors = policy.recall.devices.security_check_harmonyos_majors
    device = facts.device
    out = _Outcomes(
        "security_environment_check",
        "R-D2",
        platform=device.platform,
        os_major=device.os_major,
        checked_majors=",".join(str(major) for major in majors),
    )
    if device.platform != "harmonyos" or device.os_major not in majors:
        return out.not_applicable()
    return out.challenge(
        ReasonCode.SECURITY_ENVIRONMENT_REQUIRED, ChallengeKind.SECURITY_ENVIRONMENT, facts
    )


# --------------------------------------------------------------------------------- risk

# R-K1: each level has its action; an assessor may add actions to its level's.
_LEVEL_ACTIONS = {
    1: RiskAction.CHALLENGE,
    2: RiskAction.HOLD,
    3: RiskAction.LOCK,
    4: RiskAction.BLOCK,
}
_RISK_FAILURES = {
    RiskAction.BLOCK: ReasonCode.RISK_BLOCK,
    RiskAction.LOCK: ReasonCode.RISK_LOCK,
    RiskAction.HOLD: ReasonCode.RISK_HOLD,
}


def risk_assessment(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    del policy
    risk = facts.risk
    out = _Outcomes(
        "risk_assessment",
        "R-K1",
        level=risk.level,
        assessor=risk.assessor,
        actions=",".join(risk.actions) or "none",
        reasons="; ".join(risk.reasons),
    )
    actions = set(risk.actions)
    if risk.level in _LEVEL_ACTIONS:
        actions.add(_LEVEL_ACTIONS[risk.level])
    for action, reason in _RISK_FAILURES.items():
        if action in actions:
            return out.fails(reason, SUPPORT)
    if RiskAction.CHALLENGE in actions:
        return out.challenge(ReasonCode.RISK_CHALLENGE, ChallengeKind.FACE, facts)
    return out.passes()


# ------------------------------------------------------------------------------ refunds

_REFUND_REFUSALS = {
    "refunds.bank_maintenance": ReasonCode.REFUND_BANK_MAINTENANCE,
    "refunds.statement_issued": ReasonCode.REFUND_STATEMENT_ISSUED,
    "refunds.account_abnormal": ReasonCode.REFUND_ACCOUNT_ABNORMAL,
    "refunds.fx_rate_unavailable": ReasonCode.REFUND_FX_RATE_UNAVAILABLE,
}
ACCEPT_BALANCE = NextStep(NextStepKind.ACCEPT_BALANCE)


def refund_route_available(facts: RecallFacts, policy: Policy) -> list[RuleOutcome]:
    """R-F1/R-F2: the money goes back the way it came, or the recall is denied with the reason;
    with smart routing on, the sender may accept the balance instead."""
    refund = facts.refund
    if refund is None:
        return _Outcomes("refund_route_available", "R-F2").not_applicable()
    out = _Outcomes(
        "refund_route_available",
        "R-F2",
        route=refund.route,
        destination=refund.destination,
        available=refund.available,
        refusal=refund.refusal,
        balance_available=refund.balance_available,
        smart_routing=policy.refunds.smart_routing,
        accepted=facts.substitute_accepted,
        amount=refund.amount_minor,
        fee=refund.fee_minor,
        arrives_at=refund.arrives_at_us,
        frozen_until=refund.frozen_until_us,
        card_currency=refund.card_currency,
        card_amount=refund.card_amount_minor,
        rate_at_refund=refund.rate_at_refund,
        rate_at_send=refund.rate_at_send,
    )
    if refund.available:
        return out.passes()
    if policy.refunds.smart_routing and refund.balance_available:
        if facts.substitute_accepted:
            return out.passes()
        return out.verdict(CHALLENGE, ReasonCode.REFUND_BALANCE_INSTEAD, ACCEPT_BALANCE)
    reason = _REFUND_REFUSALS.get(refund.refusal or "", ReasonCode.RULE_ERROR)
    if refund.retry_at_us is not None:
        return out.fails(reason, _retry(refund.retry_at_us, policy))
    return out.fails(reason, SUPPORT)


RULES: tuple[Rule, ...] = tuple(
    Rule(check.__name__, requirement, check)
    for check, requirement in (
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
        (risk_assessment, "R-K1"),
        (refund_route_available, "R-F2"),
    )
)
