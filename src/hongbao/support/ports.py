"""What support asks of storage: its cases and notes, and the person's recent recall attempts
on a packet (read from the recall decisions, by a named read)."""

from __future__ import annotations

from typing import Protocol, TypeAlias

from hongbao.identity.ports import IdentityRepository
from hongbao.platform.records import RecordTable
from hongbao.platform.unit_of_work import Database as DatabasePort
from hongbao.support.cases import Attempt, CaseState, SupportCase, SupportNote


class SupportTables(Protocol):
    @property
    def cases(self) -> RecordTable[SupportCase]: ...

    @property
    def notes(self) -> RecordTable[SupportNote]: ...

    def cases_in(self, state: CaseState, *, limit: int) -> list[SupportCase]:
        """Cases in one state, oldest first."""
        ...

    def cases_of(self, user_id: str, *, limit: int) -> list[SupportCase]:
        """One person's cases, newest first."""
        ...

    def notes_of(self, case_id: str, *, limit: int) -> list[SupportNote]:
        """A case's history in order."""
        ...

    def count_in(self, state: CaseState, *, cap: int) -> int:
        """How many cases are in ``state``, counted up to ``cap``."""
        ...

    def recall_attempts(self, user_id: str, packet_id: str, *, limit: int) -> list[Attempt]:
        """The person's latest recall attempts on the packet (not the button's queries)."""
        ...


class UnitOfWork(Protocol):
    @property
    def support(self) -> SupportTables: ...

    @property
    def identity(self) -> IdentityRepository: ...


Database: TypeAlias = DatabasePort[UnitOfWork]
