"""The one write pipeline: a caller's key, its first answer and the change it answers, written
in one transaction and retried whole.

Every state-changing entry point goes through :class:`Pipeline`: the HTTP API (each POST, and
claims in batches), the command line (each command that writes) and the worker (a job's key
is its id). A request names its caller (the principal), its idempotency key and a fingerprint
of what it asks; :meth:`Pipeline.execute` then, in one transaction, runs the caller's checks,
reads the key's record, returns the first answer when there is one, or runs the operation and
keeps its answer under the key. The database retries the whole transaction on a conflict, so
two concurrent requests with one key move money once: the loser finds the winner's answer.

A refusal is an answer too: the transaction is rolled back and the refusal kept under the key
in a transaction of its own, so a retry gets the same refusal. A fault (a broken invariant, an
unavailable database) is never kept: it is raised, and a retry runs again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from hongbao.platform.clock import Clock, is_due
from hongbao.platform.errors import HongbaoError
from hongbao.platform.idempotency import IdempotencyCode, IdempotencyRecord, KeyState
from hongbao.platform.invariants import invariant, present
from hongbao.platform.records import RecordTable
from hongbao.platform.unit_of_work import Database

UnitOfWorkT = TypeVar("UnitOfWorkT")

WAIT_SECONDS: Final = 10.0
POLL_SECONDS: Final = 0.02


class KeyRefused(HongbaoError):
    """A refusal about the key itself (reused for another request, still in progress): the
    request's answer, never kept under the key."""

    code = IdempotencyCode.KEY_REUSED


class _KeyBusy(Exception):
    """A first request of an earlier build's two-step form holds the key: wait for it."""


class _AnsweredMeanwhile(Exception):
    """A concurrent request kept its answer first: roll back and return that one."""


class _NotAdmitted(Exception):
    """The caller was refused before the key was looked at: roll back, answer ``error``."""

    def __init__(self, error: HongbaoError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class Answer:
    """What a request is answered with and a repeat gets again: a status (an HTTP status on
    every entry point, so the command line and the API keep the same answers) and a JSON body."""

    status: int
    body: Any  # JSON value

    def encoded(self) -> bytes:
        """The body's bytes, the same for the first answer and every repeat."""
        return encode_body(self.body)


def encode_body(body: Any) -> bytes:
    """JSON as kept and as sent: compact, Chinese as itself, keys in the order written."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Keyed:
    """Whose key, which key, and which request (a fingerprint of what it asks)."""

    principal: str
    key: str
    fingerprint: str


def _nothing() -> None:
    return None


def _no_answer() -> Answer | None:
    return None


@dataclass(frozen=True, slots=True)
class Prepared:
    """An operation whose reads are on their way (sent with the caller's and the key's, so one
    round trip answers all three), and what the pipeline asks of it once they are answered.

    ``step`` reads the answers, decides, writes and returns the answer. ``authorize``: may this
    caller act on what the operation read? ``kept``: the operation's own first answer, for one
    that keeps its answers itself (``keeps_its_answers``: a recall's answers live on its
    record), so the key is recorded once. ``committed`` runs once, after the commit of the
    attempt that ran ``step``."""

    step: Callable[[], Answer]
    authorize: Callable[[], None] = _nothing
    kept: Callable[[], Answer | None] = _no_answer
    keeps_its_answers: bool = False
    committed: Callable[[], None] = _nothing


# A request's refusal as its answer, or None for a fault (never kept, raised).
Refused = Callable[[HongbaoError], Answer | None]
# An answer of the batch form: the answer, or a refusal about the key itself.
KeyedAnswer = Answer | KeyRefused


def key_reused() -> KeyRefused:
    return KeyRefused(
        "this idempotency key was used for a different request", code=IdempotencyCode.KEY_REUSED
    )


def key_in_progress() -> KeyRefused:
    return KeyRefused(
        "a request with this idempotency key is still being processed; retry shortly",
        code=IdempotencyCode.IN_PROGRESS,
    )


@dataclass
class Pipeline(Generic[UnitOfWorkT]):
    """Runs state-changing requests once per (principal, key), each in one transaction."""

    database: Database[UnitOfWorkT]
    clock: Clock
    keys_of: Callable[[UnitOfWorkT], RecordTable[IdempotencyRecord]]

    def execute(
        self,
        keyed: Keyed,
        prepare: Callable[[UnitOfWorkT], Prepared],
        refused: Refused,
        *,
        admit: Callable[[UnitOfWorkT], Callable[[], None]] | None = None,
    ) -> Answer:
        """The first answer for ``keyed``, running the operation only when the key is new.

        ``admit`` sends the caller's reads (a revoked token) and returns the check that reads
        them; the key's record is sent next; ``prepare`` sends the operation's reads. Then, in
        this order: the caller's checks and the operation's ``authorize`` (their refusals are
        the request's answer, never the key's, so the key stays free for a caller who may use
        it), the key's first answer (or the operation's own), and only then the step. What
        ``prepare`` found wrong with the request is answered after those checks too."""
        ran: list[Prepared] = []

        def attempt(uow: UnitOfWorkT) -> Answer:
            ran.clear()  # a retried attempt starts afresh
            caller_checked = admit(uow) if admit is not None else _nothing
            keys = self.keys_of(uow)
            found = keys.read_many([(keyed.principal, keyed.key)], lock=True)
            prepared = _prepared(prepare, uow)
            _admitted(caller_checked, prepared.authorize)
            record = found().get((keyed.principal, keyed.key))
            stored = _first_answer(record, keyed.fingerprint, self.clock.now_us())
            stored = stored or prepared.kept()
            if stored is not None:
                return stored
            answer = prepared.step()
            if not prepared.keeps_its_answers:
                self._keep_first(keys, keyed, record, answer)
            ran.append(prepared)
            return answer

        def committed() -> None:
            for prepared in ran:
                prepared.committed()

        return self._answer(attempt, keyed, refused, committed)

    def execute_many_in(
        self,
        uow: UnitOfWorkT,
        requests: Sequence[Keyed],
        work: Callable[[list[int]], list[Answer]],
    ) -> list[KeyedAnswer]:
        """The batching mode (group commit), inside the caller's unit of work: the keys are
        read and locked in one statement, ``work`` runs for the indexes of the requests whose
        keys are new (its answers, refusals included, in that order), and their records are
        written in one statement, all in the one transaction.

        A key met twice in one batch is answered once: the repeat gets the first answer (or
        ``key_reused`` for another request). A concurrent request with the same key elsewhere
        collides on the key's row; the database retries the whole batch, which then finds
        the first answer kept."""
        keys = self.keys_of(uow)
        stored = keys.get_many([(r.principal, r.key) for r in requests], lock=True)
        now_us = self.clock.now_us()
        answers: list[KeyedAnswer | None] = [None] * len(requests)
        fresh: list[int] = []
        taken_over: set[tuple[str, str]] = set()
        first_of: dict[tuple[str, str], int] = {}
        repeats: list[tuple[int, int]] = []
        for index, request in enumerate(requests):
            pair = (request.principal, request.key)
            if pair in first_of:
                first = first_of[pair]
                if requests[first].fingerprint == request.fingerprint:
                    repeats.append((index, first))
                else:
                    answers[index] = key_reused()
                continue
            first_of[pair] = index
            found = stored.get(pair)
            try:
                answer = _first_answer(found, request.fingerprint, now_us)
            except KeyRefused as refused:
                answers[index] = refused
                continue
            except _KeyBusy:
                answers[index] = key_in_progress()
                continue
            if answer is not None:
                answers[index] = answer
                continue
            fresh.append(index)
            if found is not None:
                taken_over.add(pair)  # a first request of the two-step form died holding it
        fresh_answers = work(fresh) if fresh else []
        invariant(len(fresh_answers) == len(fresh), "work answers every new key")
        new_records: list[IdempotencyRecord] = []
        replaced: list[IdempotencyRecord] = []
        for index, answer in zip(fresh, fresh_answers, strict=True):
            answers[index] = answer
            record = _done_record(requests[index], answer, now_us)
            pair = (requests[index].principal, requests[index].key)
            (replaced if pair in taken_over else new_records).append(record)
        keys.insert_many(new_records)
        keys.replace_many(replaced)
        for index, first in repeats:
            answers[index] = answers[first]
        invariant(all(answer is not None for answer in answers), "every request is answered")
        return [answer for answer in answers if answer is not None]

    def _answer(
        self,
        attempt: Callable[[UnitOfWorkT], Answer],
        keyed: Keyed,
        refused: Refused,
        committed: Callable[[], None],
    ) -> Answer:
        """Run ``attempt`` in a transaction until it answers: refusals become the key's answer,
        a busy key is waited for (bounded), faults are raised; ``committed`` runs after the
        commit."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                answer = self.database.transact(attempt)
            except _NotAdmitted as refusal:
                raise refusal.error from None
            except KeyRefused:
                raise  # about the key itself: never an answer to keep under it
            except (_AnsweredMeanwhile, _KeyBusy) as busy:
                # Rolled back. Answered meanwhile: the next attempt returns the first answer;
                # busy: another request still holds the key, so wait for it (bounded).
                if time.monotonic() >= deadline:
                    raise key_in_progress() from busy
                time.sleep(POLL_SECONDS)
            except HongbaoError as error:
                kept = refused(error)
                if kept is None:
                    raise
                return self._keep_refusal(keyed, kept)
            else:
                committed()
                return answer

    def _keep_refusal(self, keyed: Keyed, answer: Answer) -> Answer:
        """A refusal becomes the key's answer, unless a concurrent request answered first."""

        def keep(uow: UnitOfWorkT) -> Answer:
            keys = self.keys_of(uow)
            found = keys.lock(keyed.principal, keyed.key)
            first = _first_answer(found, keyed.fingerprint, self.clock.now_us())
            if first is not None:
                return first
            self._keep_first(keys, keyed, found, answer)
            return answer

        return self.database.transact(keep)

    def _keep_first(
        self,
        keys: RecordTable[IdempotencyRecord],
        keyed: Keyed,
        found: IdempotencyRecord | None,
        answer: Answer,
    ) -> None:
        """Record ``answer`` under a key this attempt read (and locked, where it existed):
        a new key is inserted, and a concurrent request that answered it first makes the
        insert fail on the key, so the database retries the whole attempt, which then returns
        that first answer; a dead two-step request's record is taken over."""
        invariant(
            found is None or found.state is KeyState.IN_PROGRESS,
            "only a new key or a dead request's lease is answered",
        )
        record = _done_record(keyed, answer, self.clock.now_us())
        if found is None:
            keys.insert(record)
        else:
            keys.replace(record)


def _admitted(check: Callable[[], None], authorize: Callable[[], None]) -> None:
    """Run the caller's checks; a refusal is the request's answer, never the key's."""
    try:
        check()
        authorize()
    except HongbaoError as error:
        raise _NotAdmitted(error) from error


def _prepared(prepare: Callable[[UnitOfWorkT], Prepared], uow: UnitOfWorkT) -> Prepared:
    """``prepare``'s operation, or one whose step raises what ``prepare`` refused: a request's
    own faults are answered after the caller's and the key's checks, as if found by the step."""
    try:
        return prepare(uow)
    except HongbaoError as error:
        refusal = error

        def refuse() -> Answer:
            raise refusal

        return Prepared(refuse)


def _first_answer(found: IdempotencyRecord | None, fingerprint: str, now_us: int) -> Answer | None:
    """What a key's record answers a request with ``fingerprint``: the first answer; None
    when the request runs (a new key, or one whose first request died holding its lease);
    ``key_reused`` for another request; busy while a live first request holds it."""
    if found is None:
        return None
    if found.request_hash != fingerprint:
        raise key_reused()
    if found.state is KeyState.DONE:
        status = present(found.status, "a done key has its answer", key=found.idempotency_key)
        return Answer(status, json.loads(found.body or "null"))
    if is_due(found.lease_until_us, now_us):
        return None
    raise _KeyBusy(found.idempotency_key)


def _done_record(keyed: Keyed, answer: Answer, now_us: int) -> IdempotencyRecord:
    return IdempotencyRecord(
        keyed.principal,
        keyed.key,
        keyed.fingerprint,
        KeyState.DONE,
        answer.status,
        answer.encoded().decode(),
        now_us,
        now_us,
    )
