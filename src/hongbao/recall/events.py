"""The recall context's events, each written to its recall's stream ``recall:{key}`` (the key
is the request's Idempotency-Key).

Each class's ``event_type`` and ``payload()`` are the wire form: stored events read them, so a
name or a key never changes once written (a test pins them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from hongbao.recall.model import DecisionResult
from hongbao.recall.reasons import ReasonCode


def recall_stream(key: str) -> str:
    """The outbox stream of one recall's events."""
    return f"recall:{key}"


@dataclass(frozen=True, slots=True)
class RecallRequested:
    """A recall of a packet was asked for the first time under its key."""

    event_type: ClassVar[str] = "RecallRequested"
    recall_key: str
    packet_id: str

    @property
    def stream(self) -> str:
        return recall_stream(self.recall_key)

    def payload(self) -> dict[str, object]:
        return {"recall_key": self.recall_key, "packet_id": self.packet_id}


@dataclass(frozen=True, slots=True)
class RecallDecided:
    """The policy answered a recall (again, when it is repeated after a challenge)."""

    event_type: ClassVar[str] = "RecallDecided"
    recall_key: str
    decision_id: str
    result: DecisionResult
    reasons: tuple[ReasonCode, ...]

    @property
    def stream(self) -> str:
        return recall_stream(self.recall_key)

    def payload(self) -> dict[str, object]:
        return {
            "recall_key": self.recall_key,
            "decision_id": self.decision_id,
            "result": self.result.value,
            "reasons": [reason.value for reason in self.reasons],
        }
