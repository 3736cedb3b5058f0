"""Risk control's tables, on SQL and in memory, with their named reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from hongbao.platform.records import RecordTable
from hongbao.risk.analysis import BehaviourState
from hongbao.risk.cases import RELEASE_TIME, CaseState, DeviceLock, RiskCase
from hongbao.risk.flags import DETECTORS, RiskFlag
from hongbao.risk.graph import Component, GraphNode, Pair
from hongbao.risk.profile import RiskProfile
from hongbao.risk.stats import AppliedEvent, CaseTally, DailyDecisions
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable
from hongbao.storage.sql_dialect import SqlDialect

TABLES: dict[str, tuple[str, type[Any], tuple[str, ...]]] = {
    "profiles": ("risk_profiles", RiskProfile, ("user_id",)),
    "locks": ("risk_device_locks", DeviceLock, ("device_id", "sim_id")),
    "cases": ("risk_cases", RiskCase, ("id",)),
    "flags": ("risk_flags", RiskFlag, ("user_id", "detector")),
    "behaviour": ("risk_behaviour", BehaviourState, ("user_id",)),
    "graph_nodes": ("risk_graph_nodes", GraphNode, ("node",)),
    "components": ("risk_components", Component, ("id",)),
    "pairs": ("risk_pairs", Pair, ("low", "high")),
    "applied": ("risk_applied_events", AppliedEvent, ("event_id",)),
    "daily": ("risk_daily_decisions", DailyDecisions, ("day",)),
}
# The in-memory count reads cases a page at a time; a tally counts at most this many.
CASE_PAGE: Final = 1_000
MAX_CASES_COUNTED: Final = 10_000_000


@dataclass(frozen=True)
class StoredRiskTables:
    """:class:`hongbao.risk.ports.RiskTables` on SQL or in memory."""

    profiles: RecordTable[RiskProfile]
    locks: RecordTable[DeviceLock]
    cases: RecordTable[RiskCase]
    flags: RecordTable[RiskFlag]
    behaviour: RecordTable[BehaviourState]
    graph_nodes: RecordTable[GraphNode]
    components: RecordTable[Component]
    pairs: RecordTable[Pair]
    applied: RecordTable[AppliedEvent]
    daily: RecordTable[DailyDecisions]
    # Where writers run one at a time (SQLite, the in-memory store) the analysis's turn is
    # already theirs; PostgreSQL takes a transaction-scoped advisory lock.
    dialect: SqlDialect | None = None

    def read_profile(self, user_id: str) -> Callable[[], RiskProfile | None]:
        found = self.profiles.read_many([(user_id,)])
        return lambda: found().get((user_id,))

    def read_flags(self, user_id: str) -> Callable[[], list[RiskFlag]]:
        found = self.flags.read_many([(user_id, detector.value) for detector in DETECTORS])
        return lambda: list(found().values())

    def read_lock(self, device_id: str, sim_id: str) -> Callable[[], DeviceLock | None]:
        found = self.locks.read_many([(device_id, sim_id)])
        return lambda: found().get((device_id, sim_id))

    def cases_in(self, state: str, *, limit: int) -> list[RiskCase]:
        return self.cases.where("state", state, limit=limit, order_by="opened_at_us")

    def nodes_in(self, component_id: str, *, limit: int) -> list[GraphNode]:
        return self.graph_nodes.where("component", component_id, limit=limit)

    def take_analysis_turn(self) -> None:
        if self.dialect is None or self.dialect.name != "postgresql":
            return
        self.dialect.cursor().execute(
            self.dialect.sql("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"),
            ["risk-analysis"],
        )

    def case_tally(self, since_us: int) -> CaseTally:
        if self.dialect is None:
            return _tally(self._cases_since(since_us))
        cursor = self.dialect.cursor()
        # One row per state and decider: a handful of operators, and the release time.
        cursor.execute(
            self.dialect.sql(
                "SELECT state, decided_by, count(*) FROM risk_cases"
                " WHERE opened_at_us >= %s GROUP BY state, decided_by"
            ),
            [since_us],
        )
        counts: dict[tuple[str, bool], int] = {}
        for state, decided_by, count in cursor.fetchall():
            key = (str(state), decided_by == RELEASE_TIME)
            counts[key] = counts.get(key, 0) + int(count)
        return _tally_counts(counts)

    def _cases_since(self, since_us: int) -> list[RiskCase]:
        found: list[RiskCase] = []
        after: tuple[Any, ...] | None = None
        for _ in range(MAX_CASES_COUNTED // CASE_PAGE):
            page = self.cases.page(after, limit=CASE_PAGE)
            found += [case for case in page if case.opened_at_us >= since_us]
            if len(page) < CASE_PAGE:
                break
            after = (page[-1].id,)
        return found


def _tally(cases: list[RiskCase]) -> CaseTally:
    counts: dict[tuple[str, bool], int] = {}
    for case in cases:
        key = (case.state.value, case.decided_by == RELEASE_TIME)
        counts[key] = counts.get(key, 0) + 1
    return _tally_counts(counts)


def _tally_counts(counts: dict[tuple[str, bool], int]) -> CaseTally:
    def of(state: CaseState, *, by_release_time: bool | None = None) -> int:
        return sum(
            count
            for (name, at_release), count in counts.items()
            if name == state.value and by_release_time in {None, at_release}
        )

    return CaseTally(
        open=of(CaseState.OPEN),
        confirmed=of(CaseState.CONFIRMED) + of(CaseState.BLOCKED),
        released_by_reviewer=of(CaseState.RELEASED, by_release_time=False),
        released_at_release_time=of(CaseState.RELEASED, by_release_time=True),
        unlocked=of(CaseState.UNLOCKED),
    )


def sql_risk_tables(dialect: SqlDialect) -> StoredRiskTables:
    return StoredRiskTables(
        **{
            name: SqlRecordTable(dialect, table, cls, key)
            for name, (table, cls, key) in TABLES.items()
        },
        dialect=dialect,
    )


def in_memory_risk_tables(store: dict[str, dict[tuple[Any, ...], Any]]) -> StoredRiskTables:
    """Tables over ``store`` (one dict per table), which the caller copies per transaction."""
    tables: dict[str, Any] = {
        name: InMemoryRecordTable(store.setdefault(f"risk_{name}", {}), cls, key)
        for name, (_table, cls, key) in TABLES.items()
    }
    return StoredRiskTables(**tables)
