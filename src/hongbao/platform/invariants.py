"""``invariant()``: an assertion that survives ``python -O``.

Python's ``assert`` statement is removed under optimisation, so pre- and post-conditions on
the money path use these functions instead. ``present()`` and ``instance()`` are the forms
that also narrow the value's type, so no ``assert`` is needed to convince the type checker.
"""

from __future__ import annotations

from typing import Any, TypeVar

from hongbao.platform.errors import InvariantViolation

T = TypeVar("T")


def invariant(condition: bool, message: str, **facts: Any) -> None:
    """Raise :class:`InvariantViolation` with ``message`` and ``facts`` unless ``condition``."""
    if not condition:
        raise InvariantViolation(message, **facts)


def present(value: T | None, message: str, **facts: Any) -> T:
    """``value`` itself, which must not be None: raise :class:`InvariantViolation` with
    ``message`` and ``facts`` when it is."""
    if value is None:
        raise InvariantViolation(message, **facts)
    return value


def instance(value: object, kind: type[T], message: str, **facts: Any) -> T:
    """``value`` itself, which must be a ``kind``: raise :class:`InvariantViolation` with
    ``message`` and ``facts`` when it is not."""
    if not isinstance(value, kind):
        raise InvariantViolation(message, kind=kind.__name__, found=type(value).__name__, **facts)
    return value
