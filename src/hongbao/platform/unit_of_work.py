"""Unit of work and database ports.

A unit of work is one database transaction exposing the repositories. ``Database.transact``
runs a function inside one, commits it, and retries the *whole* function when the database
reports a serialization failure, a deadlock or a lost race on a unique key: the function must
therefore do nothing outside the database that it could not safely do twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from hongbao.identity.ports import IdentityRepository
from hongbao.ledger.ports import LedgerRepository

if TYPE_CHECKING:
    from hongbao.platform.outbox import OutboxRepository
    from hongbao.platform.scheduler import DueWorkRepository
    from hongbao.storage.api_tables import ApiTables
    from hongbao.storage.distribution_tables import DistributionTables
    from hongbao.storage.packet_tables import PacketTables
    from hongbao.storage.recall_tables import RecallTables

Result = TypeVar("Result")


class UnitOfWork(Protocol):
    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def identity(self) -> IdentityRepository: ...

    @property
    def scheduler(self) -> DueWorkRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def packets(self) -> PacketTables: ...

    @property
    def recalls(self) -> RecallTables: ...

    @property
    def distribution(self) -> DistributionTables: ...

    @property
    def api(self) -> ApiTables: ...


class Database(Protocol):
    """A store that runs units of work. ``url`` says which store, without secrets."""

    @property
    def url(self) -> str: ...

    @property
    def dialect(self) -> str: ...

    def transact(self, work: Callable[[UnitOfWork], Result]) -> Result:
        """Run ``work`` in one write transaction, retrying transient conflicts."""
        ...

    def read(self, work: Callable[[UnitOfWork], Result]) -> Result:
        """Run ``work`` in one read-only transaction (a consistent snapshot where supported)."""
        ...

    def close(self) -> None: ...
