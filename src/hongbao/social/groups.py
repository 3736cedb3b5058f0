"""Groups, their members, and relationships between two users (R-S3, R-S5, R-S6).

Membership is valid on the half-open period ``[joined_at_us, left_at_us)``; a member who has
not left has ``left_at_us = None``. Relationships are directed: ``Relationship(a, b)`` is what
user ``a``'s app knows about ``b`` (how often ``a`` chats with ``b``, how close ``a`` is to
``b``), which need not match ``Relationship(b, a)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from hongbao.identity.errors import IdentityCode
from hongbao.identity.users import (
    IdentityError,
    check_id,
    check_member,
    check_text,
    check_timestamp_us,
)
from hongbao.platform.clock import is_due

__all__ = [
    "DEFAULT_TOP_CHAT_THRESHOLD",
    "MAX_INTIMACY",
    "MAX_RELATIONSHIP_WEIGHT",
    "MORE_TOLERANT_GROUP_TYPES",
    "Group",
    "GroupMember",
    "GroupType",
    "Relationship",
    "find_relationship",
    "is_member_at",
    "is_top_chat_partner",
    "members_at",
]

MAX_INTIMACY: Final = 100
# The transfer-limit rule (R-S3) decides what a weight means in money; here it is only a
# bounded integer so that later arithmetic on it can never overflow or go negative.
MAX_RELATIONSHIP_WEIGHT: Final = 1_000_000
# "A close relationship" in R-S5 is one of the top ten chat partners.
DEFAULT_TOP_CHAT_THRESHOLD: Final = 10


class GroupType(StrEnum):
    WORK = "work"
    EDUCATION = "education"
    ENTERTAINMENT = "entertainment"
    FAMILY = "family"
    OTHER = "other"


MORE_TOLERANT_GROUP_TYPES: Final = frozenset({GroupType.WORK, GroupType.EDUCATION})
"""Group types that tolerate more recalls than entertainment groups (R-S6); by how much is
policy."""


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    name: str
    group_type: GroupType
    owner_user_id: str
    created_at_us: int

    def __post_init__(self) -> None:
        check_id(self.id, "group id")
        check_text(self.name, "group name")
        check_member(self.group_type, GroupType, "group type")
        check_id(self.owner_user_id, "owner user id")
        check_timestamp_us(self.created_at_us, "group creation time")


@dataclass(frozen=True, slots=True)
class GroupMember:
    """One membership of one user in one group, on ``[joined_at_us, left_at_us)``."""

    group_id: str
    user_id: str
    joined_at_us: int
    left_at_us: int | None = None

    def __post_init__(self) -> None:
        check_id(self.group_id, "group id")
        check_id(self.user_id, "user id")
        check_timestamp_us(self.joined_at_us, "join time")
        if self.left_at_us is not None:
            check_timestamp_us(self.left_at_us, "leave time")
            if self.left_at_us <= self.joined_at_us:
                raise IdentityError(
                    "A member must leave after joining (left_at_us > joined_at_us).",
                    code=IdentityCode.MEMBERSHIP_PERIOD_INVALID,
                    group_id=self.group_id,
                    user_id=self.user_id,
                )

    def is_member_at(self, now_us: int) -> bool:
        """True from the join time (included) until the leave time (excluded)."""
        return is_due(self.joined_at_us, now_us) and not is_due(self.left_at_us, now_us)


def is_member_at(members: Iterable[GroupMember], user_id: str, now_us: int) -> bool:
    """True when ``user_id`` is a member at ``now_us`` according to one group's ``members``.

    A user who left and joined again has two records; any one that covers ``now_us`` counts.
    """
    return user_id in members_at(members, now_us)


def members_at(members: Iterable[GroupMember], now_us: int) -> frozenset[str]:
    """The user ids that are members at ``now_us``, from the records of a single group.

    Records of several groups are refused: mixing them would answer "member of some group",
    which is never the question.
    """
    records = tuple(members)
    group_ids = {member.group_id for member in records}
    if len(group_ids) > 1:
        raise IdentityError(
            "Membership records of several groups were mixed; pass one group's members.",
            code=IdentityCode.MEMBERS_OF_SEVERAL_GROUPS,
            group_ids=sorted(group_ids),
        )
    return frozenset(member.user_id for member in records if member.is_member_at(now_us))


@dataclass(frozen=True, slots=True)
class Relationship:
    """What ``from_user_id`` knows about ``to_user_id``.

    ``chat_frequency_rank`` is 1 for the partner ``from_user_id`` chats with most, 2 for the
    next, and so on; ``None`` when they do not chat at all. ``intimacy`` is 0 to 100.
    ``weight`` feeds the transfer limit between the two (R-S3).
    """

    from_user_id: str
    to_user_id: str
    chat_frequency_rank: int | None
    intimacy: int
    weight: int

    def __post_init__(self) -> None:
        check_id(self.from_user_id, "from user id")
        check_id(self.to_user_id, "to user id")
        if self.from_user_id == self.to_user_id:
            raise IdentityError(
                "A relationship needs two different users.",
                code=IdentityCode.RELATIONSHIP_TO_SELF,
                user_id=self.from_user_id,
            )
        if self.chat_frequency_rank is not None:
            _check_range(
                self.chat_frequency_rank,
                "chat frequency rank",
                1,
                None,
                IdentityCode.RANK_OUT_OF_RANGE,
            )
        _check_range(self.intimacy, "intimacy", 0, MAX_INTIMACY, IdentityCode.INTIMACY_OUT_OF_RANGE)
        _check_range(
            self.weight,
            "relationship weight",
            0,
            MAX_RELATIONSHIP_WEIGHT,
            IdentityCode.WEIGHT_OUT_OF_RANGE,
        )

    def with_intimacy_lowered(self, points: int) -> Relationship:
        """A copy with intimacy lowered by ``points``, never below zero (R-S5)."""
        _check_range(
            points,
            "intimacy reduction",
            0,
            MAX_INTIMACY,
            IdentityCode.INTIMACY_REDUCTION_OUT_OF_RANGE,
        )
        return replace(self, intimacy=max(0, self.intimacy - points))


def is_top_chat_partner(
    relationship: Relationship, threshold: int = DEFAULT_TOP_CHAT_THRESHOLD
) -> bool:
    """True when the partner is among the ``threshold`` most frequent chat partners (R-S5)."""
    _check_range(threshold, "top chat threshold", 1, None, IdentityCode.THRESHOLD_OUT_OF_RANGE)
    rank = relationship.chat_frequency_rank
    return rank is not None and rank <= threshold


def find_relationship(
    relationships: Iterable[Relationship], from_user_id: str, to_user_id: str
) -> Relationship | None:
    """The relationship from ``from_user_id`` to ``to_user_id``, or ``None`` if unknown."""
    for relationship in relationships:
        if (relationship.from_user_id, relationship.to_user_id) == (from_user_id, to_user_id):
            return relationship
    return None


def _check_range(
    value: object, field: str, minimum: int, maximum: int | None, code: IdentityCode
) -> None:
    in_range = type(value) is int and value >= minimum and (maximum is None or value <= maximum)
    if not in_range:
        upper = "" if maximum is None else f" to {maximum}"
        raise IdentityError(
            f"{field} must be an integer from {minimum}{upper}, got {value!r}.",
            code=code,
            field=field,
        )
