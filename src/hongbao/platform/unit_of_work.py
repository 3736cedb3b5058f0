"""The database port: run a unit of work in one transaction, retried whole.

A unit of work is one database transaction exposing the repositories. ``Database.transact``
runs a function inside one, commits it, and retries the *whole* function when the database
reports a serialization failure, a deadlock or a lost race on a unique key: the function must
therefore do nothing outside the database that it could not safely do twice.

Platform knows no context: ``Database`` is generic in the unit of work it hands out. Each
context declares a protocol of just the tables it uses, and storage builds one unit of work
that has them all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

Result = TypeVar("Result")
UnitOfWorkT_co = TypeVar("UnitOfWorkT_co", covariant=True)


class Database(Protocol[UnitOfWorkT_co]):
    """A store that runs units of work. ``url`` says which store, without secrets."""

    @property
    def url(self) -> str: ...

    @property
    def dialect(self) -> str: ...

    def transact(self, work: Callable[[UnitOfWorkT_co], Result]) -> Result:
        """Run ``work`` in one write transaction, retrying transient conflicts."""
        ...

    def read(self, work: Callable[[UnitOfWorkT_co], Result]) -> Result:
        """Run ``work`` in one read-only transaction (a consistent snapshot where supported)."""
        ...

    def close(self) -> None: ...


UnitOfWorkT = TypeVar("UnitOfWorkT")


class JoiningDatabase(Generic[UnitOfWorkT]):
    """A database whose units of work join the one already open on this thread.

    The pipeline opens one transaction per request and runs the operation inside it; the
    services the operation calls open "their" transaction as usual and find themselves in the
    request's, so the key's record and everything the services write commit together (or
    roll back together, and are retried whole). Outside the pipeline each call is its own
    transaction, as before."""

    def __init__(self, inner: Database[UnitOfWorkT]) -> None:
        self.inner = inner
        self._open = threading.local()

    @property
    def url(self) -> str:
        return self.inner.url

    @property
    def dialect(self) -> str:
        return self.inner.dialect

    def joined(self) -> UnitOfWorkT | None:
        """The unit of work open on this thread, if any."""
        found: UnitOfWorkT | None = getattr(self._open, "unit_of_work", None)
        return found

    def transact(self, work: Callable[[UnitOfWorkT], Result]) -> Result:
        open_one = self.joined()
        if open_one is not None:
            return work(open_one)
        return self.inner.transact(lambda unit_of_work: self._within(unit_of_work, work))

    def read(self, work: Callable[[UnitOfWorkT], Result]) -> Result:
        open_one = self.joined()
        if open_one is not None:
            return work(open_one)  # the request's own writes included
        return self.inner.read(work)

    def close(self) -> None:
        self.inner.close()

    def _within(self, unit_of_work: UnitOfWorkT, work: Callable[[UnitOfWorkT], Result]) -> Result:
        self._open.unit_of_work = unit_of_work
        try:
            return work(unit_of_work)
        finally:
            self._open.unit_of_work = None
