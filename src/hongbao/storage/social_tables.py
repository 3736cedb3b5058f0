"""The social context's tables, on SQL and in memory, with their named reads."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from hongbao.platform.records import RecordTable
from hongbao.social.consequences import (
    AppliedEvent,
    GroupStanding,
    PairWeight,
    RecallCount,
    ScoreState,
    SocialChange,
)
from hongbao.social.groups import Group, GroupMember, Relationship
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable
from hongbao.storage.sql_dialect import SqlDialect

# attribute: (table, record class, key columns); the tables keep the names they were born with.
TABLES: dict[str, tuple[str, type[Any], tuple[str, ...]]] = {
    "groups": ("identity_groups", Group, ("id",)),
    "members": ("identity_group_members", GroupMember, ("group_id", "user_id", "joined_at_us")),
    "relationships": ("identity_relationships", Relationship, ("from_user_id", "to_user_id")),
    "applied_events": ("social_applied_events", AppliedEvent, ("event_id",)),
    "recall_counts": ("social_recall_counts", RecallCount, ("user_id", "period")),
    "scores": ("social_scores", ScoreState, ("user_id",)),
    "group_standings": ("social_group_standings", GroupStanding, ("group_id", "user_id")),
    "pair_weights": ("social_pair_weights", PairWeight, ("from_user_id", "to_user_id")),
    "changes": ("social_changes", SocialChange, ("user_id", "change_id")),
}


@dataclass(frozen=True)
class StoredSocialTables:
    """:class:`hongbao.social.ports.SocialTables` on SQL or in memory."""

    groups: RecordTable[Group]
    members: RecordTable[GroupMember]
    relationships: RecordTable[Relationship]
    applied_events: RecordTable[AppliedEvent]
    recall_counts: RecordTable[RecallCount]
    scores: RecordTable[ScoreState]
    group_standings: RecordTable[GroupStanding]
    pair_weights: RecordTable[PairWeight]
    changes: RecordTable[SocialChange]

    def members_of(self, group_id: str, *, limit: int) -> list[GroupMember]:
        return self.members.where("group_id", group_id, limit=limit)

    def memberships_of(self, user_id: str, *, limit: int) -> list[GroupMember]:
        return self.members.where("user_id", user_id, limit=limit)

    def read_memberships_of(
        self, user_ids: Collection[str], *, limit: int
    ) -> Callable[[], list[GroupMember]]:
        return self.members.read_find_in({"user_id": user_ids}, limit=limit)

    def relationships_from(self, user_id: str, *, limit: int) -> list[Relationship]:
        return self.relationships.where("from_user_id", user_id, limit=limit)

    def changes_of(self, user_id: str, *, limit: int) -> list[SocialChange]:
        return self.changes.where("user_id", user_id, limit=limit, order_by="newest_first")

    def standings_in_group(self, group_id: str, *, limit: int) -> list[GroupStanding]:
        return self.group_standings.where("group_id", group_id, limit=limit)

    def standings_of(self, user_id: str, *, limit: int) -> list[GroupStanding]:
        return self.group_standings.where("user_id", user_id, limit=limit)

    def weights_from(self, user_id: str, *, limit: int) -> list[PairWeight]:
        return self.pair_weights.where("from_user_id", user_id, limit=limit)


def sql_social_tables(dialect: SqlDialect) -> StoredSocialTables:
    return StoredSocialTables(
        **{
            name: SqlRecordTable(dialect, table, cls, key)
            for name, (table, cls, key) in TABLES.items()
        }
    )


def in_memory_social_tables(store: dict[str, dict[tuple[Any, ...], Any]]) -> StoredSocialTables:
    """Tables over ``store`` (one dict per table), which the caller copies per transaction."""
    return StoredSocialTables(
        **{
            name: InMemoryRecordTable(store.setdefault(name, {}), cls, key)
            for name, (_table, cls, key) in TABLES.items()
        }
    )
