"""/v1/me/balances, /v1/me/movements and /v1/me/groups: the caller's wallet and groups, and a
group's packets for its members (R-A5: a user sees their own)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hongbao.entrypoints.http.auth.tokens import AuthError
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.entrypoints.http.context import Caller, Context, Lang, User
from hongbao.entrypoints.http.routes.packets import UNDELIVERED
from hongbao.entrypoints.http.routes.responses import READ
from hongbao.entrypoints.http.schemas import PacketView
from hongbao.entrypoints.http.schemas.wallet import BalanceView, MovementView, MyGroupView
from hongbao.entrypoints.wallet import MAX_MOVEMENTS, balances, movements
from hongbao.social.groups import is_member_at
from hongbao.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1", tags=["wallet"])
MAX_GROUPS = 100
MAX_GROUP_PACKETS = 100


@router.get("/me/balances", response_model=list[BalanceView], responses=READ)
def my_balances(api: Context, who: User) -> list[BalanceView]:
    """What each of the caller's funding sources holds: the balance (零钱) and 零钱通 with the
    refunds frozen until their release time, and each card's amount paid with its open holds.
    Amounts in minor units beside their decimal text."""
    return [BalanceView.of(entry) for entry in balances(api.services, who.subject)]


@router.get("/me/movements", response_model=list[MovementView], responses=READ)
def my_movements(
    api: Context,
    who: User,
    lang: Lang,
    limit: Annotated[int, Query(ge=1, le=MAX_MOVEMENTS, description="at most this many")] = 50,
) -> list[MovementView]:
    """Every movement of money on the caller's funding sources, newest first, each with its
    reason in the request's language and the packet it belongs to."""
    return [MovementView.of(entry, lang) for entry in movements(api.services, who.subject, limit)]


@router.get("/me/groups", response_model=list[MyGroupView], responses=READ)
def my_groups(api: Context, who: User) -> list[MyGroupView]:
    """The groups the caller is a member of now."""
    now_us = api.services.clock.now_us()

    def read(uow: UnitOfWork) -> list[MyGroupView]:
        social = uow.social
        joined = social.memberships_of(who.subject, limit=MAX_GROUPS)
        current = sorted({m.group_id for m in joined if m.is_member_at(now_us)})
        return [MyGroupView.of(group) for gid in current if (group := social.groups.get(gid))]

    return api.services.database.read(read)


@router.get("/groups/{group_id}/packets", response_model=list[PacketView], responses=READ)
def group_packets(group_id: str, api: Context, who: Caller) -> list[PacketView]:
    """A group's packets, oldest first (at most 100): for its current members and operators."""
    api.services.social.group(group_id)
    members = api.services.social.members(group_id)
    if not who.is_operator and not is_member_at(members, who.subject, api.services.clock.now_us()):
        raise AuthError("only the group's members see it", code=AuthCode.NOT_YOURS)
    found = api.services.packets.sent_to_group(group_id, MAX_GROUP_PACKETS)
    # A delayed send is its sender's until it is delivered (R-B1).
    return [
        PacketView.of(packet)
        for packet in found
        if packet.state not in UNDELIVERED or who.is_operator or packet.sender_id == who.subject
    ]
