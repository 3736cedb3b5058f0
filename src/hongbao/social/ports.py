"""What the social context asks storage for: its tables, read by name, and the unit of work its
services run in (with identity's, since a member or a relationship names registered users)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Protocol, TypeAlias

from hongbao.identity.ports import IdentityRepository
from hongbao.platform.records import RecordTable
from hongbao.platform.unit_of_work import Database as DatabasePort
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


class UnitOfWork(Protocol):
    @property
    def identity(self) -> IdentityRepository: ...

    @property
    def social(self) -> SocialTables: ...


Database: TypeAlias = DatabasePort[UnitOfWork]
