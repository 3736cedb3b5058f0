"""/v1/groups: create a group, see it as a member, add members as its owner (R-P5, R-A5)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hongbao.entrypoints.http.auth.tokens import AuthError
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.entrypoints.http.context import (
    Caller,
    Context,
    IdempotencyKey,
    Lang,
    RawBody,
    User,
    derived_id,
    idempotent,
)
from hongbao.entrypoints.http.routes.responses import READ, WRITE
from hongbao.entrypoints.http.schemas.identity import GroupView, NewGroupBody, NewMemberBody
from hongbao.platform.invariants import present
from hongbao.social.groups import Group, GroupMember, is_member_at

router = APIRouter(prefix="/v1/groups", tags=["groups"])


@router.post("", status_code=201, response_model=GroupView, responses=WRITE)
def create_group(
    body: NewGroupBody,
    request: Request,
    api: Context,
    who: User,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create a group owned by the caller, who is its first member. Its id comes from the
    Idempotency-Key."""

    def action() -> tuple[int, object]:
        key = present(idempotency_key, "idempotent() checked the Idempotency-Key")
        group = Group(
            derived_id("g", who, key),
            body.name,
            body.type,
            who.subject,
            api.services.clock.now_us(),
        )
        stored = api.services.social.create_group(group)
        members = api.services.social.members(stored.id)
        return 201, GroupView.of(stored, members).model_dump(mode="json")

    return idempotent(api, request, who, idempotency_key, raw, lang, action)


@router.get("/{group_id}", response_model=GroupView, responses=READ)
def show_group(group_id: str, api: Context, who: Caller) -> GroupView:
    """A group and its memberships: for its current members and operators."""
    group = api.services.social.group(group_id)
    members = api.services.social.members(group_id)
    now_us = api.services.clock.now_us()
    if not who.is_operator and not is_member_at(members, who.subject, now_us):
        raise AuthError("only the group's members see it", code=AuthCode.NOT_YOURS)
    return GroupView.of(group, members)


@router.post("/{group_id}/members", response_model=GroupView, responses=WRITE)
def add_member(
    group_id: str,
    body: NewMemberBody,
    request: Request,
    api: Context,
    who: Caller,
    lang: Lang,
    raw: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The group's owner (or an operator) adds a user from now on; someone who is already a
    member stays as they are. Answers the group."""
    group = api.services.social.group(group_id)
    if not who.is_operator and who.subject != group.owner_user_id:
        raise AuthError("only the group's owner adds members", code=AuthCode.NOT_YOURS)

    def action() -> tuple[int, object]:
        social, now_us = api.services.social, api.services.clock.now_us()
        if not is_member_at(social.members(group_id), body.user_id, now_us):
            social.add_member(GroupMember(group_id, body.user_id, now_us))
        return 200, GroupView.of(group, social.members(group_id)).model_dump(mode="json")

    return idempotent(api, request, who, idempotency_key, raw, lang, action)
