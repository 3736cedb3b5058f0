"""Browser tests: a real Chromium (Debian's ``chromium`` at /usr/bin/chromium) driven by
Playwright against the app served by uvicorn on a free local port, on the in-memory database
with the demo population and a hand-moved clock.

Without Chromium or Playwright they skip with the reason shown; ``HONGBAO_REQUIRE_BROWSER=1``
(set by CI in ``.ci/run``, which installs Chromium when it is missing) turns that skip into a
failure, so CI can never pass by skipping them. ``HONGBAO_SCREENSHOTS=1`` also saves the main
pages to docs/screenshots/.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hongbao.bootstrap import services_for
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.tokens import TokenSigner
from hongbao.entrypoints.http.context import ApiContext
from hongbao.entrypoints.http.server import prepare_demo
from hongbao.platform.clock import ManualClock
from hongbao.testing import InMemoryDatabase
from tests.api.conftest import SECRET, STEADY

CHROMIUM = Path(os.environ.get("HONGBAO_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TUESDAY_14_00_US = 1_796_104_800_000_000  # 2026-12-01 14:00 Beijing time: no blackout
STARTUP_SECONDS = 10.0


def _unavailable() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401, PLC0415
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    return None


# Per module, not per session: Playwright's synchronous API keeps an event loop running on the
# main thread while it is open, which would stop later tests from running one of their own.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("HONGBAO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"HONGBAO_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@dataclasses.dataclass
class Served:
    """The app on a local port, with its context and clock."""

    url: str
    context: ApiContext
    clock: ManualClock


@pytest.fixture
def served() -> Iterator[Served]:
    import uvicorn  # noqa: PLC0415

    clock = ManualClock(TUESDAY_14_00_US)
    settings = dataclasses.replace(STEADY, demo_sign_in=True)
    context = ApiContext(services_for(InMemoryDatabase(), clock), TokenSigner(SECRET), settings)
    prepare_demo(context)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(context), host="127.0.0.1", port=port, log_level="warning", log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the app did not start")
        time.sleep(0.05)
    yield Served(f"http://127.0.0.1:{port}", context, clock)
    server.should_exit = True
    thread.join(STARTUP_SECONDS)


def screenshot(page: Any, name: str) -> None:
    """Keep the page in docs/screenshots/ when asked (HONGBAO_SCREENSHOTS=1)."""
    if os.environ.get("HONGBAO_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
