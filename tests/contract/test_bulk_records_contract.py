"""Records in bulk on every adapter: read many by key, find by several values, insert and
replace many, and the reads sent now and read later, all agreeing with the one-row forms."""

from __future__ import annotations

import dataclasses

import pytest

from hongbao.identity.users import AccountTier, RealNameStatus, User, UserStatus, UserType
from hongbao.platform.errors import InvariantViolation, LimitExceeded
from hongbao.social.groups import Group, GroupMember, GroupType
from hongbao.storage.unit_of_work import Database, UnitOfWork
from tests.conftest import START_US

NAMES = ("ann", "ben", "cai", "dan", "eve")


def person(name: str) -> User:
    return User(
        name, name.title(), AccountTier.CLASS_I, UserType.NORMAL, START_US, RealNameStatus.VERIFIED
    )


def frozen(user: User, **changes: str) -> User:
    return dataclasses.replace(
        user, status=UserStatus.FROZEN, status_reason="reported stolen phone", **changes
    )


@pytest.fixture
def people(database: Database) -> Database:
    def fill(uow: UnitOfWork) -> None:
        uow.identity.users.insert_many([person(name) for name in NAMES])
        uow.social.groups.insert(Group("g-1", "One", GroupType.FAMILY, "ann", START_US))
        uow.social.groups.insert(Group("g-2", "Two", GroupType.FAMILY, "ann", START_US))
        uow.social.members.insert_many(
            [GroupMember(group, name, START_US) for group in ("g-1", "g-2") for name in NAMES]
        )

    database.transact(fill)
    return database


def test_many_inserted_at_once_read_back_one_by_one(people: Database) -> None:
    found = people.read(lambda uow: [uow.identity.users.get(name) for name in NAMES])
    assert found == [person(name) for name in NAMES]


def test_read_many_by_key_gives_the_stored_ones_and_skips_the_unknown(people: Database) -> None:
    keys = [("eve",), ("ann",), ("nobody",), ("ann",)]
    found = people.transact(lambda uow: uow.identity.users.get_many(keys, lock=True))
    assert found == {("ann",): person("ann"), ("eve",): person("eve")}
    existing = people.read(lambda uow: uow.identity.users.existing(keys))
    assert existing == {("ann",), ("eve",)}


def test_read_many_by_a_key_of_two_columns(people: Database) -> None:
    keys = [("g-2", "ben", START_US), ("g-1", "cai", START_US), ("g-1", "zed", START_US)]
    found = people.read(lambda uow: uow.social.members.get_many(keys))
    assert sorted(found) == [("g-1", "cai", START_US), ("g-2", "ben", START_US)]
    assert found[("g-2", "ben", START_US)] == GroupMember("g-2", "ben", START_US)


def test_find_in_takes_every_combination_in_key_order(people: Database) -> None:
    found = people.read(
        lambda uow: uow.social.members.find_in(
            {"user_id": ["dan", "ann"], "group_id": ["g-2"]}, limit=10
        )
    )
    assert [(m.group_id, m.user_id) for m in found] == [("g-2", "ann"), ("g-2", "dan")]


def test_find_in_refuses_more_rows_than_its_limit_instead_of_cutting_them(
    people: Database,
) -> None:
    with pytest.raises(LimitExceeded):
        people.read(lambda uow: uow.social.members.find_in({"user_id": ["ann"]}, limit=1))


def test_reads_sent_together_are_read_after_one_another(people: Database) -> None:
    def both(uow: UnitOfWork) -> tuple[object, object]:
        users = uow.identity.users.read_existing([("ben",), ("nobody",)])
        members = uow.social.members.read_find_in({"user_id": ["ben"]}, limit=10)
        return users(), [m.group_id for m in members()]

    assert people.read(both) == ({("ben",)}, ["g-1", "g-2"])


def test_replace_many_changes_only_the_named_columns(people: Database) -> None:
    def change(uow: UnitOfWork) -> None:
        renamed = [frozen(person(n), display_name="X") for n in ("ann", "cai")]
        uow.identity.users.replace_many(renamed, columns=("status", "status_reason"))

    people.transact(change)
    ann, cai, ben = people.read(
        lambda uow: [uow.identity.users.get(name) for name in ("ann", "cai", "ben")]
    )
    assert (ann.display_name, ann.status) == ("Ann", UserStatus.FROZEN)  # type: ignore[union-attr]
    assert cai.status is UserStatus.FROZEN  # type: ignore[union-attr]
    assert ben == person("ben")


def test_replacing_a_record_that_is_not_stored_fails_the_whole_unit(people: Database) -> None:
    def change(uow: UnitOfWork) -> None:
        uow.identity.users.replace_many([frozen(person(name)) for name in ("ann", "zed")])

    with pytest.raises(InvariantViolation):
        people.transact(change)
    assert people.read(lambda uow: uow.identity.users.get("ann")) == person("ann")
