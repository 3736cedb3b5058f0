"""What the recall context asks of others: its decisions, recalls and incidents from storage,
the unit of work a recall runs in (the packet's, since a recall moves the packet's money), and
a risk assessment of its facts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeAlias

from hongbao.packets import ports as packets
from hongbao.platform.records import RecordTable
from hongbao.platform.unit_of_work import Database as DatabasePort
from hongbao.recall.facts import RecallFacts
from hongbao.recall.records import DecisionRecord, Incident, Recall
from hongbao.risk import assessors


class RecallTables(Protocol):
    @property
    def decisions(self) -> RecordTable[DecisionRecord]: ...

    @property
    def recalls(self) -> RecordTable[Recall]: ...

    @property
    def incidents(self) -> RecordTable[Incident]: ...

    def take_turn(self, requester_id: str) -> None:
        """Wait until the requester's other recalls in flight have committed or rolled back,
        and keep them waiting until this unit of work ends: the day's count read after it
        counts them. Sent now, never read: the reads sent after it run after it."""
        ...

    def read_recalls_counted_on(self, usage_key: str, *, limit: int) -> Callable[[], list[Recall]]:
        """The recalls counted against one requester's day (``usage_key``), sent now, read
        later; more than ``limit`` is refused, never cut short."""
        ...


class UnitOfWork(packets.UnitOfWork, Protocol):
    """A recall reads and moves the packet and its money, and writes its own records."""

    @property
    def recalls(self) -> RecallTables: ...


Database: TypeAlias = DatabasePort[UnitOfWork]
RiskAssessor: TypeAlias = assessors.RiskAssessor[RecallFacts]
