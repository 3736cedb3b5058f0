"""What the refunds context asks storage for: its refunds, by named reads, and the unit of work
its functions run in."""

from __future__ import annotations

from typing import Protocol, TypeAlias

from hongbao.distribution import ports as distribution
from hongbao.platform.outbox import OutboxRepository
from hongbao.platform.scheduler import DueWorkRepository
from hongbao.platform.unit_of_work import Database as DatabasePort
from hongbao.refunds.records import Refund, RefundState


class RefundRepository(Protocol):
    def insert(self, refund: Refund) -> None: ...

    def get(self, refund_id: str) -> Refund | None: ...

    def lock(self, refund_id: str) -> Refund | None:
        """Read a refund and hold its row until the unit of work ends."""
        ...

    def replace(self, refund: Refund) -> None:
        """Overwrite the stored refund with the same id; it must exist."""
        ...

    def page(self, after_id: str | None, *, limit: int) -> list[Refund]:
        """Up to ``limit`` refunds in id order, starting after ``after_id``."""
        ...

    def in_state(self, state: RefundState, *, limit: int) -> list[Refund]:
        """Up to ``limit`` refunds in ``state``, oldest first."""
        ...

    def of_owner(self, owner_id: str, *, limit: int) -> list[Refund]:
        """Up to ``limit`` of a sender's refunds, oldest first."""
        ...

    def of_packet(self, packet_id: str, *, limit: int) -> list[Refund]:
        """Up to ``limit`` refunds of one packet, in id order."""
        ...


class RefundedPackets(Protocol):
    """What refunds read of the packets they refund: checking a refund, its packet's
    remainder."""

    def remainder_of(self, packet_id: str) -> int | None:
        """What the packet left unclaimed, in minor units; None when there is no such packet."""
        ...


class UnitOfWork(distribution.UnitOfWork, Protocol):
    """The tables refunds are planned, settled and checked with, in one transaction: a refund
    may unwind through the budgets that funded it."""

    @property
    def packets(self) -> RefundedPackets: ...

    @property
    def scheduler(self) -> DueWorkRepository: ...

    @property
    def refunds(self) -> RefundRepository: ...

    # A refund's progress is an event on its packet's stream, written with the change.
    @property
    def outbox(self) -> OutboxRepository: ...


Database: TypeAlias = DatabasePort[UnitOfWork]
