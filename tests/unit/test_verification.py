"""``verify`` on the in-memory fake: each kind of corruption is found and named."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hongbao.ledger.model import AccountKind, NewAccount, TransferKind, TransferRequest
from hongbao.ledger.service import Ledger
from hongbao.platform.clock import ManualClock
from hongbao.testing import InMemoryDatabase, InMemoryLedgerRepository


@pytest.fixture
def ledger(clock: ManualClock) -> Ledger:
    ledger = Ledger(InMemoryDatabase(), clock)
    ledger.create_accounts(
        [
            NewAccount("card", AccountKind.DEBIT_CARD, "CNY"),
            NewAccount("alice", AccountKind.USER_BALANCE, "CNY"),
            NewAccount("escrow", AccountKind.PACKET_ESCROW, "CNY"),
        ]
    )
    ledger.create_transfers(
        [
            TransferRequest("fund", 1, 1_000, "card", "alice", "CNY"),
            TransferRequest("send", 2, 400, "alice", "escrow", "CNY"),
            TransferRequest("hold", 3, 100, "alice", "escrow", "CNY", kind=TransferKind.PENDING),
        ]
    )
    return ledger


def tamper(ledger: Ledger, change: object) -> None:
    database = ledger.database
    assert isinstance(database, InMemoryDatabase)
    database.tamper(change)  # type: ignore[arg-type]


def checks_failed(ledger: Ledger) -> set[str]:
    report = ledger.verify()
    assert not report.ok
    return {violation.check for violation in report.violations}


def test_an_untouched_ledger_verifies(ledger: Ledger) -> None:
    report = ledger.verify()
    assert report.ok
    assert (report.accounts, report.transfers, report.postings, report.open_pending) == (3, 3, 6, 1)
    assert (
        report.currencies["CNY"].debits_posted == report.currencies["CNY"].credits_posted == 1_400
    )


def test_money_created_from_nothing_breaks_the_currency_sum(ledger: Ledger) -> None:
    def mint(repository: InMemoryLedgerRepository) -> None:
        alice = repository.get_accounts(["alice"])["alice"]
        repository.tamper_account(replace(alice, credits_posted=alice.credits_posted + 1))

    tamper(ledger, mint)
    assert {"currency_balance", "journal_postings"} <= checks_failed(ledger)


def test_an_edited_transfer_breaks_its_digest(ledger: Ledger) -> None:
    def edit(repository: InMemoryLedgerRepository) -> None:
        (send,) = repository.get_transfers(["send"]).values()
        repository.tamper_transfer(replace(send, amount=1))

    tamper(ledger, edit)
    assert "transfer_digest" in checks_failed(ledger)


def test_a_pending_total_without_an_open_pending_transfer_is_found(ledger: Ledger) -> None:
    def reserve(repository: InMemoryLedgerRepository) -> None:
        escrow = repository.get_accounts(["escrow"])["escrow"]
        repository.tamper_account(replace(escrow, credits_pending=escrow.credits_pending + 5))

    tamper(ledger, reserve)
    assert "pending_totals" in checks_failed(ledger)


def test_a_moved_chain_head_is_found(ledger: Ledger) -> None:
    def rewind(repository: InMemoryLedgerRepository) -> None:
        alice = repository.get_accounts(["alice"])["alice"]
        repository.tamper_account(replace(alice, journal_head="0" * 64))

    tamper(ledger, rewind)
    assert "journal_chain" in checks_failed(ledger)


def test_a_broken_balance_flag_is_found(ledger: Ledger) -> None:
    def overdraw(repository: InMemoryLedgerRepository) -> None:
        alice = repository.get_accounts(["alice"])["alice"]
        repository.tamper_account(replace(alice, debits_posted=alice.credits_posted + 1))

    tamper(ledger, overdraw)
    assert "account_flags" in checks_failed(ledger)
