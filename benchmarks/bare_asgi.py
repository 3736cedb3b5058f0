"""A bare ASGI app for ``floor_bench.py``: reads the request, answers a fixed claim answer.

It does none of hongbao's work (no token, no key, no database), so wrk against it under
uvicorn measures what the HTTP server and the load generator alone cost a request.
"""

from __future__ import annotations

import json
from typing import Any

ANSWER = json.dumps(
    {
        "packet_id": "spread-00000",
        "user_id": "hc-00000",
        "result": "claimed",
        "amount": {"amount": "1.23", "minor": 123, "currency": "CNY"},
    }
).encode()
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(ANSWER)).encode()),
    (b"idempotency-key", b"k"),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return  # lifespan: nothing to start
    while (await receive()).get("more_body", False):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": ANSWER})
