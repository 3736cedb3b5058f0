"""What the API answers, as typed models. Fields the server adds later are ignored, so an older
client keeps working; amounts are :class:`Amount` (decimal text, minor units, currency) and
never floats (``StrictInt`` refuses them)."""

from __future__ import annotations

from typing import TypeAlias

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr

from hongbao.money import Money

FactValue: TypeAlias = StrictStr | StrictInt | StrictBool | None


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Amount(Model):
    amount: str  # decimal text in major units: "88.88"
    currency: str
    minor: StrictInt  # the same amount in minor units (fen)

    @classmethod
    def of(cls, minor: int, currency: str) -> Amount:
        return cls(amount=Money.of(minor, currency).format(), currency=currency, minor=minor)

    def money(self) -> Money:
        return Money.of(self.minor, self.currency)


class Packet(Model):
    id: str
    type: str  # personal | group_normal | group_lucky | enterprise
    sender_id: str
    state: str  # open | exhausted | expired | recalled | scheduled | cancelled
    total: Amount
    claimed: Amount
    remainder: Amount
    shares: StrictInt
    claimed_count: StrictInt
    funding_kind: str
    recipient_id: str | None
    group_id: str | None
    created_at_us: StrictInt
    expires_at_us: StrictInt
    deliver_at_us: StrictInt | None = None  # a delayed send's delivery time
    deliver_at: str | None = None


class GuardDecision(Model):
    """The send-time guard's recorded decision on a risky send (R-B1)."""

    decision_id: str
    packet_id: str
    sender_id: str
    policy_version: str
    outcome: str  # confirmation_needed | confirmed | delayed
    reasons: list[str]
    explanation: list[str]
    signals: dict[str, object]
    offered_deliver_at_us: StrictInt
    offered_deliver_at: str | None
    created_at_us: StrictInt


class Claim(Model):
    packet_id: str
    user_id: str
    result: str  # claimed | already_claimed | packet_empty | packet_expired | ...
    amount: Amount | None


class Share(Model):
    position: StrictInt
    amount: Amount
    claimed_by: str | None
    claimed_at_us: StrictInt | None


class Explanation(Model):
    language: str
    button: str  # enabled | challenge | disabled
    cause: str | None
    cause_text: str | None
    headline: str
    reasons: list[str]
    next_steps: list[str]
    verifications: list[str]
    retry_at_us: StrictInt | None
    refund: str | None  # the refund plan in one sentence
    accept_balance: bool
    social_cost: str | None = None  # what the recall would cost socially (eligibility only)


class Eligibility(Model):
    packet_id: str
    decision_id: str
    result: str  # allow | challenge | deny
    explanation: Explanation


class Recall(Model):
    recall_key: str
    packet_id: str
    requester_id: str
    state: str  # challenged | denied | done
    result: str
    decision_id: str
    explanation: Explanation
    challenge_ids: list[str]
    challenge_purpose: str | None
    route: str | None  # void_hold | refund, once done
    recalled: Amount | None
    refund_id: str | None
    created_at_us: StrictInt
    updated_at_us: StrictInt
    executed_at_us: StrictInt | None


class NextStep(Model):
    kind: str
    retry_at_us: StrictInt | None
    verification: str | None


class Rule(Model):
    rule: str
    requirement: str
    verdict: str
    reason: str | None
    words: str | None
    facts: dict[str, FactValue]
    next_step: NextStep | None
    exempted_by: list[str]


class Decision(Model):
    decision_id: str
    packet_id: str
    requester_id: str
    device_id: str
    purpose: str
    recall_key: str | None
    policy_version: str
    result: str
    created_at_us: StrictInt
    rules: list[Rule]
    explanation: Explanation


class Challenge(Model):
    id: str
    kind: str
    user_id: str
    device_id: str
    purpose: str
    state: str  # pending | passed | consumed | locked | expired
    attempts_remaining: StrictInt
    max_attempts: StrictInt
    created_at_us: StrictInt
    expires_at_us: StrictInt


class Answer(Model):
    challenge_id: str
    result: str  # passed | wrong_answer | locked | expired | already_passed | ...
    attempts_remaining: StrictInt | None


class DeviceLock(Model):
    device_id: str
    sim_id: str
    user_id: str
    state: str  # locked | unlocked
    locked_at: str
    unlocked_at: str | None
    unlocked_by: str | None


class ChallengeCode(Model):
    challenge_id: str
    code: str


class Hop(Model):
    transfer_id: str
    from_account_id: str
    to_account_id: str
    amount: Amount
    note: str


class Refund(Model):
    id: str
    packet_id: str
    owner_id: str
    trigger: str  # recall | expiry
    route: str
    substituted: bool
    amount: Amount
    fee: Amount
    net: Amount
    destination_account_id: str
    state: str
    where: str  # where the money is now, in words
    reason: str
    created_at_us: StrictInt
    arrives_at_us: StrictInt
    settled_at_us: StrictInt | None
    hops: list[Hop]


class Problem(Model):
    check: str
    subject: str
    detail: str


class Report(Model):
    """One part of the R-M2 report (ledger, packets or refunds): ok, and the first problems."""

    ok: bool
    violations: list[Problem] = []  # the ledger's
    problems: list[Problem] = []  # the packets' and refunds'


class LedgerVerification(Model):
    ok: bool
    ledger: Report
    packets: Report
    refunds: Report


class Me(Model):
    subject: str
    role: str  # user | operator
    device_id: str | None
    sim_id: str | None
    token_expires_at_us: StrictInt


class IssuedToken(Model):
    token: str
    token_id: str
    subject: str
    role: str
    device_id: str | None
    sim_id: str | None
    expires_at_us: StrictInt


class RevokedToken(Model):
    token_id: str
    subject: str
    revoked_at_us: StrictInt
    revoked_by: str
