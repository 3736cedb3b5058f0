"""What the identity context needs from storage: one record table per kind of record."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from hongbao.identity.devices import Device
from hongbao.identity.exemptions import Exemption
from hongbao.identity.funding import FundingKind
from hongbao.identity.social import Group, GroupMember, Relationship
from hongbao.identity.users import Enterprise, User, UserStatus
from hongbao.identity.verification import Challenge, IssuedSecret
from hongbao.ledger.ports import LedgerRepository
from hongbao.platform.records import RecordTable
from hongbao.platform.unit_of_work import Database as DatabasePort


@dataclass(frozen=True, slots=True)
class StoredFunding:
    """A funding source as stored: the columns every kind shares, its own fields as JSON."""

    id: str
    user_id: str
    kind: FundingKind
    ledger_account_id: str
    currency: str
    details: str


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
    def groups(self) -> RecordTable[Group]: ...

    @property
    def members(self) -> RecordTable[GroupMember]: ...

    @property
    def relationships(self) -> RecordTable[Relationship]: ...

    @property
    def devices(self) -> RecordTable[Device]: ...

    @property
    def device_owners(self) -> RecordTable[DeviceOwner]: ...

    @property
    def funding(self) -> RecordTable[StoredFunding]: ...

    @property
    def challenges(self) -> RecordTable[Challenge]: ...

    @property
    def secrets(self) -> RecordTable[IssuedSecret]: ...

    # Named reads, so that no caller names a column.

    def users_in_status(self, status: UserStatus, *, limit: int) -> list[User]: ...

    def exemptions_of(self, subject_id: str, *, limit: int) -> list[Exemption]: ...

    def members_of(self, group_id: str, *, limit: int) -> list[GroupMember]: ...

    def memberships_of(self, user_id: str, *, limit: int) -> list[GroupMember]: ...

    def read_memberships_of(
        self, user_ids: Collection[str], *, limit: int
    ) -> Callable[[], list[GroupMember]]:
        """The memberships of ``user_ids``, sent now, read later; more than ``limit`` is
        refused, never cut short."""
        ...

    def relationships_from(self, user_id: str, *, limit: int) -> list[Relationship]: ...

    def devices_of(self, user_id: str, *, limit: int) -> list[Device]: ...

    def funding_of(self, user_id: str, *, limit: int) -> list[StoredFunding]: ...


class UnitOfWork(Protocol):
    """Identity's tables, and the ledger a funding source opens its account in."""

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def identity(self) -> IdentityRepository: ...


Database: TypeAlias = DatabasePort[UnitOfWork]
