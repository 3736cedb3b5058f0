"""The support desk: a person opens a case (the context attached by the desk itself, never
taken from the client's word), operators read the queue, answer and close; the person reads
their own cases only. Every change is a note on the case: who, when and why."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Final

from hongbao.identity.reads import find_user
from hongbao.platform.clock import Clock
from hongbao.support.cases import (
    MAX_ATTEMPTS_ATTACHED,
    MAX_NOTES,
    MAX_TEXT_LENGTH,
    Attempt,
    Author,
    CaseOrigin,
    CaseState,
    NoteKind,
    SupportCase,
    SupportNote,
)
from hongbao.support.errors import SupportCode, SupportError
from hongbao.support.ports import Database, UnitOfWork

MAX_QUEUE: Final = 500
QUEUE_COUNT_CAP: Final = 10_000


@dataclass(frozen=True, slots=True)
class CaseRequest:
    """What a person asks support, from where, about which decision and packet."""

    user_id: str
    device_id: str
    origin: CaseOrigin
    question: str
    decision_id: str | None = None
    packet_id: str | None = None


@dataclass(frozen=True, slots=True)
class CaseFile:
    """A case with its history."""

    case: SupportCase
    notes: tuple[SupportNote, ...]

    @property
    def attempts(self) -> list[Attempt]:
        return [
            Attempt(item["decision_id"], item["result"], tuple(item["reasons"]), item["at_us"])
            for item in json.loads(self.case.attempts)
        ]


@dataclass
class SupportDesk:
    database: Database
    clock: Clock

    def open(self, request: CaseRequest) -> CaseFile:
        question = _checked(request.question)

        def work(uow: UnitOfWork) -> CaseFile:
            now_us = self.clock.now_us()
            user = find_user(uow.identity, request.user_id)
            attempts = (
                uow.support.recall_attempts(
                    request.user_id, request.packet_id, limit=MAX_ATTEMPTS_ATTACHED
                )
                if request.packet_id
                else []
            )
            case = SupportCase(
                id=f"sup-{secrets.token_hex(8)}",
                user_id=request.user_id,
                origin=request.origin,
                state=CaseState.OPEN,
                question=question,
                device_id=request.device_id,
                age_band=user.age_band.value if user and user.age_band else None,
                decision_id=request.decision_id,
                packet_id=request.packet_id,
                attempts=_attempts_json(attempts),
                opened_at_us=now_us,
                updated_at_us=now_us,
            )
            opening = SupportNote(
                case.id, 1, NoteKind.OPENED, Author.USER, request.user_id, question, now_us
            )
            uow.support.cases.insert(case)
            uow.support.notes.insert(opening)
            return CaseFile(case, (opening,))

        return self.database.transact(work)

    def answer(self, case_id: str, operator: str, text: str) -> CaseFile:
        """An operator's answer: the person sees it on their case."""
        return self._write(
            case_id, (Author.OPERATOR, operator), NoteKind.ANSWERED, text, CaseState.ANSWERED
        )

    def write(self, case_id: str, user_id: str, text: str) -> CaseFile:
        """The person adds to their own case: it waits for an operator again."""
        return self._write(case_id, (Author.USER, user_id), NoteKind.WROTE, text, CaseState.OPEN)

    def close(self, case_id: str, author: tuple[Author, str], why: str) -> CaseFile:
        """Close a case (an operator, or the person on their own case), saying why."""
        return self._write(case_id, author, NoteKind.CLOSED, why, CaseState.CLOSED)

    def _write(
        self,
        case_id: str,
        author: tuple[Author, str],
        kind: NoteKind,
        text: str,
        state: CaseState,
    ) -> CaseFile:
        checked = _checked(text)
        role, author_id = author

        def work(uow: UnitOfWork) -> CaseFile:
            now_us = self.clock.now_us()
            case = _case(uow, case_id, lock=True)
            if role is Author.USER and case.user_id != author_id:
                # Another person's case is as good as absent: its existence is not told.
                raise SupportError(f"no support case {case_id!r}", code=SupportCode.UNKNOWN_CASE)
            if case.state is CaseState.CLOSED:
                raise SupportError(f"case {case_id} is closed", code=SupportCode.CASE_CLOSED)
            notes = uow.support.notes_of(case_id, limit=MAX_NOTES)
            if len(notes) >= MAX_NOTES:
                raise SupportError("too many notes", code=SupportCode.TOO_MANY_NOTES)
            note = SupportNote(case_id, len(notes) + 1, kind, role, author_id, checked, now_us)
            moved = case.moved_to(state, now_us)
            uow.support.notes.insert(note)
            uow.support.cases.replace(moved)
            return CaseFile(moved, (*notes, note))

        return self.database.transact(work)

    def queue(self, state: CaseState = CaseState.OPEN, limit: int = 100) -> list[SupportCase]:
        bounded = max(1, min(limit, MAX_QUEUE))
        return self.database.read(lambda uow: uow.support.cases_in(state, limit=bounded))

    def queue_size(self, state: CaseState = CaseState.OPEN) -> int:
        return self.database.read(lambda uow: uow.support.count_in(state, cap=QUEUE_COUNT_CAP))

    def case(self, case_id: str) -> CaseFile:
        """A case as operators see it."""
        return self.database.read(lambda uow: _file(uow, _case(uow, case_id)))

    def case_of(self, user_id: str, case_id: str) -> CaseFile:
        """A person's own case; another's is answered as not found."""

        def read(uow: UnitOfWork) -> CaseFile:
            case = _case(uow, case_id)
            if case.user_id != user_id:
                raise SupportError(f"no support case {case_id!r}", code=SupportCode.UNKNOWN_CASE)
            return _file(uow, case)

        return self.database.read(read)

    def cases_of(self, user_id: str, limit: int = 100) -> list[SupportCase]:
        bounded = max(1, min(limit, MAX_QUEUE))
        return self.database.read(lambda uow: uow.support.cases_of(user_id, limit=bounded))


def _checked(text: str) -> str:
    stripped = text.strip()
    if not stripped or len(stripped) > MAX_TEXT_LENGTH:
        raise SupportError("1 to 1000 characters", code=SupportCode.TEXT_INVALID)
    return stripped


def _case(uow: UnitOfWork, case_id: str, *, lock: bool = False) -> SupportCase:
    case = uow.support.cases.lock(case_id) if lock else uow.support.cases.get(case_id)
    if case is None:
        raise SupportError(f"no support case {case_id!r}", code=SupportCode.UNKNOWN_CASE)
    return case


def _file(uow: UnitOfWork, case: SupportCase) -> CaseFile:
    return CaseFile(case, tuple(uow.support.notes_of(case.id, limit=MAX_NOTES)))


def _attempts_json(attempts: list[Attempt]) -> str:
    items = [
        {
            "decision_id": a.decision_id,
            "result": a.result,
            "reasons": list(a.reasons),
            "at_us": a.at_us,
        }
        for a in attempts
    ]
    return json.dumps(items, separators=(",", ":"), ensure_ascii=False)
