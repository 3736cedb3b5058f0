"""What the identity context needs from storage: one record table per kind of record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from hongbao.identity.devices import Device
from hongbao.identity.exemptions import Exemption
from hongbao.identity.users import Enterprise, User, UserStatus
from hongbao.identity.verification import Challenge, IssuedSecret
from hongbao.platform.records import RecordTable
from hongbao.platform.unit_of_work import Database as DatabasePort


@dataclass(frozen=True, slots=True)
class DeviceOwner:
    """Which user a device id belongs to: one owner per device id, whatever its SIM."""

    device_id: str
    user_id: str


class IdentityRepository(Protocol):
    @property
    def users(self) -> RecordTable[User]: ...

    @property
    def enterprises(self) -> RecordTable[Enterprise]: ...

    @property
    def exemptions(self) -> RecordTable[Exemption]: ...

    @property
    def devices(self) -> RecordTable[Device]: ...

    @property
    def device_owners(self) -> RecordTable[DeviceOwner]: ...

    @property
    def challenges(self) -> RecordTable[Challenge]: ...

    @property
    def secrets(self) -> RecordTable[IssuedSecret]: ...

    # Named reads, so that no caller names a column.

    def group_exists(self, group_id: str) -> bool:
        """Whether a group (social's) is registered: an exemption may name one."""
        ...

    def users_in_status(self, status: UserStatus, *, limit: int) -> list[User]: ...

    def exemptions_of(self, subject_id: str, *, limit: int) -> list[Exemption]: ...

    def read_exemptions_of(self, subject_id: str, *, limit: int) -> Callable[[], list[Exemption]]:
        """``exemptions_of`` sent now, read later (with a caller's other reads)."""
        ...

    def devices_of(self, user_id: str, *, limit: int) -> list[Device]: ...


class UnitOfWork(Protocol):
    """Identity's tables."""

    @property
    def identity(self) -> IdentityRepository: ...


Database: TypeAlias = DatabasePort[UnitOfWork]
