"""Schemathesis against the app's own OpenAPI document, in process, on one SQLite database.

Every operation gets generated requests (valid and invalid bodies, path values and headers),
sent with real credentials: a valid bearer token of a user or an operator and, for POSTs, a
fresh valid Idempotency-Key (a missing or invalid one is kept when the request was generated to
be invalid). Packet ids in paths are sometimes swapped for packets that exist, so the answers
are not all 404. Every answer must be a documented status with a body matching its documented
schema, and none may be a server error.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case, Response
from schemathesis.specs.openapi.schemas import OpenApiSchema

from hongbao.bootstrap import services_for
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.tokens import TokenSigner
from hongbao.entrypoints.http.context import ApiContext, ApiSettings
from hongbao.entrypoints.http.server import prepare_demo
from hongbao.entrypoints.ops.degrade import DegradeThresholds
from hongbao.entrypoints.ops.operations import OperationsSettings
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import SendPacket
from hongbao.platform.clock import ManualClock
from hongbao.platform.errors import HongbaoError
from hongbao.platform.idempotency import MAX_KEY_LENGTH, checked_key
from hongbao.platform.ids import ID_PATTERN
from hongbao.storage.factory import open_database
from hongbao.testing import InMemoryDatabase
from tests.api.conftest import SECRET
from tests.conftest import START_US

# Bounded: a few dozen requests per operation keep the whole module well under a minute.
EXAMPLES_PER_OPERATION = 20
DEADLINE_MS = 2_000
OPERATOR = "ops-demo"
USERS = ("li-wei", "liu-yang", "zhao-lei")
# One in REAL_PACKET_EVERY cases with a packet id asks about a packet that exists.
REAL_PACKET_EVERY = 2
STREAM_MEDIA_TYPE = "text/event-stream"
MAX_STREAM_SECONDS = 0.1
AUTHORIZATION = "authorization"
IDEMPOTENCY_KEY = "idempotency-key"
METHOD_NOT_ALLOWED = 405
MALFORMED = 422
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
IMPLICIT_METHODS = frozenset({"HEAD", "OPTIONS"})  # answered for every GET route, never listed
AnyCase = Case[Any]


# Rate limits and degrade mode depend on how fast this machine runs the test, not on the
# requests: a slow run would answer 429 or 503 (api.degraded) by design. Their own tests cover
# them; here they are set out of reach so every answer comes from the route.
STEADY = ApiSettings(
    operations=OperationsSettings(
        user_rate_per_second=1_000.0,
        user_burst=100_000,
        device_rate_per_second=1_000.0,
        device_burst=100_000,
        degrade=DegradeThresholds(p99_enter_seconds=60.0, p99_leave_seconds=30.0),
    )
)


@dataclass
class World:
    """The app under test, a token per person and packets that exist."""

    app: FastAPI
    tokens: dict[str, str]
    packet_ids: list[str]
    keys: Iterator[int] = field(default_factory=itertools.count)

    def prepare(self, case: AnyCase) -> AnyCase:
        """Credentials and ids a real client would send; the generated rest is kept."""
        choice = _stable_choice(case)
        who = _who_for(case, choice)
        _set_header(case, AUTHORIZATION, f"Bearer {self.tokens[who]}")
        if case.method.upper() == "POST" and _needs_fresh_key(case):
            _set_header(case, IDEMPOTENCY_KEY, f"st-{next(self.keys)}")
        path = case.path_parameters or {}
        if "packet_id" in path and choice % REAL_PACKET_EVERY == 0:
            path["packet_id"] = self.packet_ids[choice % len(self.packet_ids)]
        if _is_stream(case):
            _bound_stream(case)
        return case


def _needs_fresh_key(case: AnyCase) -> bool:
    """A valid generated key is replaced by a fresh one, as a client's is (schemathesis' keys
    repeat across examples, and a key reused for another request is refused by design); a
    missing or invalid one is what a request generated to be invalid tries, and is kept."""
    key = case.headers.get(IDEMPOTENCY_KEY) if case.headers else None
    positive = case.meta is None or case.meta.generation.mode.is_positive
    return positive or (key is not None and _valid_key(key))


def _valid_key(key: str) -> bool:
    try:
        checked_key(key)
    except HongbaoError:
        return False
    return True


def _is_stream(case: AnyCase) -> bool:
    ok = case.operation.definition.raw.get("responses", {}).get("200", {})
    return STREAM_MEDIA_TYPE in ok.get("content", {})


def _bound_stream(case: AnyCase) -> None:
    """A stream waits up to ``lifetime`` seconds (an hour is valid) for events: ask for what is
    there now instead. An invalid lifetime is left alone: it is refused at once."""
    query = dict(case.query or {})
    lifetime = query.get("lifetime")
    try:
        waits = lifetime is None or float(lifetime) > MAX_STREAM_SECONDS
    except (TypeError, ValueError):
        waits = False
    if waits:
        query["lifetime"] = "0"
        case.query = query


def _stable_choice(case: AnyCase) -> int:
    """A number fixed by the generated case, so a failing example replays the same way."""
    text = repr((case.method, case.path, case.path_parameters, case.query, case.body))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _who_for(case: AnyCase, choice: int) -> str:
    if "operator" in case.operation.path or "operator" in (case.operation.tags or []):
        return OPERATOR
    people = (*USERS, OPERATOR)  # operators on user routes must be refused cleanly too
    return people[choice % len(people)]


def _set_header(case: AnyCase, name: str, value: str) -> None:
    case.headers[name] = value  # case-insensitive: replaces the generated one of any spelling


def sent_packets(context: ApiContext) -> list[str]:
    """A group packet and a personal one from li-wei, one share of the group packet claimed."""
    packets = context.services.packets
    group = packets.send(
        SendPacket(
            "st-group",
            PacketType.GROUP_LUCKY,
            "li-wei",
            _yuan(30),
            3,
            "li-wei-balance",
            group_id="xinghe-team",
        )
    )
    personal = packets.send(
        SendPacket(
            "st-personal",
            PacketType.PERSONAL,
            "li-wei",
            _yuan(5),
            1,
            "li-wei-balance",
            recipient_id="liu-yang",
        )
    )
    packets.claim(group.id, "liu-yang")
    return [group.id, personal.id]


def _yuan(whole: int) -> Money:
    return Money.of(whole * 100, "CNY")


@pytest.fixture(scope="module")
def world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One app over one SQLite database for the whole module, as a server would run: what one
    operation creates (users, groups, packets) is there for the next."""
    path = tmp_path_factory.mktemp("schemathesis") / "hongbao.db"
    shutil.copyfile(sqlite_template, path)
    database = open_database(f"sqlite:///{path}")
    context = ApiContext(services_for(database, ManualClock(START_US)), TokenSigner(SECRET), STEADY)
    tokens = {entry.principal.subject: entry.token for entry in prepare_demo(context)}
    yield World(create_app(context), tokens, sent_packets(context))
    database.close()


def document_schema() -> OpenApiSchema:
    """The OpenAPI document, read once at collection from an app of its own (the document
    holds no state); the requests go to the module's app (``world``)."""
    context = ApiContext(
        services_for(InMemoryDatabase(), ManualClock(START_US)), TokenSigner(SECRET), ApiSettings()
    )
    loaded = schemathesis.openapi.from_asgi("/openapi.json", create_app(context))
    loaded.config.generation.update(
        max_examples=EXAMPLES_PER_OPERATION, deterministic=True, allow_extra_parameters=False
    )
    return loaded


schema = document_schema()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=DEADLINE_MS,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented_and_never_with_a_server_error(
    case: AnyCase, world: World
) -> None:
    # Every check schemathesis has, positive_data_acceptance included: a request the document
    # calls valid is never refused as malformed (422); a refusal that depends on what is
    # recorded answers 403, 404 or 409, declared on the route.
    prepared = world.prepare(case)
    response = prepared.call(app=world.app)
    assert response.status_code < 500, response.text
    assert_valid_data_not_refused_as_malformed(prepared, response)
    prepared.validate_response(response, transport_kwargs={"app": world.app})
    if response.status_code == METHOD_NOT_ALLOWED:
        assert allowed(response) - IMPLICIT_METHODS == documented_methods(case), response.headers


def assert_valid_data_not_refused_as_malformed(case: AnyCase, response: Response) -> None:
    """The same rule as schemathesis' positive_data_acceptance, failing with what to declare."""
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if not positive or response.status_code != MALFORMED:
        return
    code = response.json()["error"]["code"]
    raise AssertionError(
        f"{case.operation.label} refused a request its document calls valid with 422 {code}. "
        "If the body alone decides, say it in the document: a pattern or bound on the field, "
        "or a variant of the body (schemas/variants.py) when it depends on another field. If "
        "what is recorded decides (a member, an owner, a balance), give the code the outcome "
        "FORBIDDEN, NOT_FOUND or CONFLICT (403/404/409) and declare that status on the route."
        f"\n{case.as_curl_command()}\n{response.text}"
    )


def allowed(response: Response) -> set[str]:
    """The methods a 405 lists in ``Allow`` (schemathesis' own check takes an empty header for
    a present one)."""
    header = ",".join(response.headers.get("allow", []))
    return {method.strip().upper() for method in header.split(",") if method.strip()}


def documented_methods(case: AnyCase) -> set[str]:
    """The methods the OpenAPI document lists for the case's path."""
    return {method.upper() for method in schema.raw_schema["paths"][case.operation.path]} & (
        HTTP_METHODS
    )


def test_every_post_requires_an_idempotency_key_in_the_document() -> None:
    """The server refuses a POST without a valid key; the document says so, with the pattern."""
    for path, item in schema.raw_schema["paths"].items():
        if "post" not in item:
            continue
        keys = [
            parameter
            for parameter in item["post"].get("parameters", [])
            if parameter["in"] == "header" and parameter["name"].lower() == IDEMPOTENCY_KEY
        ]
        assert len(keys) == 1, path
        assert keys[0]["required"] is True, path
        assert keys[0]["schema"] == {
            **keys[0]["schema"],
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_KEY_LENGTH,
            "pattern": ID_PATTERN.pattern,
        }, path
