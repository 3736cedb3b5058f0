"""What the ledger needs from storage. Adapters: in-memory (hongbao.testing), SQLite, PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from hongbao.ledger.engine import Changes
from hongbao.ledger.model import Account, PendingRecord, Posting, Rejection, Transfer
from hongbao.platform.unit_of_work import Database as DatabasePort


@dataclass(frozen=True)
class LockedRows:
    """What one unit of work needs to decide a batch, read after its accounts were locked."""

    accounts: dict[str, Account]
    transfers: dict[str, Transfer]
    rejections: dict[str, Rejection]
    pending: dict[str, PendingRecord]


class LedgerRepository(Protocol):
    def get_accounts(self, ids: Collection[str]) -> dict[str, Account]:
        """Read accounts without locking them."""
        ...

    def read_accounts(self, ids: Collection[str]) -> Callable[[], dict[str, Account]]:
        """``get_accounts`` sent now and read later: with a unit of work's other reads, after
        one round trip on a pipelined connection."""
        ...

    def lock_accounts(self, ids: Collection[str]) -> dict[str, Account]:
        """Read and lock accounts, in ascending id order so that no two units deadlock."""
        ...

    def insert_accounts(self, accounts: Sequence[Account]) -> None: ...

    def lock_and_load(
        self,
        account_ids: Collection[str],
        transfer_ids: Collection[str],
        rejection_ids: Collection[str],
        pending_ids: Collection[str],
    ) -> LockedRows:
        """Lock the accounts (ascending id order), then read the rest under those locks.

        Reading after locking matters: a concurrent retry of the same transfer id waits on the
        same account locks, so by the time it reads, the first attempt has committed.
        """
        ...

    def get_transfers(self, ids: Collection[str]) -> dict[str, Transfer]: ...

    def get_rejections(self, ids: Collection[str]) -> dict[str, Rejection]: ...

    def get_pending(self, ids: Collection[str]) -> dict[str, PendingRecord]: ...

    def due_pending(self, now_us: int, limit: int) -> list[PendingRecord]:
        """Open pending transfers whose timeout is at or before ``now_us``, oldest first."""
        ...

    def save(self, changes: Changes) -> None:
        """Write what the engine decided. Raises if an account moved under the caller's lock."""
        ...

    def account_postings(self, account_id: str, limit: int) -> list[Posting]:
        """The newest ``limit`` postings of one account, newest first."""
        ...

    def iter_accounts(self) -> Iterator[Account]: ...

    def iter_transfers(self) -> Iterator[Transfer]: ...

    def iter_pending(self) -> Iterator[PendingRecord]: ...

    def iter_postings(self) -> Iterator[Posting]:
        """Every posting ordered by account id, then sequence."""
        ...


class UnitOfWork(Protocol):
    """The ledger's tables, in one transaction."""

    @property
    def ledger(self) -> LedgerRepository: ...


Database: TypeAlias = DatabasePort[UnitOfWork]
