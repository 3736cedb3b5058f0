"""The identity context's tables, on SQL and in memory: which record, which table, which key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hongbao.identity.devices import Device
from hongbao.identity.exemptions import Exemption
from hongbao.identity.ports import DeviceOwner
from hongbao.identity.users import Enterprise, User, UserStatus
from hongbao.identity.verification import Challenge, IssuedSecret
from hongbao.platform.records import RecordTable
from hongbao.storage.records import InMemoryRecordTable, SqlRecordTable
from hongbao.storage.social_tables import (
    StoredSocialTables,
    in_memory_social_tables,
    sql_social_tables,
)
from hongbao.storage.sql_dialect import SqlDialect

# attribute: (table, record class, key columns)
TABLES: dict[str, tuple[str, type[Any], tuple[str, ...]]] = {
    "users": ("identity_users", User, ("id",)),
    "enterprises": ("identity_enterprises", Enterprise, ("id",)),
    "exemptions": ("identity_exemptions", Exemption, ("id",)),
    "devices": ("identity_devices", Device, ("device_id", "sim_id")),
    "device_owners": ("identity_device_owners", DeviceOwner, ("device_id",)),
    "challenges": ("identity_challenges", Challenge, ("challenge_id",)),
    "secrets": ("identity_challenge_secrets", IssuedSecret, ("challenge_id",)),
}


@dataclass(frozen=True)
class IdentityTables:
    users: RecordTable[User]
    enterprises: RecordTable[Enterprise]
    exemptions: RecordTable[Exemption]
    devices: RecordTable[Device]
    device_owners: RecordTable[DeviceOwner]
    challenges: RecordTable[Challenge]
    secrets: RecordTable[IssuedSecret]
    social: StoredSocialTables  # read for the groups an exemption names

    def group_exists(self, group_id: str) -> bool:
        return bool(self.social.groups.existing([(group_id,)]))

    def users_in_status(self, status: UserStatus, *, limit: int) -> list[User]:
        return self.users.where("status", status, limit=limit)

    def exemptions_of(self, subject_id: str, *, limit: int) -> list[Exemption]:
        return self.exemptions.where("subject_id", subject_id, limit=limit)

    def read_exemptions_of(self, subject_id: str, *, limit: int) -> Callable[[], list[Exemption]]:
        return self.exemptions.read_find_in({"subject_id": [subject_id]}, limit=limit)

    def devices_of(self, user_id: str, *, limit: int) -> list[Device]:
        return self.devices.where("user_id", user_id, limit=limit)


def sql_identity_tables(dialect: SqlDialect) -> IdentityTables:
    return IdentityTables(
        social=sql_social_tables(dialect),
        **{
            name: SqlRecordTable(dialect, table, cls, key)
            for name, (table, cls, key) in TABLES.items()
        },
    )


def in_memory_identity_tables(store: dict[str, dict[tuple[Any, ...], Any]]) -> IdentityTables:
    """Tables over ``store`` (one dict per table), which the caller copies per transaction."""
    return IdentityTables(
        social=in_memory_social_tables(store),
        **{
            name: InMemoryRecordTable(store.setdefault(name, {}), cls, key)
            for name, (_table, cls, key) in TABLES.items()
        },
    )
