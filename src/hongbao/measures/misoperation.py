"""Misoperation, as hongbao counts it (R-U4, R-U5). A recall attempt is a misoperation when:

- ``refused_as_shown``: it was refused for a cause the recall button had already shown, that
  is the person (or their app) asked the packet's recall eligibility, was told "no", and
  tried anyway;
- ``recalled_too_soon``: it recalled a packet within 2 minutes of sending it: a packet taken
  back that fast was most likely sent by mistake (wrong amount, wrong group).

The misoperation rate of an age band is its misoperations per recall attempt (every recall
decision: allowed, challenged or refused)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from hongbao.platform.clock import MICROSECONDS_PER_SECOND

TOO_SOON_US: Final = 120 * MICROSECONDS_PER_SECOND


class MisoperationKind(StrEnum):
    REFUSED_AS_SHOWN = "refused_as_shown"
    RECALLED_TOO_SOON = "recalled_too_soon"


def misoperations(
    *, denied: bool, button_showed_denial: bool, done: bool, sent_at_us: int, done_at_us: int
) -> list[MisoperationKind]:
    """The kinds of misoperation one recall decision is."""
    found = []
    if denied and button_showed_denial:
        found.append(MisoperationKind.REFUSED_AS_SHOWN)
    if done and done_at_us - sent_at_us < TOO_SOON_US:
        found.append(MisoperationKind.RECALLED_TOO_SOON)
    return found
