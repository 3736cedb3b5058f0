"""The ledger's invariants (R-M2), checked over everything stored.

``verify`` is pure: it reads rows from iterables and reports every violation it finds, so the
same code checks the in-memory fake in unit tests and a live PostgreSQL database from the
``hongbao ledger verify`` command.

Checks:
- ``currency_balance``: in every currency, debits equal credits (posted and pending alike), so
  the currency sums to zero across all accounts.
- ``account_flags``: no account total is negative and no account breaks its balance flags.
- ``pending_totals``: each account's pending totals equal the open pending transfers on it.
- ``transfer_digest``: each stored transfer still matches the digest it was written with.
- ``journal_chain``: each account's postings form an unbroken hash chain from the genesis hash
  to the head stored on the account; every hash recomputes.
- ``journal_postings``: the postings are exactly those the transfers imply (none missing, none
  extra, same amounts), and each account's postings add up to its balances.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from hongbao.ledger import hashing
from hongbao.ledger.model import (
    GENESIS_HASH,
    Account,
    BalanceDelta,
    PendingRecord,
    PendingState,
    Posting,
    PostingEvent,
    Transfer,
    TransferKind,
)

# How many violations one report lists; the count of all of them is always exact.
MAX_LISTED_VIOLATIONS = 200


@dataclass(frozen=True, slots=True)
class Violation:
    check: str
    subject: str
    detail: str


@dataclass
class CurrencyTotals:
    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0


@dataclass
class VerificationReport:
    accounts: int = 0
    transfers: int = 0
    postings: int = 0
    open_pending: int = 0
    currencies: dict[str, CurrencyTotals] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    violation_count: int = 0
    root_digest: str = ""

    @property
    def ok(self) -> bool:
        return self.violation_count == 0

    def add(self, check: str, subject: str, detail: str) -> None:
        self.violation_count += 1
        if len(self.violations) < MAX_LISTED_VIOLATIONS:
            self.violations.append(Violation(check, subject, detail))


PostingKey = tuple[str, str, PostingEvent]  # transfer id, account id, event


def verify(
    accounts: Iterable[Account],
    transfers: Iterable[Transfer],
    pending: Iterable[PendingRecord],
    postings: Iterable[Posting],
) -> VerificationReport:
    """Check every invariant. ``postings`` must come ordered by account id, then sequence."""
    report = VerificationReport()
    by_id = {account.id: account for account in accounts}
    report.accounts = len(by_id)
    _check_accounts(by_id.values(), report)
    expected = _expected_postings(transfers, pending, by_id, report)
    _check_journal(postings, by_id, expected, report)
    report.root_digest = hashlib.sha256(
        "".join(f"{key}={by_id[key].journal_head};" for key in sorted(by_id)).encode()
    ).hexdigest()
    return report


def _check_accounts(accounts: Iterable[Account], report: VerificationReport) -> None:
    for account in accounts:
        totals = report.currencies.setdefault(account.currency, CurrencyTotals())
        totals.debits_posted += account.debits_posted
        totals.credits_posted += account.credits_posted
        totals.debits_pending += account.debits_pending
        totals.credits_pending += account.credits_pending
        values = (
            account.debits_pending,
            account.debits_posted,
            account.credits_pending,
            account.credits_posted,
        )
        if min(values) < 0:
            report.add("account_flags", account.id, f"negative total in {values}")
        flags = account.flags
        if flags.debits_must_not_exceed_credits and (
            account.debits_pending + account.debits_posted > account.credits_posted
        ):
            report.add("account_flags", account.id, "debits exceed credits")
        if flags.credits_must_not_exceed_debits and (
            account.credits_pending + account.credits_posted > account.debits_posted
        ):
            report.add("account_flags", account.id, "credits exceed debits")
    for currency, totals in sorted(report.currencies.items()):
        if totals.debits_posted != totals.credits_posted:
            report.add(
                "currency_balance",
                currency,
                f"posted debits {totals.debits_posted} != credits {totals.credits_posted}",
            )
        if totals.debits_pending != totals.credits_pending:
            report.add(
                "currency_balance",
                currency,
                f"pending debits {totals.debits_pending} != credits {totals.credits_pending}",
            )


def _expected_postings(
    transfers: Iterable[Transfer],
    pending: Iterable[PendingRecord],
    accounts: dict[str, Account],
    report: VerificationReport,
) -> dict[PostingKey, tuple[BalanceDelta, str]]:
    """What the journal must hold, derived from transfers and pending states alone."""
    expected: dict[PostingKey, tuple[BalanceDelta, str]] = {}
    stored: dict[str, Transfer] = {}
    for transfer in transfers:
        report.transfers += 1
        stored[transfer.id] = transfer
    # A second pass: a resolution may be listed before the pending transfer it resolves.
    for transfer in stored.values():
        if hashing.transfer_digest(transfer) != transfer.digest:
            report.add("transfer_digest", transfer.id, "content does not match its digest")
        for account_id in (transfer.debit_account_id, transfer.credit_account_id):
            if account_id not in accounts:
                report.add("journal_postings", transfer.id, f"unknown account {account_id}")
        _expect_transfer(transfer, stored, expected, report)
    pending_by_account: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for record in pending:
        _expect_pending_state(record, stored, expected, report)
        if record.state is PendingState.PENDING:
            report.open_pending += 1
            pending_by_account[record.debit_account_id][0] += record.amount
            pending_by_account[record.credit_account_id][1] += record.amount
    for account in accounts.values():
        debits, credits = pending_by_account.get(account.id, (0, 0))
        if (account.debits_pending, account.credits_pending) != (debits, credits):
            report.add(
                "pending_totals",
                account.id,
                f"pending totals ({account.debits_pending}, {account.credits_pending}) but open "
                f"pending transfers hold ({debits}, {credits})",
            )
    return expected


def _expect_transfer(
    transfer: Transfer,
    stored: dict[str, Transfer],
    expected: dict[PostingKey, tuple[BalanceDelta, str]],
    report: VerificationReport,
) -> None:
    amount = transfer.amount
    if transfer.kind is TransferKind.POSTED:
        debit, credit = BalanceDelta(debits_posted=amount), BalanceDelta(credits_posted=amount)
        event = PostingEvent.POSTED
    elif transfer.kind is TransferKind.PENDING:
        debit, credit = BalanceDelta(debits_pending=amount), BalanceDelta(credits_pending=amount)
        event = PostingEvent.PENDING
    else:
        original = stored.get(transfer.pending_id or "")
        if original is None:
            report.add("journal_postings", transfer.id, "resolves an unknown pending transfer")
            return
        posted = amount if transfer.kind is TransferKind.POST_PENDING else 0
        debit = BalanceDelta(debits_pending=-original.amount, debits_posted=posted)
        credit = BalanceDelta(credits_pending=-original.amount, credits_posted=posted)
        event = PostingEvent(transfer.kind.value)
    expected[(transfer.id, transfer.debit_account_id, event)] = (debit, transfer.digest)
    expected[(transfer.id, transfer.credit_account_id, event)] = (credit, transfer.digest)


def _expect_pending_state(
    record: PendingRecord,
    stored: dict[str, Transfer],
    expected: dict[PostingKey, tuple[BalanceDelta, str]],
    report: VerificationReport,
) -> None:
    original = stored.get(record.transfer_id)
    if original is None or original.kind is not TransferKind.PENDING:
        report.add("pending_totals", record.transfer_id, "state kept for a non-pending transfer")
        return
    if (record.debit_account_id, record.credit_account_id, record.amount) != (
        original.debit_account_id,
        original.credit_account_id,
        original.amount,
    ):
        report.add("pending_totals", record.transfer_id, "state differs from its transfer")
    if record.state in (PendingState.POSTED, PendingState.VOIDED):
        resolver = stored.get(record.resolved_by or "")
        if resolver is None or resolver.pending_id != record.transfer_id:
            report.add("pending_totals", record.transfer_id, "closed by no matching transfer")
    if record.state is PendingState.EXPIRED:
        delta_debit = BalanceDelta(debits_pending=-original.amount)
        delta_credit = BalanceDelta(credits_pending=-original.amount)
        key_debit = (original.id, original.debit_account_id, PostingEvent.EXPIRED)
        key_credit = (original.id, original.credit_account_id, PostingEvent.EXPIRED)
        expected[key_debit] = (delta_debit, original.digest)
        expected[key_credit] = (delta_credit, original.digest)


def _check_journal(
    postings: Iterable[Posting],
    accounts: dict[str, Account],
    expected: dict[PostingKey, tuple[BalanceDelta, str]],
    report: VerificationReport,
) -> None:
    chains: dict[str, _Chain] = {}
    for posting in postings:
        report.postings += 1
        chain = chains.setdefault(posting.account_id, _Chain())
        chain.extend(posting, report)
        key = (posting.transfer_id, posting.account_id, posting.event)
        wanted = expected.pop(key, None)
        if wanted is None:
            report.add("journal_postings", posting.transfer_id, f"unexpected posting {key}")
        elif wanted != (posting.delta, posting.transfer_digest):
            report.add("journal_postings", posting.transfer_id, f"posting differs {key}")
    for key in expected:
        report.add("journal_postings", key[0], f"missing posting {key}")
    for account in accounts.values():
        chains.setdefault(account.id, _Chain()).close(account, report)
    for account_id in chains.keys() - accounts.keys():
        report.add("journal_chain", account_id, "postings for an account that does not exist")


@dataclass
class _Chain:
    sequence: int = 0
    head: str = GENESIS_HASH
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    def extend(self, posting: Posting, report: VerificationReport) -> None:
        subject = f"{posting.account_id}#{posting.sequence}"
        if posting.sequence != self.sequence + 1:
            report.add("journal_chain", subject, f"sequence follows {self.sequence}")
        if posting.previous_hash != self.head:
            report.add("journal_chain", subject, "previous hash does not link")
        if hashing.posting_hash(posting) != posting.hash:
            report.add("journal_chain", subject, "hash does not recompute")
        self.sequence = posting.sequence
        self.head = posting.hash
        self.debits_pending += posting.delta.debits_pending
        self.debits_posted += posting.delta.debits_posted
        self.credits_pending += posting.delta.credits_pending
        self.credits_posted += posting.delta.credits_posted

    def close(self, account: Account, report: VerificationReport) -> None:
        if (self.sequence, self.head) != (account.journal_sequence, account.journal_head):
            report.add("journal_chain", account.id, "chain end differs from the account's head")
        sums = (self.debits_pending, self.debits_posted, self.credits_pending, self.credits_posted)
        totals = (
            account.debits_pending,
            account.debits_posted,
            account.credits_pending,
            account.credits_posted,
        )
        if sums != totals:
            report.add("journal_postings", account.id, f"postings add to {sums}, not {totals}")
