"""The API served by uvicorn on a free local port (real HTTP, real streaming), on each storage
adapter, with the demo population funded; and transports that lose answers or connections."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn

from hongbao.bootstrap import services_for
from hongbao.client import Client
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.tokens import TokenSigner
from hongbao.entrypoints.http.context import ApiContext, ApiSettings
from hongbao.entrypoints.http.server import prepare_demo
from hongbao.entrypoints.http.stream import StreamSettings
from hongbao.platform.clock import ManualClock
from hongbao.storage.unit_of_work import Database

SECRET = b"test secret for hongbao client tests, 32+ bytes"
START_SECONDS = 10.0


@dataclass
class Served:
    """The running API: its address, the context behind it and a token per person."""

    url: str
    context: ApiContext
    clock: ManualClock
    tokens: dict[str, str]
    sleeps: list[float] = field(default_factory=list)

    def client(self, who: str, transport: httpx.BaseTransport | None = None) -> Client:
        """A client for ``who`` that records its waits instead of sleeping them."""
        http = httpx.Client(base_url=self.url, transport=transport, timeout=10.0)
        return Client(http=http, token=self.tokens[who], sleep=self.sleeps.append)

    def balance(self, user: str) -> int:
        return self.context.services.ledger.account(f"user:{user}:balance").credit_balance


@pytest.fixture
def served(database: Database, clock: ManualClock) -> Iterator[Served]:
    context = ApiContext(services_for(database, clock), TokenSigner(SECRET), ApiSettings())
    tokens = {entry.principal.subject: entry.token for entry in prepare_demo(context)}
    app = create_app(context)
    app.state.stream_settings = StreamSettings(poll_seconds=0.01, keepalive_seconds=0.05)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield Served(f"http://127.0.0.1:{listener.getsockname()[1]}", context, clock, tokens)
    finally:
        server.should_exit = True
        thread.join(START_SECONDS)
        listener.close()


class CutStream(httpx.SyncByteStream):
    """A response body that breaks off after ``cut`` bytes, as a dropped connection does."""

    def __init__(self, inner: httpx.SyncByteStream, cut: int) -> None:
        self.inner, self.cut = inner, cut

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for chunk in self.inner:
            if sent + len(chunk) >= self.cut:
                yield chunk[: self.cut - sent]
                raise httpx.ReadError("the connection dropped")
            sent += len(chunk)
            yield chunk

    def close(self) -> None:
        self.inner.close()


class LossyStreams(httpx.BaseTransport):
    """Every event stream's connection drops after a random number of bytes (up to ``most``)."""

    def __init__(self, dice: random.Random, most: int = 300) -> None:
        self.inner = httpx.HTTPTransport()
        self.dice, self.most = dice, most
        self.drops = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith("/events") or response.status_code != 200:
            return response
        self.drops += 1
        assert isinstance(response.stream, httpx.SyncByteStream)
        cut = CutStream(response.stream, self.dice.randint(1, self.most))
        return httpx.Response(response.status_code, headers=response.headers, stream=cut)

    def close(self) -> None:
        self.inner.close()


class LostAnswers(httpx.BaseTransport):
    """The request reaches the server, which does the work; its answer never comes back, for
    the first ``lose`` requests. The client only sees the connection fail."""

    def __init__(self, lose: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.lose = lose
        self.seen: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        response = self.inner.handle_request(request)
        response.read()
        if len(self.seen) <= self.lose:
            raise httpx.ReadError("the answer was lost on the way back")
        return response


class Scripted(httpx.BaseTransport):
    """Answers from a script first (status, headers, body), then passes requests through."""

    def __init__(self, script: list[tuple[int, dict[str, str], bytes]]) -> None:
        self.inner = httpx.HTTPTransport()
        self.script = list(script)
        self.seen: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        request.read()
        if self.script:
            status, headers, body = self.script.pop(0)
            return httpx.Response(status, headers=headers, content=body, request=request)
        return self.inner.handle_request(request)


class AsyncCutStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, cut: int) -> None:
        self.inner, self.cut = inner, cut

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in self.inner:
            if sent + len(chunk) >= self.cut:
                yield chunk[: self.cut - sent]
                raise httpx.ReadError("the connection dropped")
            sent += len(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


class AsyncLossy(httpx.AsyncBaseTransport):
    """The async twin of :class:`LossyStreams`, which can also lose the first answers."""

    def __init__(self, dice: random.Random, most: int = 300, lose: int = 0) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.dice, self.most, self.lose = dice, most, lose
        self.drops = 0
        self.seen: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        response = await self.inner.handle_async_request(request)
        if len(self.seen) <= self.lose:
            await response.aread()
            raise httpx.ReadError("the answer was lost on the way back")
        if not request.url.path.endswith("/events") or response.status_code != 200:
            return response
        self.drops += 1
        assert isinstance(response.stream, httpx.AsyncByteStream)
        cut = AsyncCutStream(response.stream, self.dice.randint(1, self.most))
        return httpx.Response(response.status_code, headers=response.headers, stream=cut)

    async def aclose(self) -> None:
        await self.inner.aclose()
