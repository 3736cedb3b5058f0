"""Identifiers chosen by clients and services: short printable strings, readable in logs."""

from __future__ import annotations

import re

from hongbao.platform.limits import MAX_ID_LENGTH

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._\-/]*$")


def is_valid_id(identifier: object) -> bool:
    """Ids are short printable strings so they can be read in logs and chosen by clients."""
    return (
        isinstance(identifier, str)
        and 0 < len(identifier) <= MAX_ID_LENGTH
        and ID_PATTERN.match(identifier) is not None
    )
