"""A stateful model test: the ledger service against a small reference model kept in the test.

Hypothesis drives :class:`hongbao.ledger.service.Ledger` with random posted and pending
transfers, posts (full, partial, too large), voids, clock moves, expiry sweeps, retries of
earlier ids and linked chains. For every request the reference model below predicts the exact
:class:`TransferResultCode`; after every step each account's four totals and journal length
must equal the model's, ``Ledger.verify()`` must report no violation, and every currency must
sum to zero.

The model is deliberately plain (dicts of totals, holds and applied transfers) and written
from the documented rules, not from the engine's code, so that a change to the engine's
decisions shows up as a disagreement here.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from hongbao.ledger.model import (
    Account,
    AccountFlags,
    AccountKind,
    NewAccount,
    PendingState,
    TransferKind,
    TransferRequest,
)
from hongbao.ledger.results import AccountResultCode, TransferResultCode
from hongbao.ledger.service import Ledger
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, ManualClock
from hongbao.platform.limits import (
    MAX_CODE,
    MAX_PENDING_TIMEOUT_SECONDS,
    MAX_REFERENCE_LENGTH,
    MAX_TRANSFER_AMOUNT,
)
from hongbao.storage.factory import open_database
from hongbao.storage.unit_of_work import Database
from hongbao.testing import InMemoryDatabase

Code = TransferResultCode
START_US = 1_796_000_000_000_000  # 2026-11-29, as in tests/conftest.py

# ------------------------------------------------------------------------------ the accounts


@dataclass(frozen=True)
class AccountSpec:
    """One account the machine opens: its kind, currency and balance flags."""

    id: str
    kind: AccountKind
    currency: str
    flags: AccountFlags


NEVER_NEGATIVE = AccountFlags(debits_must_not_exceed_credits=True)
EXTERNAL_SOURCE = AccountFlags(credits_must_not_exceed_debits=True)

ACCOUNTS = (
    AccountSpec("card", AccountKind.DEBIT_CARD, "CNY", EXTERNAL_SOURCE),
    AccountSpec("alice", AccountKind.USER_BALANCE, "CNY", NEVER_NEGATIVE),
    AccountSpec("bob", AccountKind.USER_BALANCE, "CNY", NEVER_NEGATIVE),
    AccountSpec("escrow", AccountKind.PACKET_ESCROW, "CNY", NEVER_NEGATIVE),
    AccountSpec("fx", AccountKind.FX_POSITION, "CNY", AccountFlags()),
    AccountSpec("usd-card", AccountKind.FOREIGN_CARD, "USD", EXTERNAL_SOURCE),
)
ACCOUNT_IDS = tuple(spec.id for spec in ACCOUNTS)
USERS = ("alice", "bob", "escrow")
UNKNOWN_ACCOUNT = "ghost"
UNKNOWN_TRANSFER = "never-sent"
NEW_KINDS = (TransferKind.POSTED, TransferKind.PENDING)
CLOSED_CODES = {
    PendingState.POSTED: Code.PENDING_TRANSFER_ALREADY_POSTED,
    PendingState.VOIDED: Code.PENDING_TRANSFER_ALREADY_VOIDED,
    PendingState.EXPIRED: Code.PENDING_TRANSFER_EXPIRED,
}
STICKY = frozenset({Code.EXCEEDS_CREDITS, Code.EXCEEDS_DEBITS, Code.OVERFLOW})

# ------------------------------------------------------------------------- the reference model


@dataclass
class Totals:
    """The model's view of one account: its four totals and its journal length."""

    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0
    postings: int = 0  # journal entries written on the account


@dataclass(frozen=True)
class Applied:
    """The fields the ledger keeps for an applied transfer."""

    kind: TransferKind
    debit_account_id: str
    credit_account_id: str
    amount: int
    currency: str
    code: int
    pending_id: str | None
    timeout_seconds: int
    reference: str | None
    held_amount: int | None = None  # for a post or void: what the pending transfer held

    def matches(self, request: TransferRequest) -> bool:
        """A retry is the same transfer when every field it gives equals the stored one.

        New transfers must give all four money fields; a post or void may leave accounts and
        currency out (they come from the pending transfer), and an omitted amount means the
        whole pending amount, so it matches only a post of everything that was held.
        """
        given = (
            (request.debit_account_id, self.debit_account_id),
            (request.credit_account_id, self.credit_account_id),
            (request.currency, self.currency),
        )
        if request.kind in NEW_KINDS:
            money_fields_match = (
                all(asked == kept for asked, kept in given) and request.amount == self.amount
            )
        else:
            asked_amount = request.amount if request.amount is not None else self.held_amount
            money_fields_match = (
                all(asked in (None, kept) for asked, kept in given) and asked_amount == self.amount
            )
        return (
            money_fields_match
            and request.kind is self.kind
            and request.code == self.code
            and request.pending_id == self.pending_id
            and request.timeout_seconds == self.timeout_seconds
            and request.reference == self.reference
        )


@dataclass
class Hold:
    """A pending transfer's reservation and whether it is still open."""

    debit_account_id: str
    credit_account_id: str
    amount: int
    expires_at_us: int | None
    state: PendingState = PendingState.PENDING

    def due(self, now_us: int) -> bool:
        return self.expires_at_us is not None and now_us >= self.expires_at_us


def valid_id(identifier: str | None) -> bool:
    """Ids are 1 to 128 characters of A-Z a-z 0-9 : . _ - / and do not start with a symbol."""
    return (
        identifier is not None
        and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9:._\-/]{0,127}", identifier) is not None
    )


def first_problem(checks: Iterable[tuple[bool, TransferResultCode]]) -> TransferResultCode | None:
    """The code of the first failed check, in the order the ledger documents them."""
    return next((code for failed, code in checks if failed), None)


@dataclass
class Model:
    """The reference ledger: what every request should return and how it moves money.

    Plain dicts: account totals, applied transfers (id -> fields), holds (pending transfers
    with state and deadline) and the set of ids that failed on balance and stay failed.
    """

    now_us: int
    specs: dict[str, AccountSpec] = field(default_factory=lambda: {s.id: s for s in ACCOUNTS})
    totals: dict[str, Totals] = field(default_factory=lambda: {i: Totals() for i in ACCOUNT_IDS})
    applied: dict[str, Applied] = field(default_factory=dict)
    holds: dict[str, Hold] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)

    # ---------------------------------------------------------------------------- batches

    def apply_batch(self, requests: Sequence[TransferRequest]) -> list[TransferResultCode]:
        codes: list[TransferResultCode] = []
        chain: list[TransferRequest] = []
        for request in requests:
            chain.append(request)
            if not request.linked:
                codes.extend(self._apply_chain(chain))
                chain = []
        if chain:  # the batch ends inside a chain: none of it is even evaluated
            codes.extend([Code.LINKED_EVENT_FAILED] * (len(chain) - 1))
            codes.append(Code.LINKED_EVENT_CHAIN_OPEN)
        return codes

    def _apply_chain(self, chain: list[TransferRequest]) -> list[TransferResultCode]:
        trial = copy.deepcopy(self)  # the chain works on a copy, kept only if all succeed
        codes = []
        for index, request in enumerate(chain):
            code = trial.apply_one(request)
            codes.append(code)
            if not code.succeeded:
                if code in STICKY:
                    self.failed.add(request.id)
                results = [Code.LINKED_EVENT_FAILED] * len(chain)
                results[index] = code
                return results
        self.__dict__.update(trial.__dict__)
        return codes

    def apply_one(self, request: TransferRequest) -> TransferResultCode:
        if not valid_id(request.id):
            return Code.ID_INVALID
        stored = self.applied.get(request.id)
        if stored is not None:
            return Code.EXISTS if stored.matches(request) else Code.EXISTS_WITH_DIFFERENT_FIELDS
        if request.id in self.failed:
            return Code.ID_ALREADY_FAILED
        problem = first_problem(self._shape_checks(request))
        if problem is not None:
            return problem
        if request.kind in NEW_KINDS:
            return self._create(request)
        return self._resolve(request)

    # ------------------------------------------------------------------------------ rules

    @staticmethod
    def _shape_checks(r: TransferRequest) -> tuple[tuple[bool, TransferResultCode], ...]:
        new = r.kind in NEW_KINDS
        return (
            (not 1 <= r.code <= MAX_CODE, Code.CODE_INVALID),
            (
                r.reference is not None and len(r.reference) > MAX_REFERENCE_LENGTH,
                Code.REFERENCE_TOO_LONG,
            ),
            (r.amount is not None and r.amount <= 0, Code.AMOUNT_MUST_BE_POSITIVE),
            (r.amount is not None and r.amount > MAX_TRANSFER_AMOUNT, Code.AMOUNT_EXCEEDS_LIMIT),
            (not 0 <= r.timeout_seconds <= MAX_PENDING_TIMEOUT_SECONDS, Code.TIMEOUT_INVALID),
            (new and r.pending_id is not None, Code.PENDING_ID_MUST_BE_BLANK),
            (
                r.kind is TransferKind.POSTED and r.timeout_seconds != 0,
                Code.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER,
            ),
            (new and r.amount is None, Code.AMOUNT_MUST_BE_POSITIVE),
            (new and r.debit_account_id is None, Code.DEBIT_ACCOUNT_REQUIRED),
            (new and r.credit_account_id is None, Code.CREDIT_ACCOUNT_REQUIRED),
            (new and r.debit_account_id == r.credit_account_id, Code.ACCOUNTS_MUST_BE_DIFFERENT),
            (new and r.currency is None, Code.CURRENCY_MISMATCH),
            (not new and not valid_id(r.pending_id), Code.PENDING_ID_REQUIRED),
            (not new and r.pending_id == r.id, Code.PENDING_ID_MUST_BE_DIFFERENT),
            (not new and r.timeout_seconds != 0, Code.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER),
        )

    def _create(self, r: TransferRequest) -> TransferResultCode:
        debit = self.specs.get(r.debit_account_id or "")
        credit = self.specs.get(r.credit_account_id or "")
        if debit is None:
            return Code.DEBIT_ACCOUNT_NOT_FOUND
        if credit is None:
            return Code.CREDIT_ACCOUNT_NOT_FOUND
        assert r.amount is not None
        amount = r.amount
        d, c = self.totals[debit.id], self.totals[credit.id]
        problem = first_problem(
            (
                (
                    debit.currency != credit.currency or r.currency != debit.currency,
                    Code.CURRENCY_MISMATCH,
                ),
                (
                    debit.flags.debits_must_not_exceed_credits
                    and d.debits_pending + d.debits_posted + amount > d.credits_posted,
                    Code.EXCEEDS_CREDITS,
                ),
                (
                    credit.flags.credits_must_not_exceed_debits
                    and c.credits_pending + c.credits_posted + amount > c.debits_posted,
                    Code.EXCEEDS_DEBITS,
                ),
            )
        )
        if problem is not None:
            return problem
        self.applied[r.id] = Applied(
            r.kind,
            debit.id,
            credit.id,
            amount,
            debit.currency,
            r.code,
            None,
            r.timeout_seconds,
            r.reference,
        )
        d.postings += 1
        c.postings += 1
        if r.kind is TransferKind.POSTED:
            d.debits_posted += amount
            c.credits_posted += amount
        else:
            expires = (
                self.now_us + r.timeout_seconds * MICROSECONDS_PER_SECOND
                if r.timeout_seconds > 0
                else None
            )
            self.holds[r.id] = Hold(debit.id, credit.id, amount, expires)
            d.debits_pending += amount
            c.credits_pending += amount
        return Code.OK

    def _resolve(self, r: TransferRequest) -> TransferResultCode:
        assert r.pending_id is not None
        original = self.applied.get(r.pending_id)
        if original is None:
            return Code.PENDING_TRANSFER_NOT_FOUND
        hold = self.holds.get(r.pending_id)
        if hold is None:
            return Code.PENDING_TRANSFER_NOT_PENDING
        posting = r.kind is TransferKind.POST_PENDING
        amount = hold.amount if r.amount is None else r.amount
        problem = first_problem(
            (
                (
                    r.debit_account_id not in (None, hold.debit_account_id)
                    or r.credit_account_id not in (None, hold.credit_account_id),
                    Code.PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS,
                ),
                (r.currency not in (None, original.currency), Code.CURRENCY_MISMATCH),
                (hold.state is not PendingState.PENDING, CLOSED_CODES.get(hold.state, Code.OK)),
                (hold.due(self.now_us), Code.PENDING_TRANSFER_EXPIRED),
                (posting and amount > hold.amount, Code.EXCEEDS_PENDING_TRANSFER_AMOUNT),
                (not posting and amount != hold.amount, Code.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT),
            )
        )
        if problem is not None:
            return problem
        self.applied[r.id] = Applied(
            r.kind,
            hold.debit_account_id,
            hold.credit_account_id,
            amount,
            original.currency,
            r.code,
            r.pending_id,
            0,
            r.reference,
            held_amount=hold.amount,
        )
        hold.state = PendingState.POSTED if posting else PendingState.VOIDED
        self._release(hold, posted=amount if posting else 0)
        return Code.OK

    def _release(self, hold: Hold, posted: int) -> None:
        d, c = self.totals[hold.debit_account_id], self.totals[hold.credit_account_id]
        d.debits_pending -= hold.amount
        c.credits_pending -= hold.amount
        d.debits_posted += posted
        c.credits_posted += posted
        d.postings += 1
        c.postings += 1

    def expire_due(self) -> int:
        due = [
            h for h in self.holds.values() if h.state is PendingState.PENDING and h.due(self.now_us)
        ]
        for hold in due:
            hold.state = PendingState.EXPIRED
            self._release(hold, posted=0)
        return len(due)

    def deadlines(self) -> list[int]:
        """Deadlines of open holds that have not passed yet."""
        return sorted(
            {
                h.expires_at_us
                for h in self.holds.values()
                if h.state is PendingState.PENDING
                and h.expires_at_us is not None
                and h.expires_at_us >= self.now_us
            }
        )

    def open_holds(self) -> list[str]:
        return sorted(i for i, h in self.holds.items() if h.state is PendingState.PENDING)

    def spendable(self, account_id: str) -> int:
        t = self.totals[account_id]
        return t.credits_posted - t.debits_posted - t.debits_pending


# ------------------------------------------------------------------------------- strategies

accounts = st.sampled_from(
    [*ACCOUNT_IDS, *ACCOUNT_IDS, *USERS, None, UNKNOWN_ACCOUNT, UNKNOWN_ACCOUNT]
)
amounts = st.one_of(
    st.integers(1, 400),
    st.integers(1, 400),
    st.sampled_from([0, -1, -250, 5_000, 100_000, MAX_TRANSFER_AMOUNT, MAX_TRANSFER_AMOUNT + 1]),
)
AUTO = "auto"  # the debit account's own currency
currencies = st.sampled_from([AUTO, AUTO, AUTO, AUTO, AUTO, "CNY", "USD", None])
codes = st.sampled_from([1, 1, 1, 1, 1, 1, 42, 0, MAX_CODE + 1])
timeouts = st.sampled_from([0, 1, 1, 2, 3, 5, 10, -1, MAX_PENDING_TIMEOUT_SECONDS + 1])


def resolve_currency(choice: str | None, debit_account_id: str | None) -> str | None:
    if choice != AUTO:
        return choice
    spec = next((s for s in ACCOUNTS if s.id == debit_account_id), None)
    return spec.currency if spec is not None else "CNY"


# --------------------------------------------------------------------------- the state machine


class LedgerMachine(RuleBasedStateMachine):
    """Drives the ledger and the model side by side; they must agree on every result."""

    def __init__(self) -> None:
        super().__init__()
        self.database = self.open_database()
        self.clock = ManualClock(START_US)
        self.ledger = Ledger(self.database, self.clock)
        results = self.ledger.create_accounts(
            [NewAccount(s.id, s.kind, s.currency, flags=s.flags) for s in ACCOUNTS]
        )
        assert [r.code for r in results] == [AccountResultCode.OK] * len(ACCOUNTS)
        self.model = Model(now_us=START_US)
        self.ids = itertools.count(1)
        # The request each applied or sticky-failed id was last sent with.
        self.applied_requests: dict[str, TransferRequest] = {}
        self.failed_requests: dict[str, TransferRequest] = {}

    def open_database(self) -> Database:
        return InMemoryDatabase()

    def teardown(self) -> None:
        self.database.close()

    # --------------------------------------------------------------------------- helpers

    def new_id(self) -> str:
        # Not zero-padded on purpose: "t10" sorts before "t9", so storage order by id differs
        # from creation order and verify() must not depend on it.
        return f"t{next(self.ids)}"

    def submit(self, requests: Sequence[TransferRequest]) -> list[TransferResultCode]:
        expected = self.model.apply_batch(requests)
        results = self.ledger.create_transfers(requests)
        assert [r.id for r in results] == [r.id for r in requests]
        actual = [r.code for r in results]
        assert actual == expected, f"requests {requests}"
        for request, code in zip(requests, actual, strict=True):
            if code is Code.OK:
                self.applied_requests[request.id] = request
            elif code in STICKY:
                self.failed_requests[request.id] = request
        return actual

    def new_transfer(
        self,
        kind: TransferKind,
        debit: str | None,
        credit: str | None,
        amount: int,
        currency: str | None,
        *,
        code: int = 1,
        timeout: int = 0,
        linked: bool = False,
    ) -> TransferRequest:
        return TransferRequest(
            id=self.new_id(),
            code=code,
            amount=amount,
            debit_account_id=debit,
            credit_account_id=credit,
            currency=resolve_currency(currency, debit),
            kind=kind,
            timeout_seconds=timeout,
            linked=linked,
        )

    def resolution(
        self,
        data: st.DataObject,
        kind: TransferKind,
        *,
        linked: bool = False,
        extra: Sequence[str] = (),
    ) -> TransferRequest:
        """A post or void of an open, closed, non-pending or unknown transfer."""
        holds = sorted(self.model.holds)
        open_holds = self.model.open_holds()
        others = sorted(set(self.model.applied) - set(holds))[:2]
        # Mostly open holds; sometimes closed ones, non-pending transfers or an unknown id.
        candidates = [*open_holds * 4, *holds * 2, *extra, *others, UNKNOWN_TRANSFER]
        target = data.draw(st.sampled_from(candidates), label="pending_id")
        hold = self.model.holds.get(target)
        held = hold.amount if hold is not None else 100
        # Valid amounts are drawn more often than invalid ones.
        if kind is TransferKind.POST_PENDING:
            choices = {"full": None, "exact": held, "partial": max(1, held // 2)}
            choices |= {"over": held + 1, "zero": 0}
            weights = ["full", "full", "exact", "partial", "partial", "over", "zero"]
        else:
            choices = {"full": None, "exact": held, "less": held - 1, "more": held + 1}
            weights = ["full", "full", "exact", "exact", "less", "more"]
        amount = choices[data.draw(st.sampled_from(weights), label="amount")]
        original = self.model.applied.get(target)
        pair = (
            (original.debit_account_id, original.credit_account_id)
            if original
            else ("alice", "bob")
        )
        debit, credit = {
            "omitted": (None, None),
            "same": pair,
            "swapped": pair[::-1],
        }[
            data.draw(
                st.sampled_from(["omitted", "omitted", "omitted", "same", "same", "swapped"]),
                label="accounts",
            )
        ]
        currency = data.draw(
            st.sampled_from([None, None, None, original.currency if original else "CNY", "USD"]),
            label="currency",
        )
        return TransferRequest(
            id=self.new_id(),
            code=1,
            amount=amount,
            debit_account_id=debit,
            credit_account_id=credit,
            currency=currency,
            kind=kind,
            pending_id=target,
            linked=linked,
        )

    def snapshot(self) -> dict[str, Account]:
        return self.ledger.accounts(ACCOUNT_IDS)

    # ----------------------------------------------------------------------------- rules

    @rule(user=st.sampled_from(USERS), amount=st.integers(1, 2_000))
    def fund_user(self, user: str, amount: int) -> None:
        """Money comes in from the debit card: the usual first step of a red packet."""
        request = self.new_transfer(TransferKind.POSTED, "card", user, amount, AUTO)
        assert self.submit([request]) == [Code.OK]

    @rule(
        debit=accounts,
        credit=accounts,
        amount=amounts,
        currency=currencies,
        code=codes,
        timeout=st.sampled_from([0, 0, 0, 0, 5]),
    )
    def posted_transfer(
        self,
        *,
        debit: str | None,
        credit: str | None,
        amount: int,
        currency: str | None,
        code: int,
        timeout: int,
    ) -> None:
        """A posted transfer between any two accounts, valid or not."""
        self.submit(
            [
                self.new_transfer(
                    TransferKind.POSTED, debit, credit, amount, currency, code=code, timeout=timeout
                )
            ]
        )

    @rule(debit=accounts, credit=accounts, amount=amounts, currency=currencies, timeout=timeouts)
    def pending_transfer(
        self, debit: str | None, credit: str | None, amount: int, currency: str | None, timeout: int
    ) -> None:
        """A reservation, with a timeout (0 means it never expires)."""
        self.submit(
            [
                self.new_transfer(
                    TransferKind.PENDING, debit, credit, amount, currency, timeout=timeout
                )
            ]
        )

    @rule(
        holds=st.lists(
            st.tuples(
                st.sampled_from(["card", "card", *USERS, "fx"]),
                st.sampled_from(["alice", "bob", "escrow", "fx", "card"]),
                st.integers(1, 300),
                st.sampled_from([0, 1, 1, 2, 3, 5]),
            ),
            min_size=1,
            max_size=3,
        )
    )
    def hold_funds(self, holds: list[tuple[str, str, int, int]]) -> None:
        """One batch of independent reservations between CNY accounts (some may lack funds)."""
        self.submit(
            [
                self.new_transfer(
                    TransferKind.PENDING, debit, credit, amount, AUTO, timeout=timeout
                )
                for debit, credit, amount, timeout in holds
            ]
        )

    @rule(
        problem=st.sampled_from(
            [
                "bad_id",
                "empty_id",
                "bad_pending_id",
                "no_pending_id",
                "self_pending",
                "pending_id_on_new",
                "long_reference",
                "ghost_debit",
                "resolve_timeout",
            ]
        )
    )
    def malformed(self, problem: str) -> None:
        """Requests whose shape alone is wrong: they fail the same way every time."""
        base = self.new_transfer(TransferKind.POSTED, "card", "alice", 10, AUTO)
        resolve = dataclasses.replace(
            base,
            kind=TransferKind.POST_PENDING,
            debit_account_id=None,
            credit_account_id=None,
            currency=None,
            pending_id=(self.model.open_holds() or [UNKNOWN_TRANSFER])[0],
        )
        request = {
            "bad_id": dataclasses.replace(base, id="has space"),
            "empty_id": dataclasses.replace(base, id=""),
            "bad_pending_id": dataclasses.replace(resolve, pending_id="no!"),
            "no_pending_id": dataclasses.replace(resolve, pending_id=None),
            "self_pending": dataclasses.replace(resolve, pending_id=base.id),
            "pending_id_on_new": dataclasses.replace(base, pending_id=resolve.pending_id),
            "long_reference": dataclasses.replace(base, reference="r" * (MAX_REFERENCE_LENGTH + 1)),
            "ghost_debit": dataclasses.replace(base, debit_account_id=UNKNOWN_ACCOUNT),
            "resolve_timeout": dataclasses.replace(resolve, timeout_seconds=3),
        }[problem]
        self.submit([request])

    @rule(data=st.data())
    def post_pending(self, data: st.DataObject) -> None:
        """Post a pending transfer fully or partly, or try to post too much."""
        self.submit([self.resolution(data, TransferKind.POST_PENDING)])

    @rule(data=st.data())
    def void_pending(self, data: st.DataObject) -> None:
        """Void a pending transfer (only its exact amount is accepted)."""
        self.submit([self.resolution(data, TransferKind.VOID_PENDING)])

    @rule(
        seconds=st.integers(0, 6),
        microseconds=st.sampled_from([0, 0, 1, 999_999]),
        sweep=st.booleans(),
    )
    def advance_clock(self, seconds: int, microseconds: int, sweep: bool) -> None:
        """Time passes; holds reach their deadline exactly or just after it, maybe swept."""
        self.model.now_us = self.clock.advance(seconds=seconds, microseconds=microseconds)
        if sweep:
            self.expire_due()

    @precondition(lambda self: self.model.deadlines())
    @rule(data=st.data(), offset=st.sampled_from([-1, 0, 0, 1]), sweep=st.booleans())
    def reach_deadline(self, data: st.DataObject, offset: int, sweep: bool) -> None:
        """Move the clock to an open hold's deadline, a microsecond before or after it."""
        deadline = data.draw(st.sampled_from(self.model.deadlines()), label="deadline")
        step = max(0, deadline + offset - self.clock.now_us())
        self.model.now_us = self.clock.advance(microseconds=step)
        if sweep:
            self.expire_due()

    @rule()
    def expire_due(self) -> None:
        """The sweep releases exactly the open holds whose deadline has passed."""
        expected = self.model.expire_due()
        assert self.ledger.expire_due() == expected

    @precondition(lambda self: self.applied_requests)
    @rule(data=st.data())
    def resubmit_same(self, data: st.DataObject) -> None:
        """A retry with the same fields is ``exists`` and moves nothing."""
        transfer_id = data.draw(st.sampled_from(sorted(self.applied_requests)), label="id")
        request = dataclasses.replace(self.applied_requests[transfer_id], linked=False)
        before = self.snapshot()
        assert self.submit([request]) == [Code.EXISTS]
        assert self.snapshot() == before

    @precondition(lambda self: self.applied_requests)
    @rule(data=st.data(), change=st.sampled_from(["code", "reference", "amount", "kind"]))
    def resubmit_different(self, data: st.DataObject, change: str) -> None:
        """Reusing an applied id for a different transfer is refused and moves nothing."""
        transfer_id = data.draw(st.sampled_from(sorted(self.applied_requests)), label="id")
        request = dataclasses.replace(self.applied_requests[transfer_id], linked=False)
        stored = self.model.applied[transfer_id]
        if change == "code":
            request = dataclasses.replace(request, code=request.code % MAX_CODE + 1)
        elif change == "reference":
            request = dataclasses.replace(request, reference="changed")
        elif change == "amount":
            request = dataclasses.replace(request, amount=stored.amount + 1)
        else:
            other = (
                TransferKind.PENDING if request.kind is TransferKind.POSTED else TransferKind.POSTED
            )
            request = dataclasses.replace(request, kind=other)
        before = self.snapshot()
        assert self.submit([request]) == [Code.EXISTS_WITH_DIFFERENT_FIELDS]
        assert self.snapshot() == before

    @precondition(lambda self: self.failed_requests)
    @rule(data=st.data(), smaller=st.booleans())
    def resubmit_failed(self, data: st.DataObject, smaller: bool) -> None:
        """An id that failed on balance stays failed, even when it would now succeed."""
        transfer_id = data.draw(st.sampled_from(sorted(self.failed_requests)), label="id")
        request = dataclasses.replace(self.failed_requests[transfer_id], linked=False)
        if smaller:
            request = dataclasses.replace(request, amount=1)
        assert self.submit([request]) == [Code.ID_ALREADY_FAILED]

    @rule(
        data=st.data(),
        sizes=st.lists(st.integers(2, 4), min_size=1, max_size=2),
        open_end=st.sampled_from([False] * 7 + [True]),
        follow_up=st.sampled_from(
            [None, None, TransferKind.POST_PENDING, TransferKind.VOID_PENDING]
        ),
    )
    def linked_chains(
        self,
        data: st.DataObject,
        sizes: list[int],
        open_end: bool,
        follow_up: TransferKind | None,
    ) -> None:
        """One batch of linked chains, maybe followed by a lone post or void of a hold.

        Each chain applies whole or not at all; one member is usually made to fail. A
        follow-up in the same batch must see the holds of a failed chain as they were before it.
        """
        batch: list[TransferRequest] = []
        batch_holds: list[str] = []
        chains: list[tuple[int, bool]] = []
        for number, size in enumerate(sizes):
            open_chain = open_end and follow_up is None and number == len(sizes) - 1
            batch.extend(self.build_chain(data, size, open_chain, batch_holds))
            chains.append((size, open_chain))
        if follow_up is not None:
            touched = [r.pending_id for r in batch if r.pending_id is not None] + batch_holds
            batch.append(self.resolution(data, follow_up, extra=touched * 4))
        results = self.submit(batch)
        offset = 0
        for size, open_chain in chains:
            codes = results[offset : offset + size]
            offset += size
            if open_chain:
                assert codes == [Code.LINKED_EVENT_FAILED] * (size - 1) + [
                    Code.LINKED_EVENT_CHAIN_OPEN
                ]
            elif not all(code.succeeded for code in codes):
                # Exactly one member says why; every other member was rolled back with it.
                reasons = [code for code in codes if code is not Code.LINKED_EVENT_FAILED]
                assert len(reasons) == 1
                assert not reasons[0].succeeded

    @precondition(lambda self: self.model.open_holds())
    @rule(
        data=st.data(),
        first=st.sampled_from([TransferKind.POST_PENDING, TransferKind.VOID_PENDING]),
        then=st.sampled_from([TransferKind.POST_PENDING, TransferKind.VOID_PENDING]),
    )
    def rolled_back_resolution(
        self, data: st.DataObject, first: TransferKind, then: TransferKind
    ) -> None:
        """A chain resolves a hold and then (usually) fails; the same batch then resolves it again.

        When the chain fails, the hold must be open again for the last request of the batch.
        """
        target = data.draw(st.sampled_from(self.model.open_holds()), label="hold")
        resolve = TransferRequest(
            id=self.new_id(), code=1, amount=None, kind=first, pending_id=target, linked=True
        )
        failing = self.failing_member(data, linked=False)
        again = dataclasses.replace(resolve, id=self.new_id(), kind=then, linked=False)
        self.submit([resolve, failing, again])

    def build_chain(
        self, data: st.DataObject, size: int, open_chain: bool, batch_holds: list[str]
    ) -> list[TransferRequest]:
        fail_at = data.draw(st.one_of(st.none(), st.integers(0, size - 1)), label="fail_at")
        chain: list[TransferRequest] = []
        for index in range(size):
            linked = index < size - 1 or open_chain
            if index == fail_at:
                request = self.failing_member(data, linked)
            else:
                shape = data.draw(
                    st.sampled_from(["fund", "pay", "hold", "post", "void"]), label="shape"
                )
                request = self.chain_member(data, shape, linked, batch_holds)
            if request.kind is TransferKind.PENDING:
                batch_holds.append(request.id)
            chain.append(request)
        return chain

    def chain_member(
        self, data: st.DataObject, shape: str, linked: bool, batch_holds: list[str]
    ) -> TransferRequest:
        """A member that may well succeed: funding, a payment, a hold, a post or a void."""
        if shape in ("post", "void"):
            kind = TransferKind.POST_PENDING if shape == "post" else TransferKind.VOID_PENDING
            return self.resolution(data, kind, linked=linked, extra=batch_holds * 3)
        payers = ("card",) if shape == "fund" else ("card", *USERS)
        debit = data.draw(st.sampled_from(payers), label="debit")
        credit = data.draw(
            st.sampled_from([u for u in (*USERS, "fx") if u != debit]), label="credit"
        )
        kind = TransferKind.PENDING if shape == "hold" else TransferKind.POSTED
        timeout = data.draw(st.sampled_from([0, 2]), label="timeout") if shape == "hold" else 0
        amount = data.draw(st.integers(1, 300), label="amount")
        return self.new_transfer(kind, debit, credit, amount, AUTO, timeout=timeout, linked=linked)

    def failing_member(self, data: st.DataObject, linked: bool) -> TransferRequest:
        """A member meant to fail: malformed, unknown, mismatched, overdrawn or a reused id.

        An overdraft or a refund can still succeed after a very large funding; the model decides.
        """
        how = data.draw(
            st.sampled_from(["zero", "ghost", "currency", "overdraft", "refund", "reuse"]),
            label="failure",
        )
        if how == "reuse" and self.applied_requests:
            transfer_id = data.draw(st.sampled_from(sorted(self.applied_requests)), label="reused")
            original = self.applied_requests[transfer_id]
            return dataclasses.replace(original, code=original.code % MAX_CODE + 1, linked=linked)
        if how == "zero":
            return self.new_transfer(TransferKind.POSTED, "card", "alice", 0, AUTO, linked=linked)
        if how == "ghost":
            return self.new_transfer(
                TransferKind.POSTED, "card", UNKNOWN_ACCOUNT, 5, AUTO, linked=linked
            )
        if how == "currency":
            return self.new_transfer(
                TransferKind.POSTED, "usd-card", "alice", 5, AUTO, linked=linked
            )
        if how == "refund":  # more back to the card than was ever taken from it
            return self.new_transfer(
                TransferKind.POSTED, "fx", "card", MAX_TRANSFER_AMOUNT, AUTO, linked=linked
            )
        user = data.draw(st.sampled_from(USERS), label="user")
        amount = min(MAX_TRANSFER_AMOUNT, max(1, self.model.spendable(user) + 1_000))
        return self.new_transfer(TransferKind.POSTED, user, "fx", amount, AUTO, linked=linked)

    # ------------------------------------------------------------------------ invariants

    @invariant()
    def ledger_matches_model(self) -> None:
        """Every account holds exactly what the model says, and its journal has as many entries."""
        stored = self.ledger.accounts(ACCOUNT_IDS)
        for account_id, expected in self.model.totals.items():
            account = stored[account_id]
            assert (
                account.debits_pending,
                account.debits_posted,
                account.credits_pending,
                account.credits_posted,
                account.journal_sequence,
            ) == (
                expected.debits_pending,
                expected.debits_posted,
                expected.credits_pending,
                expected.credits_posted,
                expected.postings,
            ), account_id
        for currency in {s.currency for s in ACCOUNTS}:
            same = [a for a in stored.values() if a.currency == currency]
            assert sum(a.credits_posted - a.debits_posted for a in same) == 0, currency
            assert sum(a.credits_pending - a.debits_pending for a in same) == 0, currency

    @invariant()
    def ledger_verifies(self) -> None:
        """``verify()`` finds no violation and counts what the model holds."""
        report = self.ledger.verify()
        assert report.ok, report.violations
        assert report.violation_count == 0
        assert report.violations == []
        assert report.transfers == len(self.model.applied)
        assert report.open_pending == len(self.model.open_holds())
        for currency, totals in report.currencies.items():
            assert totals.debits_posted == totals.credits_posted, currency
            assert totals.debits_pending == totals.credits_pending, currency


class SqliteLedgerMachine(LedgerMachine):
    """The same machine on a fresh SQLite file per example."""

    def open_database(self) -> Database:
        self.directory = Path(tempfile.mkdtemp(prefix="hongbao-model-"))
        return open_database(f"sqlite:///{self.directory / 'ledger.db'}")

    def teardown(self) -> None:
        try:
            super().teardown()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


# ----------------------------------------------------------------------------------- the tests


def test_ledger_matches_model_in_memory() -> None:
    """The in-memory ledger agrees with the reference model on every result and balance."""
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=60, stateful_step_count=40, deadline=None),
    )


@pytest.mark.slow
def test_ledger_matches_model_on_sqlite() -> None:
    """The SQLite adapter agrees with the reference model too (fewer, slower examples)."""
    run_state_machine_as_test(
        SqliteLedgerMachine,
        settings=settings(
            max_examples=10,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
