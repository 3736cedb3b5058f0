"""What the social context asks storage for: its tables, read by name, and the unit of work its
services run in (with identity's, since a member or a relationship names registered users)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Protocol, TypeAlias

from hongbao.identity.ports import IdentityRepository
from hongbao.platform.records import RecordTable
from hongbao.platform.unit_of_work import Database as DatabasePort
from hongbao.social.consequences import (
    AppliedEvent,
    GroupStanding,
    PairWeight,
    RecallCount,
    ScoreState,
    SocialChange,
)
from hongbao.social.groups import Group, GroupMember, Relationship


class SocialTables(Protocol):
    @property
    def groups(self) -> RecordTable[Group]: ...

    @property
    def members(self) -> RecordTable[GroupMember]: ...

    @property
    def relationships(self) -> RecordTable[Relationship]: ...

    def members_of(self, group_id: str, *, limit: int) -> list[GroupMember]: ...

    def memberships_of(self, user_id: str, *, limit: int) -> list[GroupMember]: ...

    def read_memberships_of(
        self, user_ids: Collection[str], *, limit: int
    ) -> Callable[[], list[GroupMember]]:
        """The memberships of ``user_ids``, sent now, read later; more than ``limit`` is
        refused, never cut short."""
        ...

    def relationships_from(self, user_id: str, *, limit: int) -> list[Relationship]: ...

    # What recalls cost (R-S1..R-S6), kept by the social consumer.

    @property
    def applied_events(self) -> RecordTable[AppliedEvent]: ...

    @property
    def recall_counts(self) -> RecordTable[RecallCount]: ...

    @property
    def scores(self) -> RecordTable[ScoreState]: ...

    @property
    def group_standings(self) -> RecordTable[GroupStanding]: ...

    @property
    def pair_weights(self) -> RecordTable[PairWeight]: ...

    @property
    def changes(self) -> RecordTable[SocialChange]: ...

    def changes_of(self, user_id: str, *, limit: int) -> list[SocialChange]:
        """``user_id``'s change log, newest first, at most ``limit``."""
        ...

    def standings_in_group(self, group_id: str, *, limit: int) -> list[GroupStanding]: ...

    def standings_of(self, user_id: str, *, limit: int) -> list[GroupStanding]:
        """``user_id``'s standings in every group they recalled in."""
        ...

    def weights_from(self, user_id: str, *, limit: int) -> list[PairWeight]:
        """``user_id``'s weights towards the people they recalled from."""
        ...


class UnitOfWork(Protocol):
    @property
    def identity(self) -> IdentityRepository: ...

    @property
    def social(self) -> SocialTables: ...


Database: TypeAlias = DatabasePort[UnitOfWork]
