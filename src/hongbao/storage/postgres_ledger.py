"""PostgreSQL's own way to write a ledger unit of work: one statement, whatever its size.

Every row a unit writes travels in a single statement of data-modifying CTEs, one JSON
parameter per table, instead of one statement per row. The statement ends by asserting, inside
the database, that every conditional update hit the rows it expected; if not,
``hongbao_assert`` aborts the transaction and nothing commits. That lets the COMMIT travel in
the same round trip as the writes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from hongbao.ledger.engine import Changes
from hongbao.storage.sql_ledger import (
    PENDING_COLUMNS,
    POSTING_COLUMNS,
    REJECTION_COLUMNS,
    TRANSFER_COLUMNS,
    SqlLedgerRepository,
    pending_to_row,
    posting_to_row,
    transfer_to_row,
)

# SQLSTATE raised by hongbao_assert() (see the first migration).
INVARIANT_SQLSTATE = "HB001"

# Rows travel as JSON arrays of objects: one text parameter per table, encoded by the C json
# module, decoded by the server into the table's own row type.
WRITE_STATEMENT = re.sub(
    r"\s+",
    " ",
    """
WITH new_transfers AS (
    INSERT INTO ledger_transfers SELECT * FROM json_populate_recordset(NULL::ledger_transfers, %s)
), new_pending AS (
    INSERT INTO ledger_pending SELECT * FROM json_populate_recordset(NULL::ledger_pending, %s)
), new_postings AS (
    INSERT INTO ledger_postings SELECT * FROM json_populate_recordset(NULL::ledger_postings, %s)
), new_rejections AS (
    INSERT INTO ledger_rejections
    SELECT * FROM json_populate_recordset(NULL::ledger_rejections, %s)
), closed AS (
    UPDATE ledger_pending AS p
    SET state = c.state, resolved_by = c.resolved_by, resolved_at_us = c.resolved_at_us
    FROM json_populate_recordset(NULL::ledger_pending, %s) AS c
    WHERE p.transfer_id = c.transfer_id AND p.state = 'pending'
    RETURNING 1
), updated AS (
    UPDATE ledger_accounts AS a
    SET debits_pending = u.debits_pending, debits_posted = u.debits_posted,
        credits_pending = u.credits_pending, credits_posted = u.credits_posted,
        journal_sequence = u.journal_sequence, journal_head = u.journal_head
    FROM json_to_recordset(%s) AS u(id text, debits_pending bigint, debits_posted bigint,
        credits_pending bigint, credits_posted bigint, journal_sequence bigint,
        journal_head text, previous_sequence bigint)
    WHERE a.id = u.id AND a.journal_sequence = u.previous_sequence
    RETURNING 1
)
SELECT hongbao_assert(
    (SELECT count(*) FROM closed) = %s AND (SELECT count(*) FROM updated) = %s,
    'a pending transfer or an account changed outside its lock'
)
""",
).strip()


def _names(columns: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in columns.split(","))


def _records(names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    return json.dumps([dict(zip(names, row, strict=True)) for row in rows])


ACCOUNT_UPDATE_NAMES = _names(
    "id, debits_pending, debits_posted, credits_pending, credits_posted, journal_sequence, "
    "journal_head, previous_sequence"
)
CLOSE_NAMES = _names("transfer_id, state, resolved_by, resolved_at_us")
TRANSFER_NAMES = _names(TRANSFER_COLUMNS)
PENDING_NAMES = _names(PENDING_COLUMNS)
POSTING_NAMES = _names(POSTING_COLUMNS)
REJECTION_NAMES = _names(REJECTION_COLUMNS)


class PostgresLedgerRepository(SqlLedgerRepository):
    def save(self, changes: Changes) -> None:
        postings_per_account = Counter(posting.account_id for posting in changes.postings)
        closed = [
            (r.transfer_id, r.state.value, r.resolved_by, r.resolved_at_us)
            for r in changes.pending_updated.values()
        ]
        accounts = [
            (
                a.id,
                a.debits_pending,
                a.debits_posted,
                a.credits_pending,
                a.credits_posted,
                a.journal_sequence,
                a.journal_head,
                a.journal_sequence - postings_per_account[a.id],  # before this unit
            )
            for a in changes.accounts.values()
        ]
        parameters = [
            _records(TRANSFER_NAMES, [transfer_to_row(t) for t in changes.transfers]),
            _records(PENDING_NAMES, [pending_to_row(p) for p in changes.pending_created.values()]),
            _records(POSTING_NAMES, [posting_to_row(p) for p in changes.postings]),
            _records(
                REJECTION_NAMES,
                [(r.id, r.request_digest, r.result, r.timestamp_us) for r in changes.rejections],
            ),
            _records(CLOSE_NAMES, closed),
            _records(ACCOUNT_UPDATE_NAMES, accounts),
            len(closed),
            len(accounts),
        ]
        # No fetch: the result (or the assertion's error) arrives with the COMMIT's sync.
        self.dialect.cursor().execute(WRITE_STATEMENT, parameters)
