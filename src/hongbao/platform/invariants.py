"""``invariant()``: an assertion that survives ``python -O``.

Python's ``assert`` statement is removed under optimisation, so pre- and post-conditions on
the money path use this function instead.
"""

from __future__ import annotations

from typing import Any

from hongbao.platform.errors import InvariantViolation


def invariant(condition: bool, message: str, **facts: Any) -> None:
    """Raise :class:`InvariantViolation` with ``message`` and ``facts`` unless ``condition``."""
    if not condition:
        raise InvariantViolation(message, **facts)
