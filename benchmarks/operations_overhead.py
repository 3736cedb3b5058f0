"""What the operations layer adds to a request: the middleware and the principal hook.

Apps are called directly over ASGI (no sockets, no HTTP client), one request after another:

- the middleware around a minimal ASGI app that answers at once, with and without it: its own
  cost (request id, admission slot, route template, latency histogram, money-path window, log
  line), with logging off (as in tests) and on (JSON lines to /dev/null);
- the whole app (FastAPI routing, dependencies) with and without the middleware, for scale;
- ``Operations.admit``, run by the principal dependency: both rate-limit buckets and the
  device label (a cache hit).

    .venv/bin/python benchmarks/operations_overhead.py --requests 20000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from hongbao.bootstrap import services_for
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.tokens import Role, TokenSigner
from hongbao.entrypoints.http.context import ApiContext, ApiSettings
from hongbao.entrypoints.ops.middleware import OperationsMiddleware
from hongbao.entrypoints.ops.observability import RequestRecord, begin_request, configure_logging
from hongbao.entrypoints.ops.operations import Operations, OperationsSettings
from hongbao.platform.clock import SystemClock
from hongbao.testing import InMemoryDatabase

SECRET = b"benchmark secret for hongbao api tokens, 32+ bytes"
ROUNDS = 5
PATH = "/v1/bench"
App = Callable[..., Any]


class _Route:
    path = PATH


async def minimal(scope: dict[str, Any], receive: App, send: App) -> None:
    scope["route"] = _Route  # what the router would leave for the middleware
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def full_app(with_middleware: bool) -> FastAPI:
    context = ApiContext(services_for(InMemoryDatabase(), SystemClock()), TokenSigner(SECRET))
    app = create_app(context)
    if not with_middleware:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not OperationsMiddleware]

    async def bench() -> dict[str, str]:
        return {"ok": "yes"}

    app.add_api_route(PATH, bench, methods=["GET"])
    return app


async def drive(app: App, count: int) -> float:
    """Seconds for ``count`` GET requests, one after another."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "server": ("bench", 80),
        "client": ("127.0.0.1", 1),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    started = time.perf_counter()
    for _ in range(count):
        await app(dict(scope), receive, send)
    return time.perf_counter() - started


def per_request_us(app: App, count: int) -> float:
    asyncio.run(drive(app, 500))  # warm up: middleware stack, route caches
    runs = [asyncio.run(drive(app, count)) for _ in range(ROUNDS)]
    return statistics.median(runs) / count * 1e6


def logged_us(app: App, count: int) -> float:
    with Path("/dev/null").open("w") as sink:
        setup = configure_logging(SystemClock(), stream=sink)
        try:
            return per_request_us(app, count)
        finally:
            setup.close()


def admit_us(count: int) -> float:
    unlimited = OperationsSettings(
        user_rate_per_second=1e12,
        user_burst=10**12,
        device_rate_per_second=1e12,
        device_burst=10**12,
    )
    context = ApiContext(
        services_for(InMemoryDatabase(), SystemClock()),
        TokenSigner(SECRET),
        ApiSettings(operations=unlimited),
    )
    _, who = context.signer.issue(
        "li-wei",
        Role.USER,
        now_us=SystemClock().now_us(),
        lifetime_seconds=3600,
        device=("li-wei-iphone14pro", "sim-li-wei-1"),
    )
    begin_request(RequestRecord("r", "GET", "/", context.operations.metrics))
    admit = context.operations.admit
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(count):
            admit(who)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description="the operations layer's cost per request")
    parser.add_argument("--requests", type=int, default=20_000)
    count = parser.parse_args().requests
    services = services_for(InMemoryDatabase(), SystemClock())
    wrapped = OperationsMiddleware(
        minimal, Operations(services, OperationsSettings(backlog_refresh_seconds=0))
    )
    bare, quiet, logged = (
        per_request_us(minimal, count),
        per_request_us(wrapped, count),
        logged_us(wrapped, count),
    )
    print(f"minimal ASGI app:              {bare:7.1f} µs a request")
    print(f"  + middleware, logging off:   {quiet:7.1f} µs (+{quiet - bare:.1f})")
    print(f"  + middleware, logging on:    {logged:7.1f} µs (+{logged - bare:.1f})")
    without, with_ = per_request_us(full_app(False), count), per_request_us(full_app(True), count)
    print(f"whole app without middleware:  {without:7.1f} µs a request")
    print(f"whole app with middleware:     {with_:7.1f} µs (+{with_ - without:.1f})")
    print(f"Operations.admit (principal):  {admit_us(count):7.1f} µs")


if __name__ == "__main__":
    main()
