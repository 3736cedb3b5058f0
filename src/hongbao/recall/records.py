"""Recalls as stored: every decision, every recall request, and reconciliation incidents."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from hongbao.recall.model import DecisionResult


class DecisionPurpose(StrEnum):
    QUERY = "query"  # "may I recall?": the button's state; nothing moves
    RECALL = "recall"  # part of a recall request


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One evaluation, enough to explain and replay it: the facts and every rule's outcome."""

    decision_id: str
    packet_id: str
    requester_id: str
    device_id: str
    sim_id: str
    purpose: DecisionPurpose
    policy_version: str
    shadow: bool  # evaluated under a shadow policy: recorded, never acted on
    result: DecisionResult
    facts: str  # JSON of RecallFacts
    outcomes: str  # JSON of the RuleOutcome tuple
    recall_key: str | None
    created_at_us: int


class RecallState(StrEnum):
    CHALLENGED = "challenged"  # waiting for verifications; repeat with their challenge ids
    DENIED = "denied"
    DONE = "done"


class RecallRoute(StrEnum):
    VOID_HOLD = "void_hold"  # inside the card window: claimed part captured, the rest voided
    REFUND = "refund"  # escrow refunded along a route: see the recall's refund


MAX_ANSWERS = 16  # distinct requests' answers kept on one recall


@dataclass(frozen=True, slots=True)
class RecallAnswer:
    """The answer a request got, kept on its recall: the same request again (its
    ``request_hash``, chosen by the caller) gets the same answer. ``body`` is a JSON value."""

    request_hash: str
    status: int
    body: Any


@dataclass(frozen=True, slots=True)
class Recall:
    idempotency_key: str
    packet_id: str
    requester_id: str
    device_id: str
    sim_id: str
    state: RecallState
    last_decision_id: str
    request_digest: str
    created_at_us: int
    updated_at_us: int
    executed_at_us: int | None
    usage_key: str | None  # requester and local day, set once executed (R-A4 counts these)
    route: RecallRoute | None
    recalled_minor: int | None
    currency: str
    # While challenged: what the verifications are bound to, and those hongbao opened itself
    # (a corporate-account check needs the account number, so the client opens that one).
    challenge_purpose: str | None
    challenge_ids: tuple[str, ...]
    refund_id: str | None = None  # the refund that carries the money back, once executed
    # The idempotency layer of the requests that carried this recall: one answer per distinct
    # request (a recall repeated with the challenges it asked for is another request), as JSON
    # text decoded only when asked (the day's recalls are read for their count and amount).
    answers: str = "[]"

    def kept_answers(self) -> tuple[RecallAnswer, ...]:
        return tuple(
            RecallAnswer(item["request_hash"], item["status"], item["body"])
            for item in json.loads(self.answers)
        )

    def answer_to(self, requester_id: str, request_hash: str) -> RecallAnswer | None:
        """The answer kept for this requester's request ``request_hash``, if any."""
        if requester_id != self.requester_id:
            return None
        return next((a for a in self.kept_answers() if a.request_hash == request_hash), None)

    def with_answer(self, answer: RecallAnswer) -> Recall:
        """This recall keeping ``answer`` too; as it is when that request has its answer
        already or the recall holds ``MAX_ANSWERS`` (a repeat is then answered from the
        recall as stored)."""
        kept = self.kept_answers()
        if len(kept) >= MAX_ANSWERS or any(a.request_hash == answer.request_hash for a in kept):
            return self
        items = [
            {"request_hash": a.request_hash, "status": a.status, "body": a.body}
            for a in (*kept, answer)
        ]
        # Key order and Chinese kept as written: a repeat is answered with the same bytes.
        answers = json.dumps(items, separators=(",", ":"), ensure_ascii=False)
        return replace(self, answers=answers)


@dataclass(frozen=True, slots=True)
class Incident:
    """A reconciliation incident (R-X2): the packet record and its money disagree."""

    id: str
    packet_id: str
    decision_id: str
    state: str  # open | closed (resolved by an operator)
    detail: str
    opened_at_us: int
    closed_at_us: int | None
    # Who resolved it and how (R-X2's audit): set once, with closed_at_us, when it closes.
    resolved_by: str | None = None
    resolution: str | None = None
