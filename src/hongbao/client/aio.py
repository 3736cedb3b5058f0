"""The async client (asyncio, or trio through anyio): the methods of the blocking
:class:`hongbao.client.Client`, awaited."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from datetime import datetime
from types import TracebackType
from typing import TypeVar

import anyio
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


class AsyncClient:
    """A hongbao API client for one bearer token.

    ``AsyncClient("http://127.0.0.1:8000", token=...)`` opens its own connection pool (close it,
    or use ``async with``); ``AsyncClient(http=some_httpx_async_client, token=...)`` uses the
    given one (``httpx.AsyncClient(transport=httpx.ASGITransport(app))`` in tests), left open.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        http: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        language: str = "zh-CN",
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if http is None and base_url is None:
            raise ValueError("give the API's base_url, or an httpx.AsyncClient to use")
        self._owns_http = http is None
        self.http = (
            http
            if http is not None
            else httpx.AsyncClient(base_url=base_url or "", timeout=timeout)
        )
        self.token = token
        self.retry = retry or RetryPolicy()
        self.language = language
        self._sleep = sleep

    def with_token(self, token: str) -> AsyncClient:
        """Another caller over the same connections (closing it leaves them open)."""
        return AsyncClient(
            http=self.http, token=token, retry=self.retry, language=self.language, sleep=self._sleep
        )

    async def close(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def run(self, call: Call[T]) -> T:
        """Send ``call``, retrying what is safe to retry (:mod:`hongbao.client.retry`)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.http.request(
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
                await self._sleep(wait)
                continue
            if response.is_success:
                return parse_answer(call, response)
            refusal = ApiError.of(response)
            retry_after = response.headers.get("Retry-After")
            wait = self.retry.after_answer(attempt, refusal.status, refusal.code, retry_after)
            if wait is None:
                raise refusal
            await self._sleep(wait)

    # -------------------------------------------------------------------------- packets

    async def send_packet(
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
        return await self.run(
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

    async def cancel_scheduled(self, packet_id: str, *, key: str | None = None) -> models.Packet:
        """Cancel a delayed send before its delivery: free, the reserved money released."""
        return await self.run(calls.cancel_scheduled(packet_id, key))

    async def guard_decision(self, decision_id: str) -> models.GuardDecision:
        return await self.run(calls.guard_decision(decision_id))

    async def claim(self, packet_id: str, *, key: str | None = None) -> models.Claim:
        return await self.run(calls.claim(packet_id, key))

    async def packet(self, packet_id: str) -> models.Packet:
        return await self.run(calls.packet(packet_id))

    async def claims(self, packet_id: str) -> list[models.Share]:
        return await self.run(calls.claims(packet_id))

    async def history(self, packet_id: str) -> PacketHistory:
        """The packet's hash-chained history, as the server sends it (participants only)."""
        return await self.run(calls.history(packet_id))

    async def verify_history(self, packet_id: str) -> Verdict:
        """Fetch the packet's history and recompute every hash here: intact, or the first
        broken entry and why."""
        return verify(await self.history(packet_id))

    # -------------------------------------------------------------------------- recalls

    async def recall_eligibility(self, packet_id: str) -> models.Eligibility:
        return await self.run(calls.recall_eligibility(packet_id))

    async def recall(
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
        return await self.run(calls.recall(packet_id, key, challenge_ids, accept_balance, place))

    async def recall_status(self, recall_key: str) -> models.Recall:
        return await self.run(calls.recall_status(recall_key))

    async def decision(self, decision_id: str) -> models.Decision:
        return await self.run(calls.decision(decision_id))

    async def create_challenge(
        self,
        kind: str,
        purpose: str,
        *,
        corporate_account: str | None = None,
        key: str | None = None,
    ) -> models.Challenge:
        return await self.run(calls.create_challenge(kind, purpose, corporate_account, key))

    async def challenge(self, challenge_id: str) -> models.Challenge:
        return await self.run(calls.challenge(challenge_id))

    async def answer_challenge(
        self, challenge_id: str, *, purpose: str, answer: str, key: str | None = None
    ) -> models.Answer:
        return await self.run(calls.answer_challenge(challenge_id, purpose, answer, key))

    async def unlock_device(
        self, challenge_id: str, *, key: str | None = None
    ) -> models.DeviceLock:
        """Unlock this device, locked by risk control, with a passed face check opened on it
        for ``"unlock:<device id>"``."""
        return await self.run(calls.unlock_device(challenge_id, key))

    # -------------------------------------------------------------------------- refunds, me

    async def refund(self, refund_id: str) -> models.Refund:
        return await self.run(calls.refund(refund_id))

    async def my_refunds(self, *, limit: int = 100) -> list[models.Refund]:
        return await self.run(calls.refunds_of((await self.me()).subject, limit))

    async def me(self) -> models.Me:
        return await self.run(calls.me())

    # -------------------------------------------------------------------------- events

    def events(
        self, packet_id: str, *, after: int = 0, follow: bool = True, max_events: int | None = None
    ) -> AsyncIterator[Event]:
        """The packet's events after ``after``, resuming after the last one received whenever
        the connection drops. ``follow=False`` ends once the events there are now are read;
        otherwise it waits for more, until ``max_events`` or until the caller stops."""
        path = calls.events_path(packet_id)
        return self._follow(Resumption(path, after, follow, max_events, self.retry))

    def my_events(
        self, *, after: int = 0, follow: bool = True, max_events: int | None = None
    ) -> AsyncIterator[Event]:
        """The caller's own feed (``/v1/me/events``), like :meth:`events`."""
        return self._follow(Resumption(calls.MY_EVENTS, after, follow, max_events, self.retry))

    async def _follow(self, state: Resumption) -> AsyncIterator[Event]:
        while True:
            parser = SseParser()
            try:
                async with self.http.stream(
                    "GET",
                    state.path,
                    params=state.params(),
                    headers={**headers_for(None, self.token, self.language), **state.headers()},
                ) as response:
                    if response.status_code != 200:
                        await response.aread()
                        await self._sleep(state.refused(response))
                        continue
                    async with aclosing(_events_in(parser, response)) as events:
                        async for event in events:
                            yield event
                            if state.took(event):
                                return
            except httpx.TransportError as error:
                await self._sleep(state.failed(error))
                continue
            wait = state.ended(parser.retry_ms)
            if wait is None:
                return
            await self._sleep(wait)

    # -------------------------------------------------------------------------- operators

    async def challenge_code(self, challenge_id: str) -> models.ChallengeCode:
        return await self.run(calls.challenge_code(challenge_id))

    async def ledger_verify(self) -> models.LedgerVerification:
        return await self.run(calls.ledger_verify())

    async def refunds_in_state(self, state: str, *, limit: int = 100) -> list[models.Refund]:
        return await self.run(calls.refunds_in_state(state, limit))

    async def credit_refund(self, refund_id: str, *, key: str | None = None) -> models.Refund:
        return await self.run(calls.credit_refund(refund_id, key))

    async def issue_token(
        self,
        subject: str,
        *,
        role: str = "user",
        device_id: str | None = None,
        sim_id: str | None = None,
        lifetime_seconds: int = 24 * 3600,
        key: str | None = None,
    ) -> models.IssuedToken:
        return await self.run(
            calls.issue_token(
                subject,
                role=role,
                device_id=device_id,
                sim_id=sim_id,
                lifetime_seconds=lifetime_seconds,
                key=key,
            )
        )

    async def revoke_token(self, token: str, *, key: str | None = None) -> models.RevokedToken:
        return await self.run(calls.revoke_token(token, key))


async def _events_in(parser: SseParser, response: httpx.Response) -> AsyncGenerator[Event, None]:
    async for chunk in response.aiter_bytes():
        for event in feed(parser, chunk, response.status_code):
            yield event
    for event in feed(parser, None, response.status_code):
        yield event
