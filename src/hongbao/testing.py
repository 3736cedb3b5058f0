"""Public fakes for tests: an in-memory database that honours the storage ports, and exchange
rates a test publishes itself.

``InMemoryDatabase`` runs each unit of work on a private copy of its tables and swaps it in on
commit, under one lock: transactions are serializable and a failed unit leaves nothing behind,
like the real adapters. It enforces the same uniqueness rules the SQL schema does.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hongbao.fx import ExchangeRate
from hongbao.ledger.engine import Changes
from hongbao.ledger.model import Account, PendingRecord, PendingState, Posting, Rejection, Transfer
from hongbao.ledger.ports import LockedRows
from hongbao.platform.clock import ManualClock, is_due
from hongbao.platform.errors import StorageCode, StorageError
from hongbao.platform.invariants import invariant
from hongbao.platform.unit_of_work import Result
from hongbao.storage.api_tables import in_memory_api_tables
from hongbao.storage.distribution_tables import in_memory_distribution_tables
from hongbao.storage.funding_tables import in_memory_funding_tables
from hongbao.storage.identity_tables import in_memory_identity_tables
from hongbao.storage.measure_tables import in_memory_measure_tables
from hongbao.storage.packet_tables import in_memory_packet_tables
from hongbao.storage.recall_tables import in_memory_recall_tables
from hongbao.storage.refund_tables import in_memory_refunds
from hongbao.storage.risk_tables import in_memory_risk_tables
from hongbao.storage.social_tables import in_memory_social_tables
from hongbao.storage.sql_outbox import InMemoryOutboxRepository
from hongbao.storage.sql_scheduler import InMemoryDueWorkRepository
from hongbao.storage.support_tables import in_memory_support_tables

__all__ = ["FixedRates", "InMemoryDatabase", "InMemoryLedgerRepository", "ManualClock"]


@dataclass
class _Tables:
    accounts: dict[str, Account] = field(default_factory=dict)
    transfers: dict[str, Transfer] = field(default_factory=dict)
    pending: dict[str, PendingRecord] = field(default_factory=dict)
    postings: dict[tuple[str, int], Posting] = field(default_factory=dict)
    rejections: dict[str, Rejection] = field(default_factory=dict)
    records: dict[str, dict[tuple[Any, ...], Any]] = field(default_factory=dict)

    def copy(self) -> _Tables:
        return _Tables(
            dict(self.accounts),
            dict(self.transfers),
            dict(self.pending),
            dict(self.postings),
            dict(self.rejections),
            {name: dict(rows) for name, rows in self.records.items()},
        )


class InMemoryLedgerRepository:
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def get_accounts(self, ids: Collection[str]) -> dict[str, Account]:
        return {i: self._tables.accounts[i] for i in ids if i in self._tables.accounts}

    def read_accounts(self, ids: Collection[str]) -> Callable[[], dict[str, Account]]:
        found = self.get_accounts(ids)
        return lambda: found

    def lock_accounts(self, ids: Collection[str]) -> dict[str, Account]:
        return self.get_accounts(sorted(ids))

    def insert_accounts(self, accounts: Sequence[Account]) -> None:
        for account in accounts:
            _insert_unique(self._tables.accounts, account.id, account)

    def lock_and_load(
        self,
        account_ids: Collection[str],
        transfer_ids: Collection[str],
        rejection_ids: Collection[str],
        pending_ids: Collection[str],
    ) -> LockedRows:
        return LockedRows(
            accounts=self.lock_accounts(account_ids),
            transfers=self.get_transfers(transfer_ids),
            rejections=self.get_rejections(rejection_ids),
            pending=self.get_pending(pending_ids),
        )

    def get_transfers(self, ids: Collection[str]) -> dict[str, Transfer]:
        return {i: self._tables.transfers[i] for i in ids if i in self._tables.transfers}

    def get_rejections(self, ids: Collection[str]) -> dict[str, Rejection]:
        return {i: self._tables.rejections[i] for i in ids if i in self._tables.rejections}

    def get_pending(self, ids: Collection[str]) -> dict[str, PendingRecord]:
        return {i: self._tables.pending[i] for i in ids if i in self._tables.pending}

    def due_pending(self, now_us: int, limit: int) -> list[PendingRecord]:
        due = [
            record
            for record in self._tables.pending.values()
            if record.state is PendingState.PENDING and is_due(record.expires_at_us, now_us)
        ]
        due.sort(key=lambda record: (record.expires_at_us or 0, record.transfer_id))
        return due[:limit]

    def save(self, changes: Changes) -> None:
        tables = self._tables
        postings_per_account = Counter(posting.account_id for posting in changes.postings)
        for account in changes.accounts.values():
            before = tables.accounts.get(account.id)
            invariant(
                before is not None
                and before.journal_sequence
                == account.journal_sequence - postings_per_account[account.id],
                "an account changes only under its lock",
                account_id=account.id,
            )
            tables.accounts[account.id] = account
        for transfer in changes.transfers:
            _insert_unique(tables.transfers, transfer.id, transfer)
        for posting in changes.postings:
            _insert_unique(tables.postings, (posting.account_id, posting.sequence), posting)
        for record in changes.pending_created.values():
            _insert_unique(tables.pending, record.transfer_id, record)
        for record in changes.pending_updated.values():
            invariant(record.transfer_id in tables.pending, "updated pending exists")
            tables.pending[record.transfer_id] = record
        for rejection in changes.rejections:
            _insert_unique(tables.rejections, rejection.id, rejection)

    def account_postings(self, account_id: str, limit: int) -> list[Posting]:
        rows = [p for (owner, _), p in self._tables.postings.items() if owner == account_id]
        rows.sort(key=lambda posting: posting.sequence, reverse=True)
        return rows[:limit]

    def iter_accounts(self) -> Iterator[Account]:
        return iter(list(self._tables.accounts.values()))

    def iter_transfers(self) -> Iterator[Transfer]:
        return iter(sorted(self._tables.transfers.values(), key=lambda t: t.timestamp_us))

    def iter_pending(self) -> Iterator[PendingRecord]:
        return iter(list(self._tables.pending.values()))

    def iter_postings(self) -> Iterator[Posting]:
        return iter([self._tables.postings[key] for key in sorted(self._tables.postings)])

    # Test helpers: reach under the ports, as an attacker or a bug would.
    def tamper_account(self, account: Account) -> None:
        self._tables.accounts[account.id] = account

    def tamper_transfer(self, transfer: Transfer) -> None:
        self._tables.transfers[transfer.id] = transfer


def _insert_unique(table: dict[Any, Any], key: object, value: object) -> None:
    if key in table:
        raise StorageError(f"duplicate key {key!r}", code=StorageCode.DUPLICATE_KEY)
    table[key] = value


class _InMemoryUnitOfWork:
    def __init__(self, tables: _Tables) -> None:
        self.ledger = InMemoryLedgerRepository(tables)
        self.identity = in_memory_identity_tables(tables.records)
        self.social = in_memory_social_tables(tables.records)
        self.risk = in_memory_risk_tables(tables.records)
        self.funding = in_memory_funding_tables(tables.records)
        self.scheduler = InMemoryDueWorkRepository(tables.records.setdefault("due_work", {}))
        self.outbox = InMemoryOutboxRepository(tables.records)
        self.packets = in_memory_packet_tables(tables.records)
        self.recalls = in_memory_recall_tables(tables.records)
        self.refunds = in_memory_refunds(tables.records)
        self.distribution = in_memory_distribution_tables(tables.records)
        self.api = in_memory_api_tables(tables.records)
        self.support = in_memory_support_tables(tables.records)
        self.measures = in_memory_measure_tables(tables.records)


class InMemoryDatabase:
    """A :class:`hongbao.storage.unit_of_work.Database` kept in process memory."""

    url = "memory://"
    dialect = "memory"

    def __init__(self) -> None:
        self._tables = _Tables()
        self._lock = threading.Lock()

    def transact(self, work: Callable[[_InMemoryUnitOfWork], Result]) -> Result:
        with self._lock:
            staged = self._tables.copy()
            result = work(_InMemoryUnitOfWork(staged))
            self._tables = staged
            return result

    def read(self, work: Callable[[_InMemoryUnitOfWork], Result]) -> Result:
        with self._lock:
            return work(_InMemoryUnitOfWork(self._tables.copy()))

    def close(self) -> None:
        """Nothing to release."""

    def tamper(self, work: Callable[[InMemoryLedgerRepository], None]) -> None:
        """Change stored rows behind the ledger's back (for tests of ``verify``)."""
        with self._lock:
            work(InMemoryLedgerRepository(self._tables))


class FixedRates:
    """A :class:`hongbao.fx.RateProvider` holding the rates a test publishes."""

    def __init__(self) -> None:
        self._rates: dict[tuple[str, str], ExchangeRate] = {}

    def publish(self, base: str, quote: str, rate: str, as_of_us: int) -> ExchangeRate:
        published = ExchangeRate(base, quote, Decimal(rate), as_of_us, "test rates")
        self._rates[(base, quote)] = published
        return published

    def latest(self, base: str, quote: str) -> ExchangeRate | None:
        return self._rates.get((base, quote))
