"""The language of an answer (zh or en), from an Accept-Language header or a bare code.

Every answer people read is in one of the two: the HTTP layer, the command line and the
explanations all ask here."""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["zh", "en"]
DEFAULT_LANGUAGE: Language = "zh"

# Bounds the work spent on one Accept-Language header; real ones are far shorter.
MAX_LANGUAGE_HEADER_CHARS = 1024
MAX_LANGUAGE_ENTRIES = 32
_QUALITY = re.compile(r"q=([01](?:\.[0-9]{0,3})?)", re.IGNORECASE)


def _quality(parameters: list[str]) -> int:
    """The q-value in thousandths (1000 when absent, 0 when malformed: not acceptable)."""
    for parameter in parameters:
        match = _QUALITY.fullmatch(parameter.strip())
        if match:
            whole, _, fraction = match[1].partition(".")
            return min(1000, int(whole) * 1000 + int(fraction.ljust(3, "0") or "0"))
        if parameter.strip().lower().startswith("q="):
            return 0
    return 1000


def parse_language(accept_language_header_or_code: str | None) -> Language:
    """``zh`` or ``en`` from an Accept-Language header or a bare code (``zh-CN``, ``en``).

    The most preferred of zh / en wins (``fr, zh;q=0.8`` is zh); ``*``, nothing or nothing
    readable is zh; a header naming only other languages is en.
    """
    text = (accept_language_header_or_code or "")[:MAX_LANGUAGE_HEADER_CHARS]
    entries: list[tuple[int, int, str]] = []
    for position, entry in enumerate(text.split(",")[:MAX_LANGUAGE_ENTRIES]):
        tag, *parameters = entry.split(";")
        primary = tag.strip().replace("_", "-").split("-")[0].lower()
        if primary and (primary == "*" or primary.isalpha()):
            entries.append((-_quality(parameters), position, primary))
    named_other = False
    for negative_quality, _, primary in sorted(entries):
        if negative_quality == 0:
            break  # q=0 means "not this one", and every later entry is q=0 too
        if primary == "zh":
            return "zh"
        if primary == "en":
            return "en"
        if primary == "*":
            return DEFAULT_LANGUAGE
        named_other = True
    return "en" if named_other else DEFAULT_LANGUAGE
