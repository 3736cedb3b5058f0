"""The social context as a service: groups, their members and relationships between users."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hongbao.identity.errors import IdentityCode
from hongbao.identity.service import MAX_LISTED, put_once, require_user, unknown
from hongbao.platform.clock import Clock
from hongbao.policy.store import PolicyStore
from hongbao.social.consequences import RecalledPacket
from hongbao.social.effects import preview_recall
from hongbao.social.groups import Group, GroupMember, Relationship, is_member_at
from hongbao.social.ports import Database, SocialTables, UnitOfWork
from hongbao.social.views import GroupSocial, SocialStanding, group_social, standing_of
from hongbao.social.words import RecallCost


@dataclass
class SocialService:
    database: Database
    clock: Clock
    policies: PolicyStore = field(default_factory=PolicyStore.fixed)

    def create_group(self, group: Group) -> Group:
        """Store the group; its owner is its first member from the moment it was created."""

        def work(uow: UnitOfWork) -> Group:
            require_user(uow.identity, group.owner_user_id)
            stored = put_once(uow.social.groups, group, (group.id,), "group")
            owner = GroupMember(group.id, group.owner_user_id, group.created_at_us)
            put_once(
                uow.social.members, owner, (group.id, owner.user_id, owner.joined_at_us), "member"
            )
            return stored

        return self.database.transact(work)

    def group(self, group_id: str) -> Group:
        found = self.database.read(lambda uow: uow.social.groups.get(group_id))
        if found is None:
            raise unknown(IdentityCode.UNKNOWN_GROUP, "group", group_id)
        return found

    def add_member(self, member: GroupMember) -> GroupMember:
        def work(uow: UnitOfWork) -> GroupMember:
            if uow.social.groups.get(member.group_id) is None:
                raise unknown(IdentityCode.UNKNOWN_GROUP, "group", member.group_id)
            require_user(uow.identity, member.user_id)
            key = (member.group_id, member.user_id, member.joined_at_us)
            return put_once(uow.social.members, member, key, "member")

        return self.database.transact(work)

    def members(self, group_id: str) -> list[GroupMember]:
        return self.database.read(lambda uow: uow.social.members_of(group_id, limit=MAX_LISTED))

    def set_relationship(self, relationship: Relationship) -> Relationship:
        def work(uow: UnitOfWork) -> Relationship:
            require_user(uow.identity, relationship.from_user_id)
            require_user(uow.identity, relationship.to_user_id)
            key = (relationship.from_user_id, relationship.to_user_id)
            if uow.social.relationships.lock(*key) is None:
                uow.social.relationships.insert(relationship)
            else:
                uow.social.relationships.replace(relationship)
            return relationship

        return self.database.transact(work)

    def relationships_of(self, user_id: str) -> list[Relationship]:
        return self.database.read(
            lambda uow: uow.social.relationships_from(user_id, limit=MAX_LISTED)
        )

    # ---------------------------------------------------- what recalls cost (R-S1..R-S6)

    def standing(self, user_id: str) -> SocialStanding:
        """``user_id``'s score, active penalties, bans and lowered pair weights now, with the
        newest changes and their causes."""
        policy, now_us = self.policies.active(), self.clock.now_us()

        def read(uow: UnitOfWork) -> SocialStanding:
            require_user(uow.identity, user_id)
            return standing_of(uow, user_id, policy, now_us)

        return self.database.read(read)

    def group_standing(self, group_id: str) -> GroupSocial:
        """The senders who recalled in ``group_id``, with their windows and bans (operators)."""
        policy = self.policies.active()

        def read(uow: UnitOfWork) -> GroupSocial:
            group = uow.social.groups.get(group_id)
            if group is None:
                raise unknown(IdentityCode.UNKNOWN_GROUP, "group", group_id)
            return group_social(uow, group, policy)

        return self.database.read(read)

    def recall_cost(self, recalled: RecalledPacket) -> RecallCost:
        """What recalling now would cost socially: the warning before a recall."""
        policy = self.policies.active()
        full_minor = policy.packets.limits("personal").max_total_minor
        return self.database.read(lambda uow: preview_recall(uow, recalled, policy, full_minor))


def read_membership(
    social: SocialTables, group_id: str, user_id: str, now_us: int
) -> Callable[[], bool]:
    """Whether ``user_id`` belongs to ``group_id`` at ``now_us``: the read sent now, answered
    by the returned function (so it travels with a caller's other reads)."""
    memberships = social.read_memberships_of([user_id], limit=MAX_LISTED)

    def answer() -> bool:
        stays = [member for member in memberships() if member.group_id == group_id]
        return is_member_at(stays, user_id, now_us)

    return answer


def read_group(social: SocialTables, group_id: str) -> Callable[[], Group | None]:
    """The group named, the read sent now and answered by the returned function."""
    found = social.groups.read_many([(group_id,)])
    return lambda: found().get((group_id,))


def is_group_member(social: SocialTables, group_id: str | None, user_id: str, now_us: int) -> bool:
    """Whether ``user_id`` belongs to ``group_id`` at ``now_us``, inside a caller's unit of work.

    Read through the user's memberships (few), not the group's (possibly thousands).
    """
    return group_id is not None and read_membership(social, group_id, user_id, now_us)()
