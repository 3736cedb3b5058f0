"""Refunds as their owner sees them (R-F6): where the money is, when it arrives and why."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hongbao.entrypoints.http.auth.tokens import AuthError
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.entrypoints.http.context import Caller, Context, ensure_self
from hongbao.entrypoints.http.routes.responses import READ
from hongbao.entrypoints.http.schemas.refunds import RefundView
from hongbao.refunds.desk import MAX_LISTED

router = APIRouter(prefix="/v1", tags=["refunds"])
Limit = Annotated[int, Query(ge=1, le=MAX_LISTED, description="at most this many")]


@router.get("/refunds/{refund_id}", response_model=RefundView, responses=READ)
def show_refund(refund_id: str, api: Context, who: Caller) -> RefundView:
    """One refund with its route, amounts, FX rates and every hop of its money: for the
    sender it belongs to and operators."""
    refund = api.services.refunds.refund(refund_id)
    if not who.is_operator and refund.owner_id != who.subject:
        raise AuthError("this refund is not yours to see", code=AuthCode.NOT_YOURS)
    return RefundView.of(refund)


@router.get("/users/{user_id}/refunds", response_model=list[RefundView], responses=READ)
def list_user_refunds(
    user_id: str, api: Context, who: Caller, limit: Limit = 100
) -> list[RefundView]:
    """A sender's refunds, oldest first: for the sender and operators."""
    ensure_self(who, user_id)
    api.services.identity.user(user_id)
    return [RefundView.of(refund) for refund in api.services.refunds.of_owner(user_id, limit)]
