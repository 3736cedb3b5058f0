"""What risk control keeps: one profile per user, locked devices, and the review queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from hongbao.platform.records import RecordTable
from hongbao.risk.cases import DeviceLock, RiskCase
from hongbao.risk.profile import RiskProfile


class RiskTables(Protocol):
    @property
    def profiles(self) -> RecordTable[RiskProfile]: ...

    @property
    def locks(self) -> RecordTable[DeviceLock]: ...

    @property
    def cases(self) -> RecordTable[RiskCase]: ...

    def read_profile(self, user_id: str) -> Callable[[], RiskProfile | None]:
        """The user's profile, sent now, read later."""
        ...

    def read_lock(self, device_id: str, sim_id: str) -> Callable[[], DeviceLock | None]:
        """The device's lock, if it ever had one, sent now, read later."""
        ...

    def cases_in(self, state: str, *, limit: int) -> list[RiskCase]:
        """Cases in ``state``, oldest first; more than ``limit`` is cut to the oldest."""
        ...


class UnitOfWork(Protocol):
    @property
    def risk(self) -> RiskTables: ...
