"""Idempotency-Key: a repeat of a POST returns the first response; money moves once.

The key is claimed first, in its own transaction (a row ``in_progress`` with a lease), so two
concurrent requests with one key cannot both run: the second waits for the first response and
returns it. The operation itself runs in the service's transaction and is idempotent on ids
derived from the key (a packet id, a recall key, a challenge id), so a first request that died
after moving money and before storing its response is repeated harmlessly once its lease ends.
A repeat with a different body is refused (``idempotency.key_reused``, 422). Responses of
refusals (4xx) are kept like successes; a fault (5xx) releases the key, so a retry runs again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from hongbao.entrypoints.http.codes import IdempotencyCode
from hongbao.entrypoints.http.errors import ApiError, error_body, status_for
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, Clock, is_due
from hongbao.platform.errors import HongbaoError
from hongbao.platform.i18n import Language
from hongbao.platform.idempotency import IdempotencyRecord, KeyState
from hongbao.platform.ids import is_valid_id
from hongbao.platform.invariants import invariant, present
from hongbao.storage.unit_of_work import Database, UnitOfWork

MAX_KEY_LENGTH: Final = 64
LEASE_SECONDS: Final = 30
WAIT_SECONDS: Final = 10.0
POLL_SECONDS: Final = 0.02


class _KeyBusy(Exception):
    """Another request holds the key in the two-step form: wait for its answer."""


class _AnsweredMeanwhile(Exception):
    """A concurrent request recorded its answer first: roll back and return that one."""


class _NotAdmitted(Exception):
    """The caller was refused before the key was looked at: roll back, answer ``error``."""

    def __init__(self, error: HongbaoError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: Any  # JSON value


def error_response(error: HongbaoError, language: Language) -> Response:
    """A refusal in the one error shape, as an answer a key can keep."""
    return Response(
        status_for(error), error_body(error.code, error.message, language, details=error.details)
    )


def request_hash(method: str, path: str, body: bytes, key: bytes) -> str:
    """What identifies a request under its key: a keyed hash (HMAC-SHA256), since a body may
    hold a secret with little entropy (a card number being added) and the hash is stored."""
    digest = hmac.new(key, digestmod=hashlib.sha256)
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str | None) -> str:
    if key is None:
        raise ApiError(
            "this request needs an Idempotency-Key header", code=IdempotencyCode.KEY_MISSING
        )
    if not is_valid_id(key) or len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            f"an Idempotency-Key is 1 to {MAX_KEY_LENGTH} letters, digits or ':._-/'",
            code=IdempotencyCode.KEY_INVALID,
        )
    return key


def _nothing() -> None:
    return None


def _admitted(check: Callable[[], None], authorize: Callable[[], None] = _nothing) -> None:
    """Run the caller's checks; a refusal is the request's answer, never the key's."""
    try:
        check()
        authorize()
    except HongbaoError as error:
        raise _NotAdmitted(error) from error


def _no_answer() -> Response | None:
    return None


@dataclass(frozen=True, slots=True)
class Prepared:
    """An operation on the money path whose reads are on their way, sent together with the
    caller's and the key's, and what the guard asks of it once one round trip answered them.

    ``step`` reads the answers, decides, writes and returns the response. ``authorize``: may
    this caller act on what the operation read (a recall's packet is the caller's)? ``kept``:
    the operation's own first answer under the key, for one that records its answers itself
    (``keeps_its_answers``: a recall's answers live on its record, the request's key being the
    recall's), so the key is recorded once. ``committed`` runs after the commit of the attempt
    that ran ``step``, once (for figures that must count once)."""

    step: Callable[[], Response]
    authorize: Callable[[], None] = _nothing
    kept: Callable[[], Response | None] = _no_answer
    keeps_its_answers: bool = False
    committed: Callable[[], None] = _nothing


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    """One request of a batch as the guard sees it: whose key, which key, which request."""

    principal: str
    key: str
    fingerprint: str


# An answer the batch form returns: the response, or a refusal about the key itself.
KeyedAnswer = Response | ApiError


def _key_reused() -> ApiError:
    return ApiError(
        "this Idempotency-Key was used for a different request", code=IdempotencyCode.KEY_REUSED
    )


def _in_progress() -> ApiError:
    return ApiError(
        "a request with this Idempotency-Key is still being processed; retry shortly",
        code=IdempotencyCode.IN_PROGRESS,
    )


@dataclass
class IdempotencyGuard:
    database: Database
    clock: Clock

    def run(
        self, principal: str, key: str, fingerprint: str, action: Callable[[], Response]
    ) -> Response:
        """The first response for (principal, key), running ``action`` only when it is new."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            claimed = self.database.transact(
                lambda uow: self._claim(uow, principal, key, fingerprint)
            )
            if isinstance(claimed, Response):
                return claimed
            if claimed:
                break
            if time.monotonic() >= deadline:
                raise _in_progress()
            time.sleep(POLL_SECONDS)
        try:
            response = action()
        except BaseException:
            self.database.transact(lambda uow: self._release(uow, principal, key))
            raise
        if response.status >= 500:
            self.database.transact(lambda uow: self._release(uow, principal, key))
            return response
        self.database.transact(lambda uow: self._finish(uow, principal, key, response))
        return response

    def run_in_transaction(
        self,
        principal: str,
        key: str,
        fingerprint: str,
        prepare: Callable[[UnitOfWork], Prepared],
        refused: Callable[[BaseException], Response | None],
        *,
        admit: Callable[[UnitOfWork], Callable[[], None]] | None = None,
    ) -> Response:
        """The money path's one form: the key's record and the operation's writes commit in
        one transaction, so there is one commit per request and no window in which money moved
        but the key does not know it.

        ``admit`` sends the caller's reads (a revoked token) and returns the check that reads
        them; the key's record is sent next; ``prepare`` sends the operation's reads. One round
        trip answers them all, then come, in this order: the caller's checks and the
        operation's ``authorize`` (their refusals are the request's answer, never the key's, so
        the key stays free for a caller who may use it), the key's first answer (or the
        operation's own), and only then the operation's step. What ``prepare`` found wrong with
        the request is answered after those checks too, as if found by the step.

        A concurrent first request with the same key runs too, on the same domain ids, and
        loses the race on the key's row (or the operation's own record): the database retries
        its whole transaction, which then finds and returns the first response. A refusal
        (``refused`` turns the error into an answer, or returns None for a fault) rolls the
        operation back and is kept as the key's answer in a transaction of its own."""
        ran: list[Prepared] = []

        def attempt(uow: UnitOfWork) -> Response:
            ran.clear()  # a retried attempt starts afresh
            caller_checked = admit(uow) if admit is not None else _nothing
            found = uow.api.idempotency.read_many([(principal, key)], lock=True)
            prepared = _prepared(prepare, uow)
            _admitted(caller_checked, prepared.authorize)
            record = found().get((principal, key))
            stored = _first_answer(record, fingerprint, self.clock.now_us()) or prepared.kept()
            if stored is not None:
                return stored
            response = prepared.step()
            if not prepared.keeps_its_answers:
                self._keep_first(uow, (principal, key, fingerprint), record, response)
            ran.append(prepared)
            return response

        def committed() -> None:
            for prepared in ran:
                prepared.committed()

        return self._answer(attempt, (principal, key, fingerprint), refused, committed)

    def _answer(
        self,
        attempt: Callable[[UnitOfWork], Response],
        keyed: tuple[str, str, str],
        refused: Callable[[BaseException], Response | None],
        committed: Callable[[], None],
    ) -> Response:
        """Run ``attempt`` in a transaction until it answers: refusals become the key's answer,
        a busy key is waited for (bounded), faults are raised; ``committed`` runs after the
        commit."""
        principal, key, fingerprint = keyed
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                response = self.database.transact(attempt)
            except _NotAdmitted as refusal:
                raise refusal.error from None
            except ApiError as error:
                if isinstance(error.code, IdempotencyCode):
                    raise  # about the key itself: never an answer to keep under it
                answer = refused(error)
                if answer is None:
                    raise
                return self._keep_refusal(principal, key, fingerprint, answer)
            except (_AnsweredMeanwhile, _KeyBusy) as busy:
                # Rolled back. Answered meanwhile: the next attempt returns the first answer;
                # busy: another request still holds the key, so wait for it (bounded).
                if time.monotonic() >= deadline:
                    raise _in_progress() from busy
                time.sleep(POLL_SECONDS)
            except Exception as error:
                answer = refused(error)
                if answer is None:
                    raise
                return self._keep_refusal(principal, key, fingerprint, answer)
            else:
                committed()
                return response

    def answer_many_in(
        self,
        uow: UnitOfWork,
        requests: Sequence[KeyedRequest],
        work: Callable[[list[int]], list[Response]],
    ) -> list[KeyedAnswer]:
        """The money path's batch form (group commit), inside the caller's unit of work:
        the keys are read and locked in one statement, ``work`` runs for the indexes of the
        requests whose keys are new (its responses, refusals included, in that order), and
        their records are written in one statement, all in the one transaction.

        A key met twice in one batch is answered once: the repeat gets the first answer (or
        ``key_reused`` for another body). A concurrent request with the same key elsewhere
        collides on the key's row; the database retries the whole batch, which then finds
        the first answer stored."""
        stored = uow.api.idempotency.get_many([(r.principal, r.key) for r in requests], lock=True)
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
                    answers[index] = _key_reused()
                continue
            first_of[pair] = index
            found = stored.get(pair)
            try:
                answer = _first_answer(found, request.fingerprint, now_us)
            except ApiError as refused:
                answers[index] = refused
                continue
            except _KeyBusy:
                answers[index] = _in_progress()
                continue
            if answer is not None:
                answers[index] = answer
                continue
            fresh.append(index)
            if found is not None:
                taken_over.add(pair)  # a first request of the two-step form died holding it
        responses = work(fresh) if fresh else []
        invariant(len(responses) == len(fresh), "work answers every new key")
        new_records: list[IdempotencyRecord] = []
        replaced: list[IdempotencyRecord] = []
        for index, response in zip(fresh, responses, strict=True):
            request = requests[index]
            answers[index] = response
            record = _done_record(
                request.principal, request.key, request.fingerprint, response, now_us
            )
            pair = (request.principal, request.key)
            (replaced if pair in taken_over else new_records).append(record)
        uow.api.idempotency.insert_many(new_records)
        uow.api.idempotency.replace_many(replaced)
        for index, first in repeats:
            answers[index] = answers[first]
        invariant(all(answer is not None for answer in answers), "every request is answered")
        return [answer for answer in answers if answer is not None]

    def _keep_refusal(
        self, principal: str, key: str, fingerprint: str, answer: Response
    ) -> Response:
        """A refusal becomes the key's answer, unless a concurrent request answered first."""
        return self.database.transact(
            lambda uow: (
                self._stored(uow, principal, key, fingerprint)
                or self._keep(uow, principal, key, fingerprint, answer)
            )
        )

    def _keep_first(
        self,
        uow: UnitOfWork,
        keyed: tuple[str, str, str],
        found: IdempotencyRecord | None,
        response: Response,
    ) -> None:
        """Record ``response`` under a key this attempt read (and locked, where it existed):
        a new key is inserted, and a concurrent request that answered it first makes the
        insert fail on the key, so the database retries the whole attempt, which then returns
        that first answer; a dead two-step request's record is taken over."""
        invariant(
            found is None or found.state is KeyState.IN_PROGRESS,
            "only a new key or a dead request's lease is answered",
        )
        principal, key, fingerprint = keyed
        record = _done_record(principal, key, fingerprint, response, self.clock.now_us())
        if found is None:
            uow.api.idempotency.insert(record)
        else:
            uow.api.idempotency.replace(record)

    def _stored(
        self, uow: UnitOfWork, principal: str, key: str, fingerprint: str
    ) -> Response | None:
        """The key's first response, None when the key is new; busy while another request
        of the older two-step form holds it."""
        found = uow.api.idempotency.lock(principal, key)
        return _first_answer(found, fingerprint, self.clock.now_us())

    def _keep(
        self, uow: UnitOfWork, principal: str, key: str, fingerprint: str, response: Response
    ) -> Response:
        """Record ``response`` as the key's answer. Never over another answer: a concurrent
        request that answered first (committed while this one worked) wins, and this
        transaction is rolled back and asked again (:class:`_AnsweredMeanwhile`)."""
        record = _done_record(principal, key, fingerprint, response, self.clock.now_us())
        found = uow.api.idempotency.lock(principal, key)
        if found is None:
            uow.api.idempotency.insert(record)  # a concurrent insert fails: retried, then read
        elif found.state is KeyState.IN_PROGRESS:
            uow.api.idempotency.replace(record)  # took over a dead two-step request's lease
        else:
            raise _AnsweredMeanwhile(key)
        return response

    def _claim(
        self, uow: UnitOfWork, principal: str, key: str, fingerprint: str
    ) -> Response | bool:
        """A stored response, True when this request now holds the key, False to wait."""
        now_us = self.clock.now_us()
        lease = now_us + LEASE_SECONDS * MICROSECONDS_PER_SECOND
        found = uow.api.idempotency.lock(principal, key)
        if found is None:
            uow.api.idempotency.insert(
                IdempotencyRecord(
                    principal, key, fingerprint, KeyState.IN_PROGRESS, None, None, now_us, lease
                )
            )
            return True
        try:
            answer = _first_answer(found, fingerprint, now_us)
        except _KeyBusy:
            return False
        if answer is not None:
            return answer
        uow.api.idempotency.replace(replace(found, lease_until_us=lease))  # the first one died
        return True

    def _finish(self, uow: UnitOfWork, principal: str, key: str, response: Response) -> None:
        found = uow.api.idempotency.lock(principal, key)
        if found is not None and found.state is KeyState.IN_PROGRESS:
            body = json.dumps(response.body, separators=(",", ":"), sort_keys=True)
            uow.api.idempotency.replace(
                replace(found, state=KeyState.DONE, status=response.status, body=body)
            )

    def _release(self, uow: UnitOfWork, principal: str, key: str) -> None:
        found = uow.api.idempotency.lock(principal, key)
        if found is not None and found.state is KeyState.IN_PROGRESS:
            # Expire the lease now rather than delete: record tables never delete rows.
            uow.api.idempotency.replace(replace(found, lease_until_us=self.clock.now_us()))


def _prepared(prepare: Callable[[UnitOfWork], Prepared], uow: UnitOfWork) -> Prepared:
    """``prepare``'s operation, or one whose step raises what ``prepare`` refused: a request's
    own faults are answered after the caller's and the key's checks, as if found by the step."""
    try:
        return prepare(uow)
    except HongbaoError as error:
        refusal = error

        def refuse() -> Response:
            raise refusal

        return Prepared(refuse)


def _first_answer(
    found: IdempotencyRecord | None, fingerprint: str, now_us: int
) -> Response | None:
    """What a key's record answers a request with ``fingerprint``: the first response; None
    when the request runs (a new key, or one whose first request died holding its lease);
    ``key_reused`` for another request; busy while a live first request holds it."""
    if found is None:
        return None
    if found.request_hash != fingerprint:
        raise _key_reused()
    if found.state is KeyState.DONE:
        status = present(found.status, "a done key has its response", key=found.idempotency_key)
        return Response(status, json.loads(found.body or "null"))
    if is_due(found.lease_until_us, now_us):
        return None
    raise _KeyBusy(found.idempotency_key)


def _done_record(
    principal: str, key: str, fingerprint: str, response: Response, now_us: int
) -> IdempotencyRecord:
    body = json.dumps(response.body, separators=(",", ":"), sort_keys=True)
    return IdempotencyRecord(
        principal, key, fingerprint, KeyState.DONE, response.status, body, now_us, now_us
    )
