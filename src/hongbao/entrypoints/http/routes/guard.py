"""/v1/guard-decisions: the send-time guard's recorded decisions (R-B1), explained."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hongbao.entrypoints.http.auth.tokens import AuthError
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.entrypoints.http.context import Caller, Context, Lang
from hongbao.entrypoints.http.schemas import ErrorView, iso_time
from hongbao.entrypoints.http.schemas.guard import GuardDecisionView
from hongbao.packets.guard import explain

router = APIRouter(prefix="/v1/guard-decisions", tags=["packets"])
READ: dict[int | str, dict[str, Any]] = {code: {"model": ErrorView} for code in (401, 403, 404)}


@router.get("/{decision_id}", response_model=GuardDecisionView, responses=READ)
def show_guard_decision(
    decision_id: str, api: Context, who: Caller, lang: Lang
) -> GuardDecisionView:
    """A risky send's recorded evaluation: its policy version, each check with its value and
    threshold, the regret score's terms and the reasons in words. For the sender and
    operators."""
    decision = api.services.packets.guard_decision(decision_id)
    if not who.is_operator and who.subject != decision.sender_id:
        raise AuthError("this decision is not yours to see", code=AuthCode.NOT_YOURS)
    zh, en = explain(decision)
    return GuardDecisionView(
        decision_id=decision.decision_id,
        packet_id=decision.packet_id,
        sender_id=decision.sender_id,
        policy_version=decision.policy_version,
        outcome=decision.outcome,
        reasons=[reason.value for reason in decision.reason_list()],
        explanation=zh if lang == "zh" else en,
        signals=decision.signal_map(),
        offered_deliver_at_us=decision.offered_at_us,
        offered_deliver_at=iso_time(decision.offered_at_us),
        created_at_us=decision.created_at_us,
    )
