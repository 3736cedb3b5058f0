"""Readiness: the database answers within a bound and its schema is the one this build needs.

The probe runs on a thread of its own and is waited for at most ``timeout_seconds``: a database
that hangs makes ``/readyz`` answer "not ready" in time instead of hanging with it. Only one
probe runs at a time; while a stuck one has not come back, the next check says so at once rather
than starting another thread.

The schema revision is read through its own connection (Alembic's), at most every
``schema_check_seconds``, so that a process left behind by ``hongbao db upgrade`` of a newer
build reports itself not ready.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hongbao.storage import migrate
from hongbao.storage.unit_of_work import Database, UnitOfWork
from hongbao.storage.urls import parse_url

PROBE_KEY = "readyz-probe"


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    detail: str


@dataclass
class _Probe:
    done: threading.Event
    outcome: tuple[Check, Check] | None = None


def _probe_read(uow: UnitOfWork) -> None:
    uow.api.revoked.get(PROBE_KEY)  # one indexed read through the normal path (pool, snapshot)


class Readiness:
    def __init__(
        self,
        database: Database,
        database_url: str | None,
        *,
        timeout_seconds: float,
        schema_check_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self._schema_url = database_url or _connectable(database)
        self._timeout = timeout_seconds
        self._schema_every = schema_check_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._probe: _Probe | None = None
        self._schema: tuple[float, Check] | None = None

    def check(self) -> tuple[Check, Check]:
        """(database, schema), each ok or not with a few words why."""
        with self._lock:
            running = self._probe
            if running is not None and not running.done.is_set():
                stuck = Check(False, "the previous probe has not come back yet")
                return stuck, self._schema[1] if self._schema else stuck
            probe = self._probe = _Probe(threading.Event())
        threading.Thread(
            target=self._run, args=(probe,), name="hongbao-readyz", daemon=True
        ).start()
        if not probe.done.wait(self._timeout) or probe.outcome is None:
            late = Check(False, f"no answer within {self._timeout} s")
            return late, self._schema[1] if self._schema else late
        return probe.outcome

    def _run(self, probe: _Probe) -> None:
        try:
            probe.outcome = (self._database_check(), self._schema_check())
        finally:
            probe.done.set()

    def _database_check(self) -> Check:
        started = self._monotonic()
        try:
            self.database.read(_probe_read)
        except Exception as error:  # noqa: BLE001 - any failure means "not ready", reported with its words
            return Check(False, f"{type(error).__name__}: {error}")
        return Check(True, f"answered in {(self._monotonic() - started) * 1000:.1f} ms")

    def _schema_check(self) -> Check:
        cached = self._schema
        if cached is not None and self._monotonic() - cached[0] < self._schema_every:
            return cached[1]
        checked = self._read_schema()
        self._schema = (self._monotonic(), checked)
        return checked

    def _read_schema(self) -> Check:
        if self._schema_url is None:
            return Check(True, f"not checked ({self.database.dialect} database)")
        try:
            revision = migrate.current_revision(parse_url(self._schema_url))
            head = migrate.head_revision()
        except Exception as error:  # noqa: BLE001 - any failure means "not ready", reported with its words
            return Check(False, f"cannot read the schema revision: {type(error).__name__}")
        if revision != head:
            return Check(False, f"schema at {revision or 'none'}, this build needs {head}")
        return Check(True, f"at head {head}")


def _connectable(database: Database) -> str | None:
    """The database's own URL when it can be connected to as it is (no redacted secret)."""
    if database.dialect not in {"sqlite", "postgresql"} or "***" in database.url:
        return None
    return database.url
