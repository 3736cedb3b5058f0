"""What risk control keeps: one profile per user, locked devices, the review queue, and what
the behaviour analysis keeps and concludes (flags, baselines, the link graph, tallies)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from hongbao.platform.records import RecordTable
from hongbao.risk.analysis import BehaviourState
from hongbao.risk.cases import DeviceLock, RiskCase
from hongbao.risk.flags import RiskFlag
from hongbao.risk.graph import Component, GraphNode, Pair
from hongbao.risk.profile import RiskProfile
from hongbao.risk.stats import AppliedEvent, CaseTally, DailyDecisions


class RiskTables(Protocol):
    @property
    def profiles(self) -> RecordTable[RiskProfile]: ...

    @property
    def locks(self) -> RecordTable[DeviceLock]: ...

    @property
    def cases(self) -> RecordTable[RiskCase]: ...

    @property
    def flags(self) -> RecordTable[RiskFlag]: ...

    @property
    def behaviour(self) -> RecordTable[BehaviourState]: ...

    @property
    def graph_nodes(self) -> RecordTable[GraphNode]: ...

    @property
    def components(self) -> RecordTable[Component]: ...

    @property
    def pairs(self) -> RecordTable[Pair]: ...

    @property
    def applied(self) -> RecordTable[AppliedEvent]: ...

    @property
    def daily(self) -> RecordTable[DailyDecisions]: ...

    def read_profile(self, user_id: str) -> Callable[[], RiskProfile | None]:
        """The user's profile, sent now, read later."""
        ...

    def read_flags(self, user_id: str) -> Callable[[], list[RiskFlag]]:
        """The user's flags (one per detector at most, active or not), sent now, read later."""
        ...

    def read_lock(self, device_id: str, sim_id: str) -> Callable[[], DeviceLock | None]:
        """The device's lock, if it ever had one, sent now, read later."""
        ...

    def cases_in(self, state: str, *, limit: int) -> list[RiskCase]:
        """Cases in ``state``, oldest first; more than ``limit`` is cut to the oldest."""
        ...

    def nodes_in(self, component_id: str, *, limit: int) -> list[GraphNode]:
        """The link graph's nodes in a component, in node order; more than ``limit`` is cut."""
        ...

    def take_analysis_turn(self) -> None:
        """Wait until other units of work running the behaviour analysis have ended, and keep
        them waiting until this one ends: the graph and the baselines change one at a time."""
        ...

    def case_tally(self, since_us: int) -> CaseTally:
        """The cases opened at or after ``since_us``, counted by what became of them."""
        ...


class UnitOfWork(Protocol):
    @property
    def risk(self) -> RiskTables: ...
