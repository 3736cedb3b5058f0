"""Groups, membership over time, and directed relationships with validated ranges."""

from __future__ import annotations

from typing import Any

import pytest

from hongbao.identity.users import IdentityError
from hongbao.social.groups import (
    DEFAULT_TOP_CHAT_THRESHOLD,
    MAX_RELATIONSHIP_WEIGHT,
    MORE_TOLERANT_GROUP_TYPES,
    Group,
    GroupMember,
    GroupType,
    Relationship,
    find_relationship,
    is_member_at,
    is_top_chat_partner,
    members_at,
)

JOINED_US = 1_796_000_000_000_000
LEFT_US = JOINED_US + 1_000_000


def relationship(**changes: Any) -> Relationship:
    fields: dict[str, Any] = {
        "from_user_id": "alice",
        "to_user_id": "bob",
        "chat_frequency_rank": 3,
        "intimacy": 60,
        "weight": 100,
    }
    fields.update(changes)
    return Relationship(**fields)


def refused_code(**changes: Any) -> str:
    with pytest.raises(IdentityError) as refused:
        relationship(**changes)
    return refused.value.code


def test_a_group_keeps_its_type_and_owner() -> None:
    group = Group("grp-1", "三年二班家长群", GroupType.EDUCATION, "teacher-1", JOINED_US)
    assert (group.group_type.value, group.owner_user_id) == ("education", "teacher-1")


def test_a_group_type_must_be_a_group_type_member() -> None:
    with pytest.raises(IdentityError) as refused:
        Group("grp-1", "name", "work", "owner", JOINED_US)  # type: ignore[arg-type]
    assert refused.value.code == "identity.enum_invalid"


def test_work_and_education_groups_are_the_more_tolerant_ones() -> None:
    assert {GroupType.WORK, GroupType.EDUCATION} == MORE_TOLERANT_GROUP_TYPES


def test_membership_starts_at_the_join_time_and_ends_at_the_leave_time() -> None:
    members = [GroupMember("grp-1", "alice", JOINED_US, LEFT_US)]
    assert not is_member_at(members, "alice", JOINED_US - 1)
    assert is_member_at(members, "alice", JOINED_US)
    assert is_member_at(members, "alice", LEFT_US - 1)
    assert not is_member_at(members, "alice", LEFT_US)


def test_a_member_who_never_left_stays_a_member() -> None:
    members = [GroupMember("grp-1", "alice", JOINED_US)]
    assert is_member_at(members, "alice", 10**18)
    assert not is_member_at(members, "bob", JOINED_US)


def test_a_member_who_rejoined_is_a_member_during_either_period() -> None:
    members = [
        GroupMember("grp-1", "alice", JOINED_US, LEFT_US),
        GroupMember("grp-1", "alice", LEFT_US + 10),
    ]
    assert not is_member_at(members, "alice", LEFT_US + 5)
    assert is_member_at(members, "alice", LEFT_US + 10)


def test_members_at_lists_exactly_the_current_members() -> None:
    members = [
        GroupMember("grp-1", "alice", JOINED_US, LEFT_US),
        GroupMember("grp-1", "bob", JOINED_US + 5),
    ]
    assert members_at(members, JOINED_US) == {"alice"}
    assert members_at(members, JOINED_US + 5) == {"alice", "bob"}
    assert members_at(members, LEFT_US) == {"bob"}


def test_membership_records_of_several_groups_cannot_be_mixed() -> None:
    members = [GroupMember("grp-1", "alice", JOINED_US), GroupMember("grp-2", "bob", JOINED_US)]
    with pytest.raises(IdentityError) as refused:
        is_member_at(members, "alice", JOINED_US)
    assert refused.value.code == "identity.members_of_several_groups"


@pytest.mark.parametrize("left_at_us", [JOINED_US, JOINED_US - 1])
def test_a_member_must_leave_after_joining(left_at_us: int) -> None:
    with pytest.raises(IdentityError) as refused:
        GroupMember("grp-1", "alice", JOINED_US, left_at_us)
    assert refused.value.code == "identity.membership_period_invalid"


def test_a_relationship_is_directed() -> None:
    forward = relationship()
    backward = relationship(from_user_id="bob", to_user_id="alice", chat_frequency_rank=None)
    relationships = [forward, backward]
    assert find_relationship(relationships, "alice", "bob") is forward
    assert find_relationship(relationships, "bob", "alice") is backward
    assert find_relationship(relationships, "alice", "carol") is None


def test_a_relationship_needs_two_different_users() -> None:
    assert refused_code(to_user_id="alice") == "identity.relationship_to_self"


def test_the_ranges_include_their_bounds() -> None:
    assert relationship(intimacy=0).intimacy == 0
    assert relationship(intimacy=100).intimacy == 100
    assert relationship(chat_frequency_rank=1).chat_frequency_rank == 1
    assert relationship(chat_frequency_rank=None).chat_frequency_rank is None
    assert relationship(weight=0).weight == 0
    assert relationship(weight=MAX_RELATIONSHIP_WEIGHT).weight == MAX_RELATIONSHIP_WEIGHT


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"intimacy": -1}, "identity.intimacy_out_of_range"),
        ({"intimacy": 101}, "identity.intimacy_out_of_range"),
        ({"intimacy": 50.0}, "identity.intimacy_out_of_range"),
        ({"intimacy": True}, "identity.intimacy_out_of_range"),
        ({"chat_frequency_rank": 0}, "identity.rank_out_of_range"),
        ({"chat_frequency_rank": -3}, "identity.rank_out_of_range"),
        ({"weight": -1}, "identity.weight_out_of_range"),
        ({"weight": MAX_RELATIONSHIP_WEIGHT + 1}, "identity.weight_out_of_range"),
        ({"from_user_id": ""}, "identity.id_invalid"),
    ],
)
def test_out_of_range_values_are_refused_with_a_stable_code(
    changes: dict[str, Any], code: str
) -> None:
    assert refused_code(**changes) == code


def test_the_top_ten_chat_partners_are_close_by_default() -> None:
    assert DEFAULT_TOP_CHAT_THRESHOLD == 10
    assert is_top_chat_partner(relationship(chat_frequency_rank=1))
    assert is_top_chat_partner(relationship(chat_frequency_rank=10))
    assert not is_top_chat_partner(relationship(chat_frequency_rank=11))
    assert not is_top_chat_partner(relationship(chat_frequency_rank=None))


def test_the_top_chat_threshold_is_a_parameter() -> None:
    assert is_top_chat_partner(relationship(chat_frequency_rank=11), threshold=20)
    assert not is_top_chat_partner(relationship(chat_frequency_rank=3), threshold=2)
    with pytest.raises(IdentityError) as refused:
        is_top_chat_partner(relationship(), threshold=0)
    assert refused.value.code == "identity.threshold_out_of_range"


def test_lowering_intimacy_returns_a_copy_and_stops_at_zero() -> None:
    original = relationship(intimacy=10)
    assert original.with_intimacy_lowered(8).intimacy == 2
    assert original.with_intimacy_lowered(12).intimacy == 0
    assert original.intimacy == 10
    with pytest.raises(IdentityError) as refused:
        original.with_intimacy_lowered(-1)
    assert refused.value.code == "identity.intimacy_reduction_out_of_range"
