"""The ledger repository in SQL, shared by the SQLite and PostgreSQL adapters.

Statements are written once with ``%s`` placeholders; a :class:`SqlDialect` adapts the few
places where the engines differ (placeholders, ``IN`` lists, row locks, streaming reads).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass

from hongbao.ledger.engine import Changes
from hongbao.ledger.model import (
    Account,
    AccountFlags,
    AccountKind,
    BalanceDelta,
    PendingRecord,
    PendingState,
    Posting,
    PostingEvent,
    Rejection,
    Transfer,
    TransferKind,
)
from hongbao.ledger.ports import LockedRows
from hongbao.platform.invariants import invariant
from hongbao.storage.sql_dialect import Cursor, Row, SqlDialect

ACCOUNT_COLUMNS = (
    "id, kind, currency, debits_must_not_exceed_credits, credits_must_not_exceed_debits, "
    "reference, created_at_us, debits_pending, debits_posted, credits_pending, credits_posted, "
    "journal_sequence, journal_head"
)
TRANSFER_COLUMNS = (
    "id, debit_account_id, credit_account_id, amount, currency, code, kind, pending_id, "
    "timeout_seconds, expires_at_us, reference, timestamp_us, digest"
)
PENDING_COLUMNS = (
    "transfer_id, debit_account_id, credit_account_id, amount, expires_at_us, state, "
    "resolved_by, resolved_at_us"
)
POSTING_COLUMNS = (
    "account_id, sequence, transfer_id, event, debits_pending, debits_posted, credits_pending, "
    "credits_posted, timestamp_us, transfer_digest, previous_hash, hash"
)
REJECTION_COLUMNS = "id, request_digest, result, timestamp_us"


def _placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def _prefixed(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{name.strip()}" for name in columns.split(","))


LOOKUP_COLUMNS = (
    f"{_prefixed('t', TRANSFER_COLUMNS)}, {_prefixed('r', REJECTION_COLUMNS)}, "
    f"{_prefixed('p', PENDING_COLUMNS)}"
)
LOOKUP_JOINS = (
    "LEFT JOIN ledger_transfers AS t ON t.id = ids.id "
    "LEFT JOIN ledger_rejections AS r ON r.id = ids.id "
    "LEFT JOIN ledger_pending AS p ON p.transfer_id = ids.id"
)


def _insert(table: str, columns: str) -> str:
    return f"INSERT INTO {table} ({columns}) VALUES ({_placeholders(columns.count(',') + 1)})"


@dataclass
class SqlLedgerRepository:
    dialect: SqlDialect

    def _send_select(
        self, columns: str, table: str, key: str, ids: Collection[str], suffix: str = ""
    ) -> Cursor | None:
        """Send a select by key; fetch its rows later (after the pipeline's sync)."""
        if not ids:
            return None
        condition, parameters = self.dialect.in_list(key, sorted(ids))
        cursor = self.dialect.cursor()
        statement = f"SELECT {columns} FROM {table} WHERE {condition}{suffix}"
        cursor.execute(self.dialect.sql(statement), parameters)
        return cursor

    def _select(self, columns: str, table: str, key: str, ids: Collection[str]) -> list[Row]:
        cursor = self._send_select(columns, table, key, ids)
        return cursor.fetchall() if cursor is not None else []

    def get_accounts(self, ids: Collection[str]) -> dict[str, Account]:
        rows = self._select(ACCOUNT_COLUMNS, "ledger_accounts", "id", ids)
        return {row[0]: account_from_row(row) for row in rows}

    def read_accounts(self, ids: Collection[str]) -> Callable[[], dict[str, Account]]:
        cursor = self._send_select(ACCOUNT_COLUMNS, "ledger_accounts", "id", ids)
        if cursor is None:
            return dict
        return lambda: {row[0]: account_from_row(row) for row in cursor.fetchall()}

    def lock_accounts(self, ids: Collection[str]) -> dict[str, Account]:
        cursor = self._send_lock(ids)
        rows = cursor.fetchall() if cursor is not None else []
        return {row[0]: account_from_row(row) for row in rows}

    def _send_lock(self, ids: Collection[str]) -> Cursor | None:
        suffix = f" ORDER BY id{self.dialect.lock_clause}"
        return self._send_select(ACCOUNT_COLUMNS, "ledger_accounts", "id", ids, suffix)

    def lock_and_load(
        self,
        account_ids: Collection[str],
        transfer_ids: Collection[str],
        rejection_ids: Collection[str],
        pending_ids: Collection[str],
    ) -> LockedRows:
        # Both are sent before either is fetched: on a pipelined connection that is one round
        # trip, and the server still runs the lookup only after the locks are granted.
        locked = self._send_lock(account_ids)
        looked_up = self._send_lookup(set(transfer_ids) | set(rejection_ids) | set(pending_ids))
        accounts = locked.fetchall() if locked is not None else []
        rows = looked_up.fetchall() if looked_up is not None else []
        transfers: dict[str, Transfer] = {}
        rejections: dict[str, Rejection] = {}
        pending: dict[str, PendingRecord] = {}
        for row in rows:
            identifier = row[0]
            if row[1] is not None and identifier in transfer_ids:
                transfers[identifier] = transfer_from_row(row[1:14])
            if row[14] is not None and identifier in rejection_ids:
                rejections[identifier] = Rejection(*row[14:18])
            if row[18] is not None and identifier in pending_ids:
                pending[identifier] = pending_from_row(row[18:26])
        return LockedRows(
            accounts={row[0]: account_from_row(row) for row in accounts},
            transfers=transfers,
            rejections=rejections,
            pending=pending,
        )

    def _send_lookup(self, ids: Collection[str]) -> Cursor | None:
        """One query for an id's transfer, rejection and pending state, each possibly absent."""
        if not ids:
            return None
        table, parameters = self.dialect.id_table(sorted(ids))
        statement = f"SELECT ids.id, {LOOKUP_COLUMNS} FROM {table} {LOOKUP_JOINS}"
        cursor = self.dialect.cursor()
        cursor.execute(self.dialect.sql(statement), parameters)
        return cursor

    def insert_accounts(self, accounts: Sequence[Account]) -> None:
        if not accounts:
            return
        statement = _insert("ledger_accounts", ACCOUNT_COLUMNS)
        self.dialect.cursor().executemany(
            self.dialect.sql(statement), [account_to_row(account) for account in accounts]
        )

    def get_transfers(self, ids: Collection[str]) -> dict[str, Transfer]:
        rows = self._select(TRANSFER_COLUMNS, "ledger_transfers", "id", ids)
        return {row[0]: transfer_from_row(row) for row in rows}

    def get_rejections(self, ids: Collection[str]) -> dict[str, Rejection]:
        rows = self._select(REJECTION_COLUMNS, "ledger_rejections", "id", ids)
        return {row[0]: Rejection(*row) for row in rows}

    def get_pending(self, ids: Collection[str]) -> dict[str, PendingRecord]:
        rows = self._select(PENDING_COLUMNS, "ledger_pending", "transfer_id", ids)
        return {row[0]: pending_from_row(row) for row in rows}

    def due_pending(self, now_us: int, limit: int) -> list[PendingRecord]:
        statement = (
            f"SELECT {PENDING_COLUMNS} FROM ledger_pending WHERE state = 'pending' "
            "AND expires_at_us IS NOT NULL AND expires_at_us <= %s "
            "ORDER BY expires_at_us, transfer_id LIMIT %s"
        )
        cursor = self.dialect.cursor()
        cursor.execute(self.dialect.sql(statement), (now_us, limit))
        return [pending_from_row(row) for row in cursor.fetchall()]

    def save(self, changes: Changes) -> None:
        sql = self.dialect.sql
        cursor = self.dialect.cursor()
        if changes.transfers:
            cursor.executemany(
                sql(_insert("ledger_transfers", TRANSFER_COLUMNS)),
                [transfer_to_row(transfer) for transfer in changes.transfers],
            )
        if changes.pending_created:
            cursor.executemany(
                sql(_insert("ledger_pending", PENDING_COLUMNS)),
                [pending_to_row(record) for record in changes.pending_created.values()],
            )
        if changes.postings:
            cursor.executemany(
                sql(_insert("ledger_postings", POSTING_COLUMNS)),
                [posting_to_row(posting) for posting in changes.postings],
            )
        if changes.rejections:
            cursor.executemany(
                sql(_insert("ledger_rejections", REJECTION_COLUMNS)),
                [(r.id, r.request_digest, r.result, r.timestamp_us) for r in changes.rejections],
            )
        closed = self._send_close_pending(list(changes.pending_updated.values()))
        updated = self._send_account_updates(changes)
        # Conditional updates prove that nobody changed these rows since they were locked;
        # a broken lock would otherwise lose money silently.
        invariant(
            closed is None or closed.rowcount == len(changes.pending_updated),
            "a pending transfer is closed once, under its accounts' locks",
            expected=len(changes.pending_updated),
        )
        invariant(
            updated is None or updated.rowcount == len(changes.accounts),
            "an account changes only under its lock",
            expected=len(changes.accounts),
        )

    def _send_close_pending(self, records: list[PendingRecord]) -> Cursor | None:
        if not records:
            return None
        statement = (
            "UPDATE ledger_pending SET state = %s, resolved_by = %s, resolved_at_us = %s "
            "WHERE transfer_id = %s AND state = 'pending'"
        )
        cursor = self.dialect.cursor()
        cursor.executemany(
            self.dialect.sql(statement),
            [
                (record.state.value, record.resolved_by, record.resolved_at_us, record.transfer_id)
                for record in records
            ],
        )
        return cursor

    def _send_account_updates(self, changes: Changes) -> Cursor | None:
        if not changes.accounts:
            return None
        postings_per_account = Counter(posting.account_id for posting in changes.postings)
        statement = (
            "UPDATE ledger_accounts SET debits_pending = %s, debits_posted = %s, "
            "credits_pending = %s, credits_posted = %s, journal_sequence = %s, journal_head = %s "
            "WHERE id = %s AND journal_sequence = %s"
        )
        cursor = self.dialect.cursor()
        cursor.executemany(
            self.dialect.sql(statement),
            [
                (
                    account.debits_pending,
                    account.debits_posted,
                    account.credits_pending,
                    account.credits_posted,
                    account.journal_sequence,
                    account.journal_head,
                    account.id,
                    # The sequence before this unit of work.
                    account.journal_sequence - postings_per_account[account.id],
                )
                for account in changes.accounts.values()
            ],
        )
        return cursor

    def account_postings(self, account_id: str, limit: int) -> list[Posting]:
        statement = (
            f"SELECT {POSTING_COLUMNS} FROM ledger_postings WHERE account_id = %s "
            "ORDER BY sequence DESC LIMIT %s"
        )
        cursor = self.dialect.cursor()
        cursor.execute(self.dialect.sql(statement), (account_id, limit))
        return [posting_from_row(row) for row in cursor.fetchall()]

    def iter_accounts(self) -> Iterator[Account]:
        for row in self.dialect.stream(
            f"SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts ORDER BY id"
        ):
            yield account_from_row(row)

    def iter_transfers(self) -> Iterator[Transfer]:
        statement = f"SELECT {TRANSFER_COLUMNS} FROM ledger_transfers ORDER BY timestamp_us, id"
        for row in self.dialect.stream(statement):
            yield transfer_from_row(row)

    def iter_pending(self) -> Iterator[PendingRecord]:
        statement = f"SELECT {PENDING_COLUMNS} FROM ledger_pending ORDER BY transfer_id"
        for row in self.dialect.stream(statement):
            yield pending_from_row(row)

    def iter_postings(self) -> Iterator[Posting]:
        statement = f"SELECT {POSTING_COLUMNS} FROM ledger_postings ORDER BY account_id, sequence"
        for row in self.dialect.stream(statement):
            yield posting_from_row(row)


# ------------------------------------------------------------------------------- row mapping


def account_from_row(row: Row) -> Account:
    return Account(
        id=row[0],
        kind=AccountKind(row[1]),
        currency=row[2],
        flags=AccountFlags(bool(row[3]), bool(row[4])),
        reference=row[5],
        created_at_us=row[6],
        debits_pending=row[7],
        debits_posted=row[8],
        credits_pending=row[9],
        credits_posted=row[10],
        journal_sequence=row[11],
        journal_head=row[12],
    )


def account_to_row(account: Account) -> Row:
    return (
        account.id,
        account.kind.value,
        account.currency,
        account.flags.debits_must_not_exceed_credits,
        account.flags.credits_must_not_exceed_debits,
        account.reference,
        account.created_at_us,
        account.debits_pending,
        account.debits_posted,
        account.credits_pending,
        account.credits_posted,
        account.journal_sequence,
        account.journal_head,
    )


def transfer_from_row(row: Row) -> Transfer:
    return Transfer(
        id=row[0],
        debit_account_id=row[1],
        credit_account_id=row[2],
        amount=row[3],
        currency=row[4],
        code=row[5],
        kind=TransferKind(row[6]),
        pending_id=row[7],
        timeout_seconds=row[8],
        expires_at_us=row[9],
        reference=row[10],
        timestamp_us=row[11],
        digest=row[12],
    )


def transfer_to_row(transfer: Transfer) -> Row:
    return (
        transfer.id,
        transfer.debit_account_id,
        transfer.credit_account_id,
        transfer.amount,
        transfer.currency,
        transfer.code,
        transfer.kind.value,
        transfer.pending_id,
        transfer.timeout_seconds,
        transfer.expires_at_us,
        transfer.reference,
        transfer.timestamp_us,
        transfer.digest,
    )


def pending_from_row(row: Row) -> PendingRecord:
    return PendingRecord(
        transfer_id=row[0],
        debit_account_id=row[1],
        credit_account_id=row[2],
        amount=row[3],
        expires_at_us=row[4],
        state=PendingState(row[5]),
        resolved_by=row[6],
        resolved_at_us=row[7],
    )


def pending_to_row(record: PendingRecord) -> Row:
    return (
        record.transfer_id,
        record.debit_account_id,
        record.credit_account_id,
        record.amount,
        record.expires_at_us,
        record.state.value,
        record.resolved_by,
        record.resolved_at_us,
    )


def posting_from_row(row: Row) -> Posting:
    return Posting(
        account_id=row[0],
        sequence=row[1],
        transfer_id=row[2],
        event=PostingEvent(row[3]),
        delta=BalanceDelta(row[4], row[5], row[6], row[7]),
        timestamp_us=row[8],
        transfer_digest=row[9],
        previous_hash=row[10],
        hash=row[11],
    )


def posting_to_row(posting: Posting) -> Row:
    delta = posting.delta
    return (
        posting.account_id,
        posting.sequence,
        posting.transfer_id,
        posting.event.value,
        delta.debits_pending,
        delta.debits_posted,
        delta.credits_pending,
        delta.credits_posted,
        posting.timestamp_us,
        posting.transfer_digest,
        posting.previous_hash,
        posting.hash,
    )
