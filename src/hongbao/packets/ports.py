"""What the packet context asks storage for: its tables, and the unit of work its services run
in."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeAlias

from hongbao.distribution.ports import DistributionTables
from hongbao.funding.ports import FundingTables
from hongbao.identity.ports import IdentityRepository
from hongbao.ledger.ports import LedgerRepository
from hongbao.platform.outbox import OutboxRepository
from hongbao.platform.records import RecordTable
from hongbao.platform.scheduler import DueWorkRepository
from hongbao.platform.unit_of_work import Database as DatabasePort
from hongbao.refunds.ports import RefundRepository
from hongbao.risk.ports import RiskTables
from hongbao.social.ports import SocialTables

if TYPE_CHECKING:
    # Types only: the modules that hold them name this unit of work in their own signatures.
    from hongbao.packets.authorization import CardAuthorization
    from hongbao.packets.guard import GuardDecision
    from hongbao.packets.history_roots import HistoryRoot
    from hongbao.packets.model import Packet, Share
    from hongbao.packets.regret import SendHabits

NextShares: TypeAlias = "dict[tuple[str, int], Share]"


class FreeShares(Protocol):
    def read_next(self, wanted: Mapping[str, int]) -> Callable[[], NextShares]:
        """Up to ``wanted[packet]`` of each packet's next free shares (from its claimed count
        on, as stored when the statement runs: sent after the packet's lock, they are the
        shares its claims will take), sent now, read later."""
        ...


class PacketTables(Protocol):
    @property
    def packets(self) -> RecordTable[Packet]: ...

    @property
    def shares(self) -> RecordTable[Share]: ...

    @property
    def authorizations(self) -> RecordTable[CardAuthorization]: ...

    @property
    def free_shares(self) -> FreeShares: ...

    @property
    def habits(self) -> RecordTable[SendHabits]: ...

    @property
    def guard_decisions(self) -> RecordTable[GuardDecision]: ...

    def count_habits(self, increments: Sequence[SendHabits]) -> None:
        """Add each row's sends, recalls and amount to the stored counters (a missing row
        starts at zero), without reading them first: concurrent sends never lose a count."""
        ...

    @property
    def history_roots(self) -> RecordTable[HistoryRoot]:
        """The daily roots over the packet chains' heads, by day."""
        ...

    def remainder_of(self, packet_id: str) -> int | None:
        """What the packet left unclaimed, in minor units; None when there is no such packet."""
        ...

    def shares_of(self, packet_id: str, *, limit: int) -> list[Share]:
        """A packet's shares in position order."""
        ...

    def read_shares_of(self, packet_id: str, *, limit: int) -> Callable[[], list[Share]]:
        """A packet's shares (in no order), sent now, read later."""
        ...

    def sent_by(self, user_id: str, *, limit: int) -> list[Packet]:
        """A sender's packets, oldest first."""
        ...

    def sent_to_group(self, group_id: str, *, limit: int) -> list[Packet]:
        """A group's packets, oldest first."""
        ...

    def claimed_by(self, user_id: str, *, limit: int) -> list[Share]:
        """The shares a user claimed, earliest claim first."""
        ...

    def read_claims(
        self, packet_ids: Collection[str], user_ids: Collection[str], *, limit: int
    ) -> Callable[[], list[Share]]:
        """The shares of ``packet_ids`` claimed by ``user_ids``, sent now, read later; more than
        ``limit`` is refused, never cut short."""
        ...


class UnitOfWork(Protocol):
    """The tables a send, a claim or a packet's scheduled work touches, in one transaction."""

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def identity(self) -> IdentityRepository: ...

    @property
    def funding(self) -> FundingTables: ...

    @property
    def social(self) -> SocialTables: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def scheduler(self) -> DueWorkRepository: ...

    @property
    def packets(self) -> PacketTables: ...

    @property
    def risk(self) -> RiskTables: ...

    # What refunding a packet's remainder (at expiry, on recall) writes in the same unit.
    @property
    def refunds(self) -> RefundRepository: ...

    @property
    def distribution(self) -> DistributionTables: ...


Database: TypeAlias = DatabasePort[UnitOfWork]
