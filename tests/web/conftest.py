"""The web console over the app in process: the embedded demo's sign-in (pick a person and a
device), on the in-memory database with a hand-moved clock."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from hongbao.bootstrap import services_for
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.tokens import TokenSigner
from hongbao.entrypoints.http.context import ApiContext
from hongbao.entrypoints.http.server import prepare_demo
from hongbao.platform.clock import ManualClock
from hongbao.testing import InMemoryDatabase
from tests.api.conftest import SECRET, STEADY


@dataclass
class Console:
    """The app, its context, and a browser-like client per person (each keeps its cookies)."""

    context: ApiContext
    clock: ManualClock
    app: object
    landing: str = ""  # the page the last sign-in landed on (the wallet)

    def person(self, user: str, device: str) -> TestClient:
        client = TestClient(self.app, raise_server_exceptions=True, follow_redirects=True)  # type: ignore[arg-type]
        signed = client.post("/console/sign-in", data={"device": f"{user}/{device}"})
        assert signed.status_code == 200, signed.text
        assert signed.url.path == "/wallet"
        self.landing = signed.text
        return client


def hidden(page: str, name: str) -> str:
    """A hidden form field's value (the idempotency key a form carries)."""
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, f"no hidden {name!r}"
    return html.unescape(found[1])


@pytest.fixture
def console() -> Iterator[Console]:
    clock = ManualClock(1_796_104_800_000_000)  # Tuesday 2026-12-01 14:00, Beijing time
    demo = dataclasses.replace(STEADY, demo_sign_in=True)  # each test may change its own
    context = ApiContext(services_for(InMemoryDatabase(), clock), TokenSigner(SECRET), demo)
    prepare_demo(context)
    app = create_app(context)
    with TestClient(app):  # runs the app's lifespan once for the test
        yield Console(context, clock, app)
