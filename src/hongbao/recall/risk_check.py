"""The recall's risk assessor: the risk rules of the active policy applied to the history a
recall's facts carry, so a recorded decision replays to the same level (R-K1, R-K2)."""

from __future__ import annotations

from dataclasses import dataclass

from hongbao.policy.store import PolicyStore
from hongbao.recall.facts import RecallFacts
from hongbao.risk.model import RiskAssessment
from hongbao.risk.rules import ASSESSOR, assess


@dataclass(frozen=True)
class PolicyRiskAssessor:
    policies: PolicyStore
    name: str = ASSESSOR

    def assess(self, facts: RecallFacts) -> RiskAssessment:
        policy = self.policies.active()
        return assess(facts.risk_history, facts.exemptions, policy.risk, policy.version)
