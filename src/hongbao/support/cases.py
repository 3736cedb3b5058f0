"""A support case and its notes: what the person asked, with the recall's context attached,
and every answer and closing kept with who wrote it, when and why."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

MAX_TEXT_LENGTH: Final = 1000
MAX_ATTEMPTS_ATTACHED: Final = 10
MAX_NOTES: Final = 50


class CaseState(StrEnum):
    OPEN = "open"  # waiting for an operator
    ANSWERED = "answered"  # an operator answered; the person may write again
    CLOSED = "closed"  # settled: nothing more is written on it


class CaseOrigin(StrEnum):
    """Where the person asked from: the page they were on when they asked for help."""

    REFUSAL = "refusal"  # a grey recall button or a refused recall
    RECALL_RESULT = "recall_result"  # the result of a recall (where the refund is)
    HELP = "help"  # the help page


class Author(StrEnum):
    USER = "user"
    OPERATOR = "operator"


class NoteKind(StrEnum):
    OPENED = "opened"
    ANSWERED = "answered"
    WROTE = "wrote"  # the person added to their case
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One of the person's recall attempts on the packet, as support sees it."""

    decision_id: str
    result: str  # allow, challenge or deny
    reasons: tuple[str, ...]
    at_us: int


@dataclass(frozen=True, slots=True)
class SupportCase:
    id: str
    user_id: str
    origin: CaseOrigin
    state: CaseState
    question: str
    device_id: str
    age_band: str | None  # the person's band when they asked (the 60+ are offered us first)
    decision_id: str | None
    packet_id: str | None
    attempts: str  # JSON list of the recent Attempts, fixed when the case was opened
    opened_at_us: int
    updated_at_us: int
    closed_at_us: int | None = None

    def moved_to(self, state: CaseState, now_us: int) -> SupportCase:
        closed = now_us if state is CaseState.CLOSED else None
        return replace(self, state=state, updated_at_us=now_us, closed_at_us=closed)


@dataclass(frozen=True, slots=True)
class SupportNote:
    """One entry of a case's history, never changed once written: the audit of who, when and
    why (an operator's answer or the reason they closed the case)."""

    case_id: str
    number: int  # 1 for the opening, then in order
    kind: NoteKind
    author: Author
    author_id: str
    text: str
    at_us: int
