"""The risk port: a context asks an assessor for a level and actions (R-K1).

The port is generic in what is assessed (a recall's facts today), so risk knows no context
that asks it. The risk rules come later as assessors behind this port; the default assessor
passes everything and says so.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from hongbao.risk.model import RiskAssessment

FactsT_contra = TypeVar("FactsT_contra", contravariant=True)


class RiskAssessor(Protocol[FactsT_contra]):
    def assess(self, facts: FactsT_contra) -> RiskAssessment:
        """Level 0..4 and the actions to take; must not write anything."""
        ...


class PassingAssessor:
    """No risk rules configured: level 0, no action."""

    name = "default"

    def assess(self, facts: object) -> RiskAssessment:
        del facts
        return RiskAssessment(level=0, actions=(), assessor=self.name, reasons=("no risk rules",))
