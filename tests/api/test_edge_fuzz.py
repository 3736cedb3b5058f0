"""Hostile values sent to every route of the OpenAPI document, on every adapter: NUL and other
control characters, invalid UTF-8 and 10 KB strings in path ids, query strings, headers and
JSON body fields, and 1 MB bodies. The edge answers each with a 4xx in the one error shape
(never a 5xx: a NUL once reached PostgreSQL and answered 500), and nothing is written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from hongbao.ledger.service import verify_ledger
from hongbao.packets.verification import verify_packets
from hongbao.refunds.verification import verify_refunds
from hongbao.storage.unit_of_work import UnitOfWork
from tests.api.conftest import Api

LONG = "x" * 10_240
# As they travel in a path or a query string (percent-encoded) ...
BAD_IN_URL = ("p%00x", "p%01x", "p%1Bx", "p%7Fx", "p%C2%85x", "p%FFx", "p%C3x", LONG)
# ... and in a header value, as raw bytes. (Header bytes that are not UTF-8 are re-encoded by
# the test client on the way; test_edge_api.py hands them to the check itself.)
BAD_IN_HEADER = (b"k\x00", b"k\x07", b"k\x1b[0m", b"k\x7f", LONG.encode())
# JSON body fields: control characters as escapes and raw, invalid UTF-8, a 10 KB string.
BAD_BODIES = (
    b'{"name": "a\\u0000b", "type": "work", "note": "n", "token": "t"}',
    b'{"purpose": "a\\u001bb", "answer": "1\\n2", "kind": "sms_code"}',
    b'{"user_id": "u\\u0085", "note": "\\t"}',
    b'{"note": "a\x01b"}',
    b'{"note": "\xff\xfe"}',
    b'{"note": "' + LONG.encode() * 7 + b'"}',  # over the 64 KiB limit
    b'{"note": "' + b"y" * 1_048_576 + b'"}',  # 1 MB
)
HEADERS = ("Idempotency-Key", "Authorization", "Accept-Language", "X-Request-Id", "Last-Event-ID")
PARAMETER = re.compile(r"\{[^}]+\}")
EDGE_ANSWERS = {413, 422}


def routes(api: Api) -> Iterator[tuple[str, str]]:
    """(method, path template) of every operation in the app's OpenAPI document."""
    for path, operations in api.client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        for method in operations:
            yield method.upper(), path


def footprint(api: Api) -> tuple[Any, ...]:
    """What any write would change: ledger, packets, refunds, groups and keys."""

    def read(uow: UnitOfWork) -> tuple[Any, ...]:
        ledger, packets, refunds = verify_ledger(uow), verify_packets(uow), verify_refunds(uow)
        return (
            ledger.ok,
            ledger.accounts,
            ledger.transfers,
            ledger.root_digest,
            packets.packets,
            refunds.refunds,
            len(uow.recalls.incidents.page(None, limit=1_000)),
            len(uow.recalls.decisions.page(None, limit=1_000)),
        )

    return api.context.services.database.read(read)


def requests(api: Api, method: str, template: str) -> Iterator[dict[str, Any]]:
    """Each hostile variant of one route, as keyword arguments of the test client."""
    fill = PARAMETER.sub("x-1", template)
    good = {**api.headers("ops-demo", "fuzz-key"), "Content-Type": "application/json"}
    for bad in BAD_IN_URL:
        for match in PARAMETER.finditer(template):
            path = template[: match.start()] + bad + template[match.end() :]
            yield {"url": PARAMETER.sub("x-1", path), "headers": good}
        yield {"url": f"{fill}?state={bad}&limit=1", "headers": good}
    for name in HEADERS:
        for value in BAD_IN_HEADER:
            yield {"url": fill, "headers": {**good, name: value}}
    for body in BAD_BODIES:
        yield {"url": fill, "headers": good, "content": body}


def test_hostile_values_on_every_route_are_refused_at_the_edge_and_write_nothing(
    api: Api,
) -> None:
    before = footprint(api)
    wrong: list[str] = []
    count = 0
    for method, template in routes(api):
        for request in requests(api, method, template):
            answer = api.client.request(method, **request)
            count += 1
            is_json = answer.headers.get("content-type", "").startswith("application/json")
            body = answer.json() if is_json else {}
            error = body.get("error", {}) if isinstance(body, dict) else {}
            if answer.status_code not in EDGE_ANSWERS or set(error) != {
                "code",
                "message",
                "details",
                "decision_id",
            }:
                shown = {k: v if len(str(v)) < 80 else "<long>" for k, v in request.items()}
                wrong.append(
                    f"{method} {template} {shown}: {answer.status_code} {answer.text[:160]}"
                )
    assert count > 1_000
    assert not wrong, "\n".join(wrong[:30])
    assert footprint(api) == before


def test_a_valid_request_still_reaches_every_kind_of_route(api: Api) -> None:
    """The edge lets ordinary values through: the same client, ids and headers, minus the
    hostile parts, reach the routes (404 for the made-up ids, never 422 from the edge)."""
    operator = api.headers("ops-demo")
    assert api.client.get("/v1/packets/x-1", headers=operator).status_code == 404
    assert (
        api.client.get("/v1/operator/refunds?state=failed&limit=1", headers=operator).status_code
        == 200
    )
    assert api.client.get("/readyz").status_code == 200
