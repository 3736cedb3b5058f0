"""Recall requests: decide and act in one transaction, exactly once per idempotency key.

``eligibility`` answers "may I recall?" (the button) and records the decision. ``recall`` takes
an idempotency key: the packet row is locked, the facts are read under that lock (so a claim
that landed first is seen, and the answer says so), every rule is evaluated, the decision is
recorded, and an allowed recall stops further claims and gives the unclaimed money back in the
same transaction (R-M4). A repeat with the same key returns the first outcome once the recall
is done or denied; a recall waiting for verifications is evaluated again with the challenge ids
the client brings. Two recalls of one packet under different keys: one executes, the other is
told the packet was already recalled.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from hongbao.identity.devices import DeviceFingerprint
from hongbao.identity.step_up import (
    find_challenge,
    lock_challenge,
    open_new_challenge,
    spend_challenge,
)
from hongbao.identity.verification import (
    ChallengeKind,
    ChallengeRequest,
    ChallengeState,
    ConsumeRequest,
    VerificationProvider,
)
from hongbao.packets.model import Packet
from hongbao.packets.remainder import PacketRefundPlan
from hongbao.packets.service import PacketService, RefundReads, needs_refund_plan
from hongbao.platform.clock import Clock
from hongbao.platform.ids import is_valid_id
from hongbao.platform.invariants import invariant, present
from hongbao.platform.outbox import EventBatch, append_batch, new_event
from hongbao.platform.records import from_json, to_json
from hongbao.policy.document import Policy
from hongbao.policy.store import PolicyStore
from hongbao.recall.engine import evaluate
from hongbao.recall.errors import RecallCode
from hongbao.recall.events import RecallDecided, RecallRequested
from hongbao.recall.facts import RecallFacts
from hongbao.recall.gather import (
    RecallError,
    RequesterReads,
    gather,
    recall_purpose,
    send_packet_reads,
    send_requester_reads,
)
from hongbao.recall.model import Decision, DecisionResult, RuleOutcome
from hongbao.recall.ports import Database, RiskAssessor, UnitOfWork
from hongbao.recall.reasons import ReasonCode
from hongbao.recall.records import (
    DecisionPurpose,
    DecisionRecord,
    Incident,
    Recall,
    RecallAnswer,
    RecallRoute,
    RecallState,
)
from hongbao.recall.risk_actions import RiskOutcome, act_on_risk, held_until
from hongbao.recall.risk_analysis import DECIDED_CONSUMERS
from hongbao.recall.risk_check import PolicyRiskAssessor
from hongbao.refunds.routes import RefundPlan
from hongbao.risk.geo import Place

MAX_KEY_LENGTH = 64
MAX_CHALLENGES_PER_KIND = 20
STATE_BY_RESULT = {
    DecisionResult.DENY: RecallState.DENIED,
    DecisionResult.CHALLENGE: RecallState.CHALLENGED,
}


@dataclass(frozen=True, slots=True)
class RecallCommand:
    """A recall request; ``idempotency_key`` is the client's, chosen once per intent."""

    idempotency_key: str
    packet_id: str
    requester_id: str
    device: DeviceFingerprint
    challenge_ids: tuple[str, ...] = ()
    # Smart routing offered the balance instead of the original method and the sender agrees.
    accept_balance: bool = False
    # Where the request comes from (R-K2's travel rule); None: unknown. Not part of the
    # digest: a retry from another place is the same recall.
    place: Place | None = None

    def digest(self) -> str:
        parts = (
            self.idempotency_key,
            self.packet_id,
            self.requester_id,
            self.device.device_id,
            self.device.sim_id,
        )
        return hashlib.sha256("|".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RecallOutcome:
    recall: Recall
    decision: Decision


class RecallWrite(StrEnum):
    """What a recall request writes of its recall record, once its answer is known."""

    INSERT = "insert"  # the first request under the key
    REPLACE = "replace"  # a challenged recall carried forward
    NONE = "none"  # a repeat: the recall as stored


@dataclass(frozen=True, slots=True)
class Decided:
    decision: Decision
    facts: RecallFacts
    refund: PacketRefundPlan | None  # what the decision showed; an allowed recall runs it


@dataclass(frozen=True, slots=True)
class StoredOutcomes:
    items: tuple[RuleOutcome, ...]


class RecallReads:
    """What a recall starts from, sent together: the packet (locked, so claims of it wait),
    the recall under the key (locked) and what the request names. On a pipelined connection
    they travel with whatever the caller sent before, and arrive after one round trip, when
    first used."""

    def __init__(
        self, uow: UnitOfWork, command: RecallCommand, *, now_us: int, policy: Policy
    ) -> None:
        self.now_us = now_us
        self.policy = policy
        self._packet = uow.packets.packets.read_many([(command.packet_id,)], lock=True)
        self._existing = uow.recalls.recalls.read_many([(command.idempotency_key,)], lock=True)
        self._requester = send_requester_reads(
            uow,
            command.requester_id,
            command.device,
            command.challenge_ids,
            now_us=now_us,
            zone_name=policy.recall.timezone,
            acting=True,
        )
        self._read: dict[str, Any] = {}

    def _once(self, name: str, read: Callable[[], Any]) -> Any:
        if name not in self._read:
            self._read[name] = read()
        return self._read[name]

    @property
    def packet(self) -> Packet | None:
        found: dict[tuple[str, ...], Packet] = self._once("packet", self._packet)
        return next(iter(found.values()), None)

    @property
    def existing(self) -> Recall | None:
        found: dict[tuple[str, ...], Recall] = self._once("existing", self._existing)
        return next(iter(found.values()), None)

    def answer_to(self, command: RecallCommand, request_hash: str) -> RecallAnswer | None:
        """The answer kept on the recall under the key for this requester's request."""
        existing = self.existing
        if existing is None:
            return None
        return existing.answer_to(command.requester_id, request_hash)

    @property
    def requester(self) -> RequesterReads:
        found: RequesterReads = self._once("requester", self._requester)
        return found


@dataclass
class RecallService:
    database: Database
    clock: Clock
    packets: PacketService
    policies: PolicyStore = field(default_factory=PolicyStore.fixed)
    risk: RiskAssessor | None = None  # None: the risk rules of the active policy
    # Opens the verifications a challenge asks for; without one the client opens them.
    provider: VerificationProvider | None = None

    def __post_init__(self) -> None:
        self.assessor: RiskAssessor = self.risk or PolicyRiskAssessor(self.policies)

    # ----------------------------------------------------------------------- the button

    def eligibility(self, packet_id: str, requester_id: str, device: DeviceFingerprint) -> Decision:
        """May this user recall this packet from this device now? Recorded, nothing moves. The
        refund rule's facts carry the refund plan (route, amount, fee, arrival) for the answer."""

        def work(uow: UnitOfWork) -> Decision:
            packet = self._packet(uow, packet_id, lock=False)
            return self._decide(
                uow,
                packet,
                requester_id,
                device,
                challenge_ids=(),
                recall_key=None,
                now_us=self.clock.now_us(),
                accept_balance=False,
            ).decision

        return self.database.transact(work)

    def what_if(
        self, packet_id: str, requester_id: str, device: DeviceFingerprint, at_us: int
    ) -> Decision:
        """The decision the rules would make at ``at_us`` on today's data: for explaining and
        drills. Read-only and not recorded, since no real request was made at that moment."""

        def read(uow: UnitOfWork) -> Decision:
            packet = self._packet(uow, packet_id, lock=False)
            policy = self.policies.active()
            # A what-if before the packet existed has nothing to refund.
            sent = at_us >= packet.created_at_us
            refund = self.packets.refund_plan(uow, packet, at_us) if sent else None
            facts = gather(
                uow,
                packet,
                requester_id,
                device,
                (),
                now_us=at_us,
                policy=policy,
                risk=self.assessor,
                refund=refund,
            )
            return evaluate(facts, policy, f"what-if-{new_decision_id()}")

        return self.database.read(read)

    # --------------------------------------------------------------------------- recall

    def recall(self, command: RecallCommand) -> RecallOutcome:
        return self.database.transact(lambda uow: self.recall_in(uow, command))

    def recall_in(
        self,
        uow: UnitOfWork,
        command: RecallCommand,
        reads: RecallReads | None = None,
        *,
        answer: Callable[[RecallOutcome], RecallAnswer] | None = None,
    ) -> RecallOutcome:
        """The recall inside the caller's unit of work. ``reads``: what :meth:`read_in` sent
        for this command. ``answer``: the caller's answer to this request, asked for once and
        kept on the recall (the request's key is the recall's), so that the same request again
        is answered the same (see ``Recall.answer_to``) without a key record of the caller's
        own."""
        outcome, write = self._recall(uow, command, reads or self.read_in(uow, command))
        recall = outcome.recall
        if answer is not None:
            answered = recall.with_answer(answer(outcome))
            if answered is not recall and write is RecallWrite.NONE:
                uow.recalls.recalls.replace_many([answered], columns=("answers",))
            recall = answered
        if write is RecallWrite.INSERT:
            uow.recalls.recalls.insert(recall)
        elif write is RecallWrite.REPLACE:
            # Locked with the first reads: the update is checked at commit, not waited for.
            uow.recalls.recalls.replace_many([recall])
        return replace(outcome, recall=recall)

    def read_in(self, uow: UnitOfWork, command: RecallCommand) -> RecallReads:
        """Send the recall's first reads without waiting for them: a caller that sends its
        own reads first (the API: the token's revocation, its key) gets them all after one
        round trip, and may check the packet (``RecallReads.packet``) before the recall runs."""
        if (
            not is_valid_id(command.idempotency_key)
            or len(command.idempotency_key) > MAX_KEY_LENGTH
        ):
            raise RecallError(
                f"an idempotency key is 1 to {MAX_KEY_LENGTH} letters, digits or ':._-/'",
                code=RecallCode.KEY_INVALID,
            )
        return RecallReads(uow, command, now_us=self.clock.now_us(), policy=self.policies.active())

    def _recall(
        self, uow: UnitOfWork, command: RecallCommand, reads: RecallReads
    ) -> tuple[RecallOutcome, RecallWrite]:
        existing = reads.existing
        if existing is not None:
            if existing.request_digest != command.digest():
                raise RecallError(
                    "this idempotency key was used for another recall", code=RecallCode.KEY_REUSED
                )
            if existing.state is not RecallState.CHALLENGED:
                decision = self._stored_decision(uow, existing.last_decision_id)
                return RecallOutcome(existing, decision), RecallWrite.NONE
        packet = reads.packet
        if packet is None:
            raise RecallError(f"no packet {command.packet_id!r}", code=RecallCode.UNKNOWN_PACKET)
        now_us = reads.now_us
        opened_before = existing.challenge_ids if existing else ()
        offered = tuple(dict.fromkeys(command.challenge_ids + opened_before))
        decided = self._decide(
            uow,
            packet,
            command.requester_id,
            command.device,
            challenge_ids=offered,
            recall_key=command.idempotency_key,
            now_us=now_us,
            accept_balance=command.accept_balance,
            reads=reads,
            place=command.place,
            new_attempt=existing is None,
        )
        decision = decided.decision
        # The recall's events and the packet's, written together once the recall has run.
        events = EventBatch()
        for event in _events(command, packet, decision, first=existing is None):
            analysed = isinstance(event, RecallDecided)
            events.add([new_event(event)], consumers=DECIDED_CONSUMERS if analysed else ())
        recall = Recall(
            idempotency_key=command.idempotency_key,
            packet_id=packet.id,
            requester_id=command.requester_id,
            device_id=command.device.device_id,
            sim_id=command.device.sim_id,
            state=STATE_BY_RESULT.get(decision.result, RecallState.DONE),
            last_decision_id=decision.decision_id,
            request_digest=command.digest(),
            created_at_us=existing.created_at_us if existing else now_us,
            updated_at_us=now_us,
            executed_at_us=None,
            usage_key=None,
            route=None,
            recalled_minor=None,
            currency=packet.currency,
            challenge_purpose=None,
            challenge_ids=(),
        )
        if decision.result is DecisionResult.CHALLENGE:
            purpose = recall_purpose(packet.id, packet.remainder_minor)
            opened = self._open_challenges(
                uow,
                command,
                decision,
                purpose,
                opened_before=opened_before,
                now_us=now_us,
                reads=reads,
            )
            recall = replace(recall, challenge_purpose=purpose, challenge_ids=opened)
        if decision.result is DecisionResult.ALLOW:
            recall = self._execute(
                uow, packet, replace(command, challenge_ids=offered), recall, decided, reads, events
            )
        act_on_risk(
            uow,
            RiskOutcome(
                decided.facts,
                decision,
                recall,
                reads.requester,
                (command.device.device_id, command.device.sim_id),
                command.place,
            ),
            hold_hours=reads.policy.risk.hold_hours,
            new_attempt=existing is None,
        )
        append_batch(uow.outbox, events, now_us=now_us)
        if existing is None:
            return RecallOutcome(recall, decision), RecallWrite.INSERT
        recall = replace(recall, answers=existing.answers)
        return RecallOutcome(recall, decision), RecallWrite.REPLACE

    def _execute(  # noqa: PLR0917 - the recall's parts, decided and read
        self,
        uow: UnitOfWork,
        packet: Packet,
        command: RecallCommand,
        recall: Recall,
        decided: Decided,
        reads: RecallReads,
        events: EventBatch,
    ) -> Recall:
        now_us = decided.facts.now_us
        self._consume_challenges(uow, packet, command, now_us, reads.requester)
        recalled_minor = packet.remainder_minor
        plan = decided.refund.plan if decided.refund is not None else None
        invariant(
            not (isinstance(plan, RefundPlan) and plan.substituted) or command.accept_balance,
            "the balance replaces the original route only when the sender accepted it",
            packet_id=packet.id,
        )
        hold = held_until(decided.facts.risk, now_us, reads.policy.risk.hold_hours)
        _, money, refund = self.packets.close_for_recall(
            uow, packet, decided.refund, now_us, events=events, risk_hold_until_us=hold
        )
        return replace(
            recall,
            executed_at_us=now_us,
            usage_key=decided.facts.usage.key,  # counted under the day the decision counted
            route=RecallRoute(money.value),
            recalled_minor=recalled_minor,
            refund_id=refund.id if refund is not None else None,
        )

    def _open_challenges(
        self,
        uow: UnitOfWork,
        command: RecallCommand,
        decision: Decision,
        purpose: str,
        *,
        opened_before: tuple[str, ...],
        now_us: int,
        reads: RecallReads,
    ) -> tuple[str, ...]:
        """Open (or keep) one challenge per verification the decision asks for, bound to this
        user, device, packet and amount. The client answers them and repeats the recall."""
        device = reads.requester.device
        if self.provider is None or device is None or device.user_id != command.requester_id:
            return ()
        opened: list[str] = []
        for kind in decision.challenges:
            if kind is ChallengeKind.CORPORATE_ACCOUNT:
                continue  # needs the account number, which only the client has
            reusable = [
                found.challenge_id
                for challenge_id in opened_before
                if (found := find_challenge(uow.identity, challenge_id)) is not None
                and (found.kind, found.purpose) == (kind, purpose)
                and found.state_at(now_us) in (ChallengeState.PENDING, ChallengeState.PASSED)
            ]
            opened.append(
                reusable[0] if reusable else self._open(uow, command, kind, purpose, now_us)
            )
        return tuple(opened)

    def _open(
        self,
        uow: UnitOfWork,
        command: RecallCommand,
        kind: ChallengeKind,
        purpose: str,
        now_us: int,
    ) -> str:
        provider = present(self.provider, "challenges are opened with a provider")
        for attempt in range(MAX_CHALLENGES_PER_KIND):
            challenge_id = f"{command.idempotency_key}.{kind.value}.{attempt}"
            request = ChallengeRequest(
                challenge_id, kind, command.requester_id, command.device, purpose
            )
            if open_new_challenge(uow.identity, request, now_us, provider):
                return challenge_id
        raise RecallError(
            f"this recall opened {MAX_CHALLENGES_PER_KIND} {kind.value} checks; use a new key",
            code=RecallCode.TOO_MANY_CHALLENGES,
        )

    def _consume_challenges(
        self,
        uow: UnitOfWork,
        packet: Packet,
        command: RecallCommand,
        now_us: int,
        requester: RequesterReads,
    ) -> None:
        """Spend the challenges this recall used, so none serves a second recall; those the
        request named were read and locked with its first reads."""
        purpose = recall_purpose(packet.id, packet.remainder_minor)
        for challenge_id in command.challenge_ids:
            challenge = present(
                requester.challenges.get(challenge_id)
                or lock_challenge(uow.identity, challenge_id),
                "a used challenge exists",
                challenge_id=challenge_id,
            )
            request = ConsumeRequest(command.requester_id, command.device, purpose, challenge.kind)
            spend_challenge(uow.identity, challenge, request, now_us)

    # -------------------------------------------------------------------------- deciding

    def _decide(
        self,
        uow: UnitOfWork,
        packet: Packet,
        requester_id: str,
        device: DeviceFingerprint,
        *,
        challenge_ids: tuple[str, ...],
        recall_key: str | None,
        now_us: int,
        accept_balance: bool,
        reads: RecallReads | None = None,
        place: Place | None = None,
        new_attempt: bool = True,
    ) -> Decided:
        policy = reads.policy if reads is not None else self.policies.active()
        requester = (
            reads.requester
            if reads is not None
            else send_requester_reads(
                uow,
                requester_id,
                device,
                challenge_ids,
                now_us=now_us,
                zone_name=policy.recall.timezone,
            )()
        )
        # What the packet names, in one round trip: the facts' and the refund plan's.
        packet_reads = send_packet_reads(uow, packet, funding=needs_refund_plan(packet))()
        user = requester.user
        refund = self.packets.refund_plan(
            uow,
            packet,
            now_us,
            read=RefundReads(
                packet_reads.authorization,
                packet_reads.funding,
                user if user is not None and user.id == packet.sender_id else None,
            ),
        )
        facts = gather(
            uow,
            packet,
            requester_id,
            device,
            challenge_ids,
            now_us=now_us,
            policy=policy,
            risk=self.assessor,
            refund=refund,
            substitute_accepted=accept_balance,
            requester=requester,
            packet_reads=packet_reads,
            place=place,
            new_attempt=new_attempt,
        )
        decision = evaluate(facts, policy, new_decision_id())
        self._record(uow, facts, decision, recall_key, shadow=False)
        shadow = self.policies.shadow()
        if shadow is not None:
            self._record_shadow(uow, facts, shadow, recall_key)
        if ReasonCode.ESCROW_MISMATCH in decision.reasons:
            self._open_incident(uow, packet, decision)
        return Decided(decision, facts, refund)

    def _record_shadow(
        self, uow: UnitOfWork, facts: RecallFacts, shadow: Policy, recall_key: str | None
    ) -> None:
        self._record(
            uow, facts, evaluate(facts, shadow, new_decision_id()), recall_key, shadow=True
        )

    def _record(
        self,
        uow: UnitOfWork,
        facts: RecallFacts,
        decision: Decision,
        recall_key: str | None,
        *,
        shadow: bool,
    ) -> None:
        uow.recalls.decisions.insert(
            DecisionRecord(
                decision_id=decision.decision_id,
                packet_id=facts.packet.packet_id,
                requester_id=facts.requester.user_id,
                device_id=facts.device.device_id,
                sim_id=facts.device.sim_id,
                purpose=DecisionPurpose.RECALL if recall_key else DecisionPurpose.QUERY,
                policy_version=decision.policy_version,
                shadow=shadow,
                result=decision.result,
                facts=to_json(facts),
                outcomes=outcomes_json(decision.outcomes),
                recall_key=recall_key,
                created_at_us=decision.evaluated_at_us,
            )
        )

    def _open_incident(self, uow: UnitOfWork, packet: Packet, decision: Decision) -> None:
        """R-X2: the packet and its money disagree; one open incident per packet."""
        incident_id = f"escrow:{packet.id}"
        if uow.recalls.incidents.get(incident_id) is None:
            detail = "; ".join(
                f"{name}={value}"
                for outcome in decision.failures
                if outcome.reason is ReasonCode.ESCROW_MISMATCH
                for name, value in outcome.facts
            )
            uow.recalls.incidents.insert(
                Incident(
                    incident_id,
                    packet.id,
                    decision.decision_id,
                    "open",
                    detail,
                    decision.evaluated_at_us,
                    None,
                )
            )

    # --------------------------------------------------------------------------- queries

    def status(self, idempotency_key: str) -> RecallOutcome:
        def read(uow: UnitOfWork) -> RecallOutcome:
            recall = uow.recalls.recalls.get(idempotency_key)
            if recall is None:
                raise RecallError(f"no recall {idempotency_key!r}", code=RecallCode.UNKNOWN_RECALL)
            return RecallOutcome(recall, self._stored_decision(uow, recall.last_decision_id))

        return self.database.read(read)

    def decision(self, decision_id: str) -> tuple[DecisionRecord, Decision]:
        def read(uow: UnitOfWork) -> tuple[DecisionRecord, Decision]:
            record = uow.recalls.decisions.get(decision_id)
            if record is None:
                raise RecallError(f"no decision {decision_id!r}", code=RecallCode.UNKNOWN_DECISION)
            return record, _decision_of(record)

        return self.database.read(read)

    def replay(self, decision_id: str) -> Decision:
        """Evaluate a recorded decision's facts again under the active policy (same version:
        the same decision, since rules are pure)."""
        record, _ = self.decision(decision_id)
        facts = from_json(RecallFacts, record.facts)
        return evaluate(facts, self.policies.active(), f"replay-of-{decision_id}")

    def _stored_decision(self, uow: UnitOfWork, decision_id: str) -> Decision:
        record = present(
            uow.recalls.decisions.get(decision_id),
            "a recall's decision is stored",
            decision_id=decision_id,
        )
        return _decision_of(record)

    def _packet(self, uow: UnitOfWork, packet_id: str, *, lock: bool) -> Packet:
        packet = (uow.packets.packets.lock if lock else uow.packets.packets.get)(packet_id)
        if packet is None:
            raise RecallError(f"no packet {packet_id!r}", code=RecallCode.UNKNOWN_PACKET)
        return packet


def _events(
    command: RecallCommand, packet: Packet, decision: Decision, *, first: bool
) -> list[RecallRequested | RecallDecided]:
    key = command.idempotency_key
    decided = RecallDecided(key, decision.decision_id, decision.result, decision.reasons)
    return [RecallRequested(key, packet.id), decided] if first else [decided]


def outcomes_json(outcomes: tuple[RuleOutcome, ...]) -> str:
    """What ``to_json(StoredOutcomes(outcomes))`` writes, built directly: a decision record is
    written on every evaluation, and the generic encoder walks every value of every fact."""
    items = []
    for outcome in outcomes:
        step = outcome.next_step
        items.append(
            {
                "rule": outcome.rule,
                "requirement": outcome.requirement,
                "verdict": outcome.verdict.value,
                "reason": outcome.reason.value if outcome.reason else None,
                "facts": [[name, value] for name, value in outcome.facts],
                "next_step": None
                if step is None
                else {
                    "kind": step.kind.value,
                    "retry_at_us": step.retry_at_us,
                    "verification": step.verification.value if step.verification else None,
                },
                "exempted_by": list(outcome.exempted_by),
            }
        )
    return json.dumps({"items": items}, sort_keys=True)


def new_decision_id() -> str:
    return f"d-{secrets.token_hex(10)}"


def _decision_of(record: DecisionRecord) -> Decision:
    outcomes = from_json(StoredOutcomes, record.outcomes).items
    return Decision(
        record.decision_id, record.result, record.policy_version, record.created_at_us, outcomes
    )
