"""An API over each storage adapter, the demo population funded, and tokens for its people."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from hongbao.bootstrap import services_for
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.tokens import Role, TokenSigner
from hongbao.entrypoints.http.context import ApiContext, ApiSettings
from hongbao.entrypoints.http.server import prepare_demo
from hongbao.entrypoints.ops.degrade import DegradeThresholds
from hongbao.entrypoints.ops.operations import OperationsSettings
from hongbao.platform.clock import ManualClock
from hongbao.storage.unit_of_work import Database

SECRET = b"test secret for hongbao api tokens, 32+ bytes"
# Rate limits, degrade mode and the background backlog sampler depend on how fast this machine
# runs a test, not on its requests: their own tests drive them; here they are out of reach.
STEADY = ApiSettings(
    operations=OperationsSettings(
        user_rate_per_second=1_000.0,
        user_burst=100_000,
        device_rate_per_second=1_000.0,
        device_burst=100_000,
        degrade=DegradeThresholds(p99_enter_seconds=60.0, p99_leave_seconds=30.0),
        backlog_refresh_seconds=0.0,
    )
)


@dataclass
class Api:
    """A client of the app, the context behind it and a token per person."""

    client: TestClient
    context: ApiContext
    clock: ManualClock
    tokens: dict[str, str]

    def headers(self, who: str | None, key: str | None = None, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def token(
        self,
        who: str,
        *,
        device: tuple[str, str] | None = None,
        operator: bool = False,
        lifetime: int = 3600,
    ) -> str:
        role = Role.OPERATOR if operator else Role.USER
        token, _ = self.context.signer.issue(
            who, role, now_us=self.clock.now_us(), lifetime_seconds=lifetime, device=device
        )
        return token


@pytest.fixture
def api(database: Database, clock: ManualClock) -> Iterator[Api]:
    context = ApiContext(services_for(database, clock), TokenSigner(SECRET), STEADY)
    demo = prepare_demo(context)
    tokens = {entry.principal.subject: entry.token for entry in demo}
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        yield Api(client, context, clock, tokens)
