"""What recalls cost socially (R-S1..R-S6): a user's own standing, and operators' views of a
user and of a group. Reads only: the social consumer writes it all."""

from __future__ import annotations

from fastapi import APIRouter

from hongbao.entrypoints.http.context import Caller, Context, Operator, User, ensure_self
from hongbao.entrypoints.http.routes.responses import READ
from hongbao.entrypoints.http.schemas.social import GroupSocialView, SocialView

router = APIRouter(prefix="/v1", tags=["social"])


@router.get("/me/social", response_model=SocialView, responses=READ)
def my_social(api: Context, who: User) -> SocialView:
    """The caller's social payment score, active penalties and group bans with their end
    times, the weights towards people they recalled from, and the newest changes with their
    causes."""
    return SocialView.of(api.services.social.standing(who.subject))


@router.get("/users/{user_id}/social", response_model=SocialView, responses=READ)
def user_social(user_id: str, api: Context, who: Caller) -> SocialView:
    """A user's social standing: the user themselves or an operator."""
    ensure_self(who, user_id)
    return SocialView.of(api.services.social.standing(user_id))


@router.get("/operator/groups/{group_id}/social", response_model=GroupSocialView, responses=READ)
def group_social(group_id: str, api: Context, _: Operator) -> GroupSocialView:
    """The senders who recalled in a group, their recent recalls there and their bans."""
    return GroupSocialView.of(api.services.social.group_standing(group_id))
