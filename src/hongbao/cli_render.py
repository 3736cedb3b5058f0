"""Small rendering helpers shared by the command-line screens."""

from __future__ import annotations

from hongbao.money import Money


def money_text(minor: int, currency: str) -> str:
    return Money.of(minor, currency).format()
