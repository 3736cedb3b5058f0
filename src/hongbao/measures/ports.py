"""What measuring asks of storage: its counter rows, and named reads over the recall
decisions, recalls, guidance hints and people that the dashboard aggregates."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, TypeAlias

from hongbao.identity.hints import HintSeen
from hongbao.identity.ports import IdentityRepository
from hongbao.measures.counts import Count
from hongbao.platform.records import RecordTable
from hongbao.platform.unit_of_work import Database as DatabasePort
from hongbao.recall.ports import RecallTables
from hongbao.risk.ports import RiskTables


class MeasureTables(Protocol):
    @property
    def counts(self) -> RecordTable[Count]: ...

    def all_counts(self, *, limit: int) -> list[Count]: ...

    def decisions_before(
        self, packet_id: str, requester_id: str, decision_id: str, at_us: int, *, limit: int
    ) -> list[tuple[str, str]]:
        """The requester's other decisions on the packet made up to ``at_us`` (the time of
        ``decision_id``), as (purpose, result), oldest first."""
        ...

    def recall_outcomes_by_day(self, since_us: int) -> list[tuple[int, str, int]]:
        """Recalls begun since ``since_us`` as (UTC day number, state, count)."""
        ...

    def hints_seen(self, user_id: str, hints: Collection[str]) -> list[HintSeen]:
        """The person's records of those guidance bubbles (one indexed read, a few rows)."""
        ...

    def hints_by_band(self) -> list[tuple[str, str, int]]:
        """Guidance bubbles as (age band, event: shown, dismissed or clicked, people)."""
        ...


class UnitOfWork(Protocol):
    @property
    def measures(self) -> MeasureTables: ...

    @property
    def identity(self) -> IdentityRepository: ...

    @property
    def recalls(self) -> RecallTables: ...

    @property
    def risk(self) -> RiskTables: ...


Database: TypeAlias = DatabasePort[UnitOfWork]
