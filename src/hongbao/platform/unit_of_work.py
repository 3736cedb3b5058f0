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

from collections.abc import Callable
from typing import Protocol, TypeVar

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
