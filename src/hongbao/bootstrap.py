"""Wiring: build services from configuration. The only place that picks concrete adapters."""

from __future__ import annotations

from hongbao.ledger.service import Ledger
from hongbao.platform.clock import Clock, SystemClock
from hongbao.storage.factory import open_database


def open_ledger(database_url: str | None = None, *, clock: Clock | None = None) -> Ledger:
    return Ledger(open_database(database_url), clock or SystemClock())
