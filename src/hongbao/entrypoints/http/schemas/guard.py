"""The send-time guard's decision as the API shows it (R-B1)."""

from __future__ import annotations

from typing import Any

from hongbao.entrypoints.http.schemas import Body


class GuardDecisionView(Body):
    decision_id: str
    packet_id: str  # the packet the send would have been (or is)
    sender_id: str
    policy_version: str
    outcome: str  # confirmation_needed | confirmed | delayed
    reasons: list[str]  # late_night, large_amount, guarded_group, regret_score
    explanation: list[str]  # each reason in the request's language, with its values
    signals: dict[str, Any]  # every check (value, threshold, hit) and the regret terms
    offered_deliver_at_us: int
    offered_deliver_at: str | None
    created_at_us: int
