"""The risk port: the engine asks an assessor for a level and actions (R-K1).

The risk rules themselves (attempt rates, cumulative amounts, travel, rings) come in a later
issue as assessors behind this port. The default assessor passes everything and says so.
"""

from __future__ import annotations

from typing import Protocol

from hongbao.recall.facts import RecallFacts, RiskAssessment


class RiskAssessor(Protocol):
    def assess(self, facts: RecallFacts) -> RiskAssessment:
        """Level 0..4 and the actions to take; must not write anything."""
        ...


class PassingAssessor:
    """No risk rules configured: level 0, no action."""

    name = "default"

    def assess(self, facts: RecallFacts) -> RiskAssessment:
        del facts
        return RiskAssessment(level=0, actions=(), assessor=self.name, reasons=("no risk rules",))
