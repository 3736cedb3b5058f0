"""The blocking client. Its methods mirror :class:`hongbao.client.AsyncClient` one for one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import TypeVar

import httpx

from hongbao.client import calls, models
from hongbao.client.calls import Call
from hongbao.client.errors import ApiError
from hongbao.client.history import PacketHistory, Verdict, verify
from hongbao.client.resume import Resumption
from hongbao.client.retry import RetryPolicy
from hongbao.client.sse import Event, SseParser
from hongbao.client.transport import feed, headers_for, parse_answer
from hongbao.money import Money

T = TypeVar("T")
DEFAULT_TIMEOUT = 10.0


class Client:
    """A hongbao API client for one bearer token.

    ``Client("http://127.0.0.1:8000", token=...)`` opens its own connection pool (close it, or
    use ``with``); ``Client(http=some_httpx_client, token=...)`` uses the given one (a
    ``fastapi.testclient.TestClient`` in tests) and leaves it open.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        http: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        language: str = "zh-CN",
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if http is None and base_url is None:
            raise ValueError("give the API's base_url, or an httpx.Client to use")
        self._owns_http = http is None
        if http is None:
            http = httpx.Client(base_url=base_url or "", timeout=timeout)
        self.http = http
        self.token = token
        self.retry = retry or RetryPolicy()
        self.language = language
        self._sleep = sleep

    def with_token(self, token: str) -> Client:
        """Another caller over the same connections (closing it leaves them open)."""
        return Client(
            http=self.http, token=token, retry=self.retry, language=self.language, sleep=self._sleep
        )

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def run(self, call: Call[T]) -> T:
        """Send ``call``, retrying what is safe to retry (:mod:`hongbao.client.retry`)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.http.request(
                    call.method,
                    call.path,
                    content=call.body,
                    params=call.params,
                    headers=headers_for(call, self.token, self.language),
                )
            except httpx.TransportError as error:
                wait = self.retry.after_failure(attempt)
                if wait is None:
                    raise ApiError.unreachable(error) from error
                self._sleep(wait)
                continue
            if response.is_success:
                return parse_answer(call, response)
            refusal = ApiError.of(response)
            retry_after = response.headers.get("Retry-After")
            wait = self.retry.after_answer(attempt, refusal.status, refusal.code, retry_after)
            if wait is None:
                raise refusal
            self._sleep(wait)

    # -------------------------------------------------------------------------- packets

    def send_packet(
        self,
        *,
        type: str,
        amount: str | Money,
        shares: int,
        funding_source_id: str,
        group_id: str | None = None,
        recipient_id: str | None = None,
        currency: str = "CNY",
        key: str | None = None,
        confirm: bool = False,
        deliver_at: datetime | None = None,
    ) -> models.Packet:
        """A risky send (R-B1) raises ``ApiError`` ``packets.confirmation_needed``: send it
        again with the same ``key`` and ``confirm=True``, or a ``deliver_at``."""
        return self.run(
            calls.send_packet(
                type,
                amount,
                shares,
                funding_source_id,
                group_id=group_id,
                recipient_id=recipient_id,
                currency=currency,
                key=key,
                confirm=confirm,
                deliver_at=deliver_at,
            )
        )

    def cancel_scheduled(self, packet_id: str, *, key: str | None = None) -> models.Packet:
        """Cancel a delayed send before its delivery: free, the reserved money released."""
        return self.run(calls.cancel_scheduled(packet_id, key))

    def guard_decision(self, decision_id: str) -> models.GuardDecision:
        return self.run(calls.guard_decision(decision_id))

    def claim(self, packet_id: str, *, key: str | None = None) -> models.Claim:
        return self.run(calls.claim(packet_id, key))

    def packet(self, packet_id: str) -> models.Packet:
        return self.run(calls.packet(packet_id))

    def claims(self, packet_id: str) -> list[models.Share]:
        return self.run(calls.claims(packet_id))

    def history(self, packet_id: str) -> PacketHistory:
        """The packet's hash-chained history, as the server sends it (participants only)."""
        return self.run(calls.history(packet_id))

    def verify_history(self, packet_id: str) -> Verdict:
        """Fetch the packet's history and recompute every hash here: intact, or the first
        broken entry and why."""
        return verify(self.history(packet_id))

    # -------------------------------------------------------------------------- recalls

    def recall_eligibility(self, packet_id: str) -> models.Eligibility:
        return self.run(calls.recall_eligibility(packet_id))

    def recall(
        self,
        packet_id: str,
        *,
        key: str | None = None,
        challenge_ids: Sequence[str] = (),
        accept_balance: bool = False,
        place: str | None = None,
    ) -> models.Recall:
        """The key is the recall's: pass the returned ``recall_key`` again with the passed
        challenge ids (or ``accept_balance``) to carry a challenged recall on. ``place`` is
        where the device is, ``"lat,lon"`` in decimal degrees (None: unknown)."""
        return self.run(calls.recall(packet_id, key, challenge_ids, accept_balance, place))

    def recall_status(self, recall_key: str) -> models.Recall:
        return self.run(calls.recall_status(recall_key))

    def decision(self, decision_id: str) -> models.Decision:
        return self.run(calls.decision(decision_id))

    def create_challenge(
        self,
        kind: str,
        purpose: str,
        *,
        corporate_account: str | None = None,
        key: str | None = None,
    ) -> models.Challenge:
        return self.run(calls.create_challenge(kind, purpose, corporate_account, key))

    def challenge(self, challenge_id: str) -> models.Challenge:
        return self.run(calls.challenge(challenge_id))

    def answer_challenge(
        self, challenge_id: str, *, purpose: str, answer: str, key: str | None = None
    ) -> models.Answer:
        return self.run(calls.answer_challenge(challenge_id, purpose, answer, key))

    def unlock_device(self, challenge_id: str, *, key: str | None = None) -> models.DeviceLock:
        """Unlock this device, locked by risk control, with a passed face check opened on it
        for ``"unlock:<device id>"``."""
        return self.run(calls.unlock_device(challenge_id, key))

    # -------------------------------------------------------------------------- refunds, me

    def refund(self, refund_id: str) -> models.Refund:
        return self.run(calls.refund(refund_id))

    def my_refunds(self, *, limit: int = 100) -> list[models.Refund]:
        return self.run(calls.refunds_of(self.me().subject, limit))

    def me(self) -> models.Me:
        return self.run(calls.me())

    # -------------------------------------------------------------------------- events

    def events(
        self, packet_id: str, *, after: int = 0, follow: bool = True, max_events: int | None = None
    ) -> Iterator[Event]:
        """The packet's events after ``after``, resuming after the last one received whenever
        the connection drops. ``follow=False`` ends once the events there are now are read;
        otherwise it waits for more, until ``max_events`` or until the caller stops."""
        path = calls.events_path(packet_id)
        return self._follow(Resumption(path, after, follow, max_events, self.retry))

    def my_events(
        self, *, after: int = 0, follow: bool = True, max_events: int | None = None
    ) -> Iterator[Event]:
        """The caller's own feed (``/v1/me/events``), like :meth:`events`."""
        return self._follow(Resumption(calls.MY_EVENTS, after, follow, max_events, self.retry))

    def _follow(self, state: Resumption) -> Iterator[Event]:
        while True:
            parser = SseParser()
            try:
                with self.http.stream(
                    "GET",
                    state.path,
                    params=state.params(),
                    headers={**headers_for(None, self.token, self.language), **state.headers()},
                ) as response:
                    if response.status_code != 200:
                        response.read()
                        self._sleep(state.refused(response))
                        continue
                    for event in _events_in(parser, response):
                        yield event
                        if state.took(event):
                            return
            except httpx.TransportError as error:
                self._sleep(state.failed(error))
                continue
            wait = state.ended(parser.retry_ms)
            if wait is None:
                return
            self._sleep(wait)

    # -------------------------------------------------------------------------- operators

    def challenge_code(self, challenge_id: str) -> models.ChallengeCode:
        return self.run(calls.challenge_code(challenge_id))

    def ledger_verify(self) -> models.LedgerVerification:
        return self.run(calls.ledger_verify())

    def refunds_in_state(self, state: str, *, limit: int = 100) -> list[models.Refund]:
        return self.run(calls.refunds_in_state(state, limit))

    def credit_refund(self, refund_id: str, *, key: str | None = None) -> models.Refund:
        return self.run(calls.credit_refund(refund_id, key))

    def issue_token(
        self,
        subject: str,
        *,
        role: str = "user",
        device_id: str | None = None,
        sim_id: str | None = None,
        lifetime_seconds: int = 24 * 3600,
        key: str | None = None,
    ) -> models.IssuedToken:
        return self.run(
            calls.issue_token(
                subject,
                role=role,
                device_id=device_id,
                sim_id=sim_id,
                lifetime_seconds=lifetime_seconds,
                key=key,
            )
        )

    def revoke_token(self, token: str, *, key: str | None = None) -> models.RevokedToken:
        return self.run(calls.revoke_token(token, key))


def _events_in(parser: SseParser, response: httpx.Response) -> Iterator[Event]:
    for chunk in response.iter_bytes():
        yield from feed(parser, chunk, response.status_code)
    yield from feed(parser, None, response.status_code)
