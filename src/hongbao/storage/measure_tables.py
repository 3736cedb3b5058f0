"""The measures' counter rows on SQL and in memory, with the named reads the dashboard
aggregates: a packet's earlier decisions, recalls by day, guidance hints by age band."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final

from hongbao.identity.hints import HintSeen
from hongbao.identity.users import User
from hongbao.measures.counts import UNKNOWN_BAND, Count
from hongbao.platform.records import RecordTable
from hongbao.recall.records import DecisionRecord, Recall
from hongbao.risk.profile import MICROSECONDS_PER_DAY
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable
from hongbao.storage.sql_dialect import SqlDialect

KEY: Final = ("measure", "age_band", "platform", "device_model", "detail")
MAX_DECISIONS_READ: Final = 500
MAX_ROWS_SCANNED: Final = 1_000_000  # in memory only: a test store is never near it

HINTS_BY_BAND: Final = """
SELECT coalesce(u.age_band, 'unknown'), 'shown', count(*) FROM api_hints_seen h
  LEFT JOIN identity_users u ON u.id = h.user_id GROUP BY u.age_band
UNION ALL
SELECT coalesce(u.age_band, 'unknown'), 'dismissed', count(*) FROM api_hints_seen h
  LEFT JOIN identity_users u ON u.id = h.user_id
  WHERE h.dismissed_at_us IS NOT NULL GROUP BY u.age_band
UNION ALL
SELECT coalesce(u.age_band, 'unknown'), 'clicked', count(*) FROM api_hints_seen h
  LEFT JOIN identity_users u ON u.id = h.user_id
  WHERE h.clicked_at_us IS NOT NULL GROUP BY u.age_band
"""


@dataclass(frozen=True)
class StoredMeasureTables:
    """:class:`hongbao.measures.ports.MeasureTables` on SQL or in memory."""

    counts: RecordTable[Count]
    decisions: RecordTable[DecisionRecord]
    recalls: RecordTable[Recall]
    hints: RecordTable[HintSeen]
    users: RecordTable[User]
    dialect: SqlDialect | None = None

    def all_counts(self, *, limit: int) -> list[Count]:
        return self.counts.page(None, limit=limit)

    def decisions_before(
        self, packet_id: str, requester_id: str, decision_id: str, at_us: int, *, limit: int
    ) -> list[tuple[str, str]]:
        decisions = self.decisions.where(
            "packet_id", packet_id, limit=MAX_DECISIONS_READ, order_by="created_at_us"
        )
        earlier = [
            (d.purpose.value, d.result.value)
            for d in decisions
            if d.requester_id == requester_id
            and d.created_at_us <= at_us
            and d.decision_id != decision_id
        ]
        return earlier[-limit:]

    def recall_outcomes_by_day(self, since_us: int) -> list[tuple[int, str, int]]:
        if self.dialect is None:
            found = Counter(
                (recall.created_at_us // MICROSECONDS_PER_DAY, recall.state.value)
                for recall in self.recalls.page(None, limit=MAX_ROWS_SCANNED)
                if recall.created_at_us >= since_us
            )
            return [(day, state, count) for (day, state), count in sorted(found.items())]
        cursor = self.dialect.cursor()
        cursor.execute(
            self.dialect.sql(
                "SELECT day, state, count(*) FROM (SELECT created_at_us / %s AS day, state"
                " FROM recalls WHERE created_at_us >= %s) q GROUP BY day, state"
            ),
            [MICROSECONDS_PER_DAY, since_us],
        )
        return [(int(day), str(state), int(count)) for day, state, count in cursor.fetchall()]

    def hints_seen(self, user_id: str, hints: Collection[str]) -> list[HintSeen]:
        found = self.hints.get_many([(user_id, hint) for hint in hints])
        return [found[key] for key in sorted(found)]

    def hints_by_band(self) -> list[tuple[str, str, int]]:
        if self.dialect is None:
            found: Counter[tuple[str, str]] = Counter()
            for seen in self.hints.page(None, limit=MAX_ROWS_SCANNED):
                user = self.users.get(seen.user_id)
                band = user.age_band.value if user and user.age_band else UNKNOWN_BAND
                found[(band, "shown")] += 1
                if seen.dismissed_at_us is not None:
                    found[(band, "dismissed")] += 1
                if seen.clicked_at_us is not None:
                    found[(band, "clicked")] += 1
            return [(band, event, count) for (band, event), count in sorted(found.items())]
        cursor = self.dialect.cursor()
        cursor.execute(self.dialect.sql(HINTS_BY_BAND), [])
        return [(str(band), str(event), int(count)) for band, event, count in cursor.fetchall()]


def sql_measure_tables(dialect: SqlDialect) -> StoredMeasureTables:
    return StoredMeasureTables(
        counts=SqlRecordTable(dialect, "measure_counts", Count, KEY),
        decisions=SqlRecordTable(dialect, "recall_decisions", DecisionRecord, ("decision_id",)),
        recalls=SqlRecordTable(dialect, "recalls", Recall, ("idempotency_key",)),
        hints=SqlRecordTable(dialect, "api_hints_seen", HintSeen, ("user_id", "hint")),
        users=SqlRecordTable(dialect, "identity_users", User, ("id",)),
        dialect=dialect,
    )


def in_memory_measure_tables(store: dict[str, dict[tuple[Any, ...], Any]]) -> StoredMeasureTables:
    return StoredMeasureTables(
        counts=InMemoryRecordTable(store.setdefault("measure_counts", {}), Count, KEY),
        decisions=InMemoryRecordTable(
            store.setdefault("recall_decisions", {}), DecisionRecord, ("decision_id",)
        ),
        recalls=InMemoryRecordTable(store.setdefault("recalls", {}), Recall, ("idempotency_key",)),
        hints=InMemoryRecordTable(
            store.setdefault("api_hints_seen", {}), HintSeen, ("user_id", "hint")
        ),
        users=InMemoryRecordTable(store.setdefault("users", {}), User, ("id",)),
    )
