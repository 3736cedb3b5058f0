"""The ledger's storage contract: the same behaviour on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hongbao.ledger.engine import Changes
from hongbao.ledger.model import (
    AccountFlags,
    AccountKind,
    NewAccount,
    PendingState,
    TransferKind,
    TransferRequest,
)
from hongbao.ledger.results import AccountResultCode, TransferResultCode
from hongbao.ledger.service import Ledger, UnknownAccount
from hongbao.platform.clock import ManualClock
from hongbao.platform.errors import InvalidInput, InvariantViolation, LimitExceeded
from hongbao.platform.limits import MAX_BATCH_SIZE, MAX_TRANSFER_AMOUNT
from hongbao.storage.unit_of_work import Database, UnitOfWork

Code = TransferResultCode
CNY = "CNY"


@pytest.fixture
def ledger(database: Database, clock: ManualClock) -> Ledger:
    ledger = Ledger(database, clock)
    results = ledger.create_accounts(
        [
            NewAccount("card", AccountKind.DEBIT_CARD, CNY),
            NewAccount("alice", AccountKind.USER_BALANCE, CNY),
            NewAccount("bob", AccountKind.USER_BALANCE, CNY),
            NewAccount("escrow", AccountKind.PACKET_ESCROW, CNY),
            NewAccount("usd", AccountKind.USER_BALANCE, "USD"),
        ]
    )
    assert all(result.code is AccountResultCode.OK for result in results)
    assert ledger.transfer(posted("fund-alice", 10_000, "card", "alice")).code is Code.OK
    return ledger


def posted(
    transfer_id: str, amount: Any, debit: str, credit: str, **fields: Any
) -> TransferRequest:
    return TransferRequest(
        transfer_id, 1, amount, debit, credit, fields.pop("currency", CNY), **fields
    )


def pending(
    transfer_id: str, amount: int, debit: str, credit: str, timeout: int = 60
) -> TransferRequest:
    return posted(
        transfer_id, amount, debit, credit, kind=TransferKind.PENDING, timeout_seconds=timeout
    )


def post(transfer_id: str, pending_id: str, amount: int | None = None) -> TransferRequest:
    return TransferRequest(
        transfer_id, 2, amount, kind=TransferKind.POST_PENDING, pending_id=pending_id
    )


def void(transfer_id: str, pending_id: str) -> TransferRequest:
    return TransferRequest(
        transfer_id, 3, None, kind=TransferKind.VOID_PENDING, pending_id=pending_id
    )


def balances(ledger: Ledger, *ids: str) -> dict[str, tuple[int, int, int, int]]:
    accounts = ledger.accounts(list(ids))
    return {
        account_id: (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
        for account_id, a in accounts.items()
    }


def everything(ledger: Ledger) -> tuple[list[Any], ...]:
    """Every stored row, to prove that a refused request wrote nothing at all."""

    def read(uow: UnitOfWork) -> tuple[list[Any], ...]:
        repository = uow.ledger
        return (
            sorted(repository.iter_accounts(), key=lambda account: account.id),
            list(repository.iter_transfers()),
            list(repository.iter_pending()),
            list(repository.iter_postings()),
            list(repository.get_rejections(["overdraft"]).values()),
        )

    return ledger.database.read(read)


def test_a_posted_transfer_moves_money_between_two_accounts(ledger: Ledger) -> None:
    assert ledger.transfer(posted("t1", 2_500, "alice", "bob")).code is Code.OK
    assert ledger.account("alice").credit_balance == 7_500
    assert ledger.account("bob").credit_balance == 2_500
    assert ledger.account("card").credit_balance == -10_000
    assert ledger.verify().ok


def test_a_retry_with_the_same_id_and_fields_returns_exists_and_moves_nothing(
    ledger: Ledger,
) -> None:
    first = ledger.transfer(posted("t1", 2_500, "alice", "bob"))
    again = ledger.create_transfers([posted("t1", 2_500, "alice", "bob")] * 3)
    assert first.code is Code.OK
    assert [result.code for result in again] == [Code.EXISTS] * 3
    assert ledger.account("bob").credit_balance == 2_500


def test_reusing_an_id_for_a_different_transfer_is_a_distinct_error(ledger: Ledger) -> None:
    ledger.transfer(posted("t1", 2_500, "alice", "bob"))
    before = everything(ledger)
    different = ledger.transfer(posted("t1", 2_501, "alice", "bob"))
    assert different.code is Code.EXISTS_WITH_DIFFERENT_FIELDS
    assert everything(ledger) == before


def test_an_id_that_failed_for_lack_of_money_stays_failed(ledger: Ledger) -> None:
    assert ledger.transfer(posted("overdraft", 50_000, "alice", "bob")).code is Code.EXCEEDS_CREDITS
    ledger.transfer(posted("fund-more", 100_000, "card", "alice"))
    retry = ledger.transfer(posted("overdraft", 50_000, "alice", "bob"))
    assert retry.code is Code.ID_ALREADY_FAILED
    assert ledger.account("bob").credit_balance == 0


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (posted("bad-1", 100, "alice", "nobody"), Code.CREDIT_ACCOUNT_NOT_FOUND),
        (posted("bad-2", 100, "nobody", "alice"), Code.DEBIT_ACCOUNT_NOT_FOUND),
        (posted("bad-3", 100, "alice", "usd"), Code.CURRENCY_MISMATCH),
        (posted("bad-4", 100, "alice", "bob", currency="USD"), Code.CURRENCY_MISMATCH),
        (posted("bad-5", 0, "alice", "bob"), Code.AMOUNT_MUST_BE_POSITIVE),
        (posted("bad-6", -5, "alice", "bob"), Code.AMOUNT_MUST_BE_POSITIVE),
        (posted("bad-7", MAX_TRANSFER_AMOUNT + 1, "alice", "bob"), Code.AMOUNT_EXCEEDS_LIMIT),
        (posted("bad-8", 100, "alice", "alice"), Code.ACCOUNTS_MUST_BE_DIFFERENT),
        (posted("bad 9", 100, "alice", "bob"), Code.ID_INVALID),
        (posted("x" * 129, 100, "alice", "bob"), Code.ID_INVALID),
        (
            posted("bad-10", 100, "alice", "bob", timeout_seconds=5),
            Code.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER,
        ),
        (TransferRequest("bad-11", 0, 100, "alice", "bob", CNY), Code.CODE_INVALID),
        (
            posted("bad-12", 100, "alice", "bob", pending_id="fund-alice"),
            Code.PENDING_ID_MUST_BE_BLANK,
        ),
        (post("bad-13", "no-such-pending"), Code.PENDING_TRANSFER_NOT_FOUND),
        (post("bad-14", "fund-alice"), Code.PENDING_TRANSFER_NOT_PENDING),
        (pending("bad-15", 100, "alice", "bob", timeout=-1), Code.TIMEOUT_INVALID),
    ],
)
def test_bad_input_gets_a_stable_code_and_writes_nothing(
    ledger: Ledger, request_: TransferRequest, expected: TransferResultCode
) -> None:
    before = everything(ledger)
    result = ledger.transfer(request_)
    assert result.code is expected
    assert result.message  # every code has words for people
    assert everything(ledger) == before


def test_floats_and_bools_are_refused_before_reaching_the_ledger() -> None:
    with pytest.raises(InvalidInput) as refused:
        posted("f", 12.5, "alice", "bob")
    assert refused.value.code == "input.not_integer"
    with pytest.raises(InvalidInput):
        posted("b", True, "alice", "bob")


def test_a_batch_over_the_limit_is_refused_whole(ledger: Ledger) -> None:
    before = everything(ledger)
    batch = [posted(f"many-{n}", 1, "alice", "bob") for n in range(MAX_BATCH_SIZE + 1)]
    with pytest.raises(LimitExceeded) as refused:
        ledger.create_transfers(batch)
    assert refused.value.code == "ledger.batch_too_large"
    assert everything(ledger) == before


def test_a_pending_transfer_reserves_money_until_posted_in_full(ledger: Ledger) -> None:
    assert ledger.transfer(pending("hold", 4_000, "alice", "escrow")).code is Code.OK
    alice = ledger.account("alice")
    assert (alice.debits_pending, alice.available_credit_balance) == (4_000, 6_000)
    assert ledger.transfer(posted("too-much", 6_001, "alice", "bob")).code is Code.EXCEEDS_CREDITS
    assert ledger.transfer(post("capture", "hold")).code is Code.OK
    assert balances(ledger, "alice", "escrow") == {
        "alice": (0, 4_000, 0, 10_000),
        "escrow": (0, 0, 0, 4_000),
    }
    assert ledger.verify().ok


def test_a_partial_post_releases_the_rest(ledger: Ledger) -> None:
    ledger.transfer(pending("hold", 4_000, "alice", "escrow"))
    assert ledger.transfer(post("capture", "hold", 1_500)).code is Code.OK
    assert balances(ledger, "alice", "escrow") == {
        "alice": (0, 1_500, 0, 10_000),
        "escrow": (0, 0, 0, 1_500),
    }
    assert (
        ledger.transfer(post("capture-more", "hold", 1)).code
        is Code.PENDING_TRANSFER_ALREADY_POSTED
    )


def test_posting_more_than_the_pending_amount_is_refused(ledger: Ledger) -> None:
    ledger.transfer(pending("hold", 4_000, "alice", "escrow"))
    before = everything(ledger)
    assert (
        ledger.transfer(post("capture", "hold", 4_001)).code is Code.EXCEEDS_PENDING_TRANSFER_AMOUNT
    )
    assert everything(ledger) == before


def test_a_void_releases_everything_and_cannot_be_repeated(ledger: Ledger) -> None:
    ledger.transfer(pending("hold", 4_000, "alice", "escrow"))
    assert ledger.transfer(void("recall", "hold")).code is Code.OK
    assert ledger.account("alice").available_credit_balance == 10_000
    before = everything(ledger)
    assert ledger.transfer(void("recall-2", "hold")).code is Code.PENDING_TRANSFER_ALREADY_VOIDED
    assert ledger.transfer(post("capture", "hold")).code is Code.PENDING_TRANSFER_ALREADY_VOIDED
    assert ledger.transfer(void("recall", "hold")).code is Code.EXISTS
    assert everything(ledger) == before


def test_a_pending_transfer_expires_at_its_timeout(ledger: Ledger, clock: ManualClock) -> None:
    ledger.transfer(pending("hold", 4_000, "alice", "escrow", timeout=900))
    clock.advance(seconds=899)
    assert ledger.expire_due() == 0
    clock.advance(seconds=1)
    before = everything(ledger)
    # Past its timeout it can be neither posted nor voided, even before the sweep runs.
    assert ledger.transfer(post("late-capture", "hold")).code is Code.PENDING_TRANSFER_EXPIRED
    assert ledger.transfer(void("late-void", "hold")).code is Code.PENDING_TRANSFER_EXPIRED
    assert everything(ledger) == before
    assert ledger.expire_due() == 1
    assert ledger.expire_due() == 0
    assert ledger.account("alice").debits_pending == 0
    (record,) = ledger.database.read(lambda uow: list(uow.ledger.get_pending(["hold"]).values()))
    assert record.state is PendingState.EXPIRED
    assert ledger.transfer(post("later", "hold")).code is Code.PENDING_TRANSFER_EXPIRED
    assert ledger.verify().ok


def test_linked_transfers_succeed_together(ledger: Ledger) -> None:
    chain = [
        posted("a", 1_000, "alice", "escrow", linked=True),
        posted("b", 600, "escrow", "bob", linked=True),
        posted("c", 400, "escrow", "alice"),
    ]
    assert [r.code for r in ledger.create_transfers(chain)] == [Code.OK] * 3
    assert ledger.account("escrow").credit_balance == 0


def test_linked_transfers_fail_together(ledger: Ledger) -> None:
    before = everything(ledger)
    chain = [
        posted("a", 1_000, "alice", "escrow", linked=True),
        posted("b", 2_000, "escrow", "bob", linked=True),  # escrow holds only 1,000
        posted("c", 400, "escrow", "alice"),
    ]
    codes = [result.code for result in ledger.create_transfers(chain)]
    assert codes == [Code.LINKED_EVENT_FAILED, Code.EXCEEDS_CREDITS, Code.LINKED_EVENT_FAILED]
    after = everything(ledger)
    assert after[:4] == before[:4]  # no balance, transfer, pending or posting changed
    # The member that failed on balance stays failed; the others may be retried.
    assert ledger.transfer(posted("a", 1_000, "alice", "escrow")).code is Code.OK


def test_a_batch_ending_in_an_open_chain_applies_none_of_it(ledger: Ledger) -> None:
    results = ledger.create_transfers(
        [posted("ok", 10, "alice", "bob"), posted("open", 10, "alice", "bob", linked=True)]
    )
    assert [r.code for r in results] == [Code.OK, Code.LINKED_EVENT_CHAIN_OPEN]
    assert ledger.account("bob").credit_balance == 10


def test_one_batch_can_create_and_post_a_pending_transfer(ledger: Ledger) -> None:
    results = ledger.create_transfers(
        [pending("hold", 300, "alice", "escrow"), post("capture", "hold", 200)]
    )
    assert [r.code for r in results] == [Code.OK, Code.OK]
    assert ledger.account("escrow").credit_balance == 200
    assert ledger.verify().ok


def test_external_source_accounts_cannot_receive_more_than_was_taken(ledger: Ledger) -> None:
    ledger.create_accounts([NewAccount("other-card", AccountKind.CREDIT_CARD, CNY)])
    ledger.transfer(posted("fund-bob", 50_000, "other-card", "bob"))
    # "card" gave 10,000 to alice; bob has plenty, but the card can take back only 10,000.
    before = everything(ledger)
    assert ledger.transfer(posted("refund-too-much", 10_001, "bob", "card")).code is (
        Code.EXCEEDS_DEBITS
    )
    assert everything(ledger)[:4] == before[:4]
    assert ledger.transfer(posted("refund", 10_000, "bob", "card")).code is Code.OK
    assert ledger.account("card").credit_balance == 0


def test_opening_accounts_is_idempotent_and_validated(ledger: Ledger) -> None:
    results = ledger.create_accounts(
        [
            NewAccount("alice", AccountKind.USER_BALANCE, CNY),
            NewAccount("alice", AccountKind.PACKET_ESCROW, CNY),
            NewAccount("bad id", AccountKind.USER_BALANCE, CNY),
            NewAccount("x", AccountKind.USER_BALANCE, "XYZ"),
            NewAccount("y", AccountKind.FX_POSITION, CNY, flags=AccountFlags(True, True)),
        ]
    )
    assert [r.code for r in results] == [
        AccountResultCode.EXISTS,
        AccountResultCode.EXISTS_WITH_DIFFERENT_FIELDS,
        AccountResultCode.ID_INVALID,
        AccountResultCode.CURRENCY_INVALID,
        AccountResultCode.FLAGS_ARE_MUTUALLY_EXCLUSIVE,
    ]
    with pytest.raises(UnknownAccount):
        ledger.account("x")


def test_history_lists_an_accounts_postings_newest_first(ledger: Ledger) -> None:
    ledger.transfer(posted("t1", 100, "alice", "bob"))
    ledger.transfer(pending("hold", 50, "alice", "bob"))
    history = ledger.history("alice")
    assert [(p.sequence, p.transfer_id, p.event.value) for p in history] == [
        (3, "hold", "pending"),
        (2, "t1", "posted"),
        (1, "fund-alice", "posted"),
    ]
    assert history[0].previous_hash == history[1].hash


def test_the_journal_is_hash_chained_and_verifies(ledger: Ledger, clock: ManualClock) -> None:
    ledger.transfer(posted("t1", 100, "alice", "bob"))
    ledger.transfer(pending("hold", 50, "alice", "bob", timeout=10))
    ledger.transfer(pending("hold-2", 70, "alice", "bob", timeout=10))
    ledger.transfer(void("release", "hold-2"))
    clock.advance(seconds=10)
    ledger.expire_due()
    report = ledger.verify()
    assert report.ok, report.violations
    assert (report.transfers, report.postings, report.open_pending) == (5, 12, 0)
    assert len(report.root_digest) == 64


def test_a_write_that_does_not_match_the_locked_rows_raises_and_commits_nothing(
    ledger: Ledger,
) -> None:
    alice = ledger.account("alice")
    forged = replace(alice, credits_posted=alice.credits_posted + 1, journal_sequence=99)
    before = everything(ledger)
    with pytest.raises(InvariantViolation):
        ledger.database.transact(lambda uow: uow.ledger.save(Changes(accounts={"alice": forged})))
    assert everything(ledger) == before


def test_a_post_without_an_amount_means_the_whole_hold_also_when_retried(ledger: Ledger) -> None:
    ledger.transfer(pending("hold", 100, "alice", "escrow"))
    assert ledger.transfer(post("capture", "hold", 40)).code is Code.OK
    # Omitting the amount asks for all 100: not what "capture" did, so not a retry of it.
    assert ledger.transfer(post("capture", "hold")).code is Code.EXISTS_WITH_DIFFERENT_FIELDS
    assert ledger.transfer(post("capture", "hold", 40)).code is Code.EXISTS
    ledger.transfer(pending("hold-2", 100, "alice", "escrow"))
    assert ledger.transfer(post("capture-2", "hold-2")).code is Code.OK
    assert ledger.transfer(post("capture-2", "hold-2")).code is Code.EXISTS
    assert ledger.transfer(post("capture-2", "hold-2", 100)).code is Code.EXISTS
