"""What people and operators see of recalls' social consequences: a user's score with its
active penalties, bans and pair weights, the change log, and one group's senders."""

from __future__ import annotations

from dataclasses import dataclass

from hongbao.identity.service import MAX_LISTED
from hongbao.policy.document import Policy
from hongbao.social.consequences import (
    FULL_WEIGHT_PERMILLE,
    GroupStanding,
    Penalty,
    SocialChange,
    active,
    pair_cap_minor,
    score_at,
    weight_at,
)
from hongbao.social.groups import Group
from hongbao.social.ports import UnitOfWork

MAX_CHANGES_SHOWN = 50


@dataclass(frozen=True, slots=True)
class ActiveBan:
    """Group packets paused in one group until ``until_us`` (R-S2)."""

    group_id: str
    recalls: int
    threshold: int
    from_us: int
    until_us: int


@dataclass(frozen=True, slots=True)
class FriendWeight:
    """The user's lowered weight towards one person (R-S3): what one personal packet to them may
    hold now, and when the last penalty lapses."""

    user_id: str
    weight_permille: int
    cap_minor: int
    recovers_at_us: int


@dataclass(frozen=True, slots=True)
class SocialStanding:
    user_id: str
    score: int
    starting: int
    maximum: int
    penalties: tuple[Penalty, ...]  # active now, soonest-lapsing first
    bans: tuple[ActiveBan, ...]
    weights: tuple[FriendWeight, ...]  # only the lowered ones: the others are full
    changes: tuple[SocialChange, ...]  # the newest, at most MAX_CHANGES_SHOWN
    currency: str


@dataclass(frozen=True, slots=True)
class GroupSocial:
    """One group's senders who recalled there, each with their window and ban (operators)."""

    group: Group
    threshold: int
    window_hours: int
    standings: tuple[GroupStanding, ...]


def standing_of(uow: UnitOfWork, user_id: str, policy: Policy, now_us: int) -> SocialStanding:
    social = policy.social
    state = uow.social.scores.get(user_id)
    bans = tuple(
        ActiveBan(
            s.group_id,
            s.ban_recalls,
            s.ban_threshold,
            s.banned_from_us or 0,
            s.banned_until_us or 0,
        )
        for s in uow.social.standings_of(user_id, limit=MAX_LISTED)
        if s.banned_at(now_us)
    )
    full_minor = policy.packets.limits("personal").max_total_minor
    weights: list[FriendWeight] = []
    for pair in uow.social.weights_from(user_id, limit=MAX_LISTED):
        weight = weight_at(pair, now_us, social.pairs)
        lapsing = [penalty.until_us for penalty in active(pair.penalties, now_us)]
        if weight < FULL_WEIGHT_PERMILLE and lapsing:
            cap = pair_cap_minor(weight, full_minor)
            weights.append(FriendWeight(pair.to_user_id, weight, cap, max(lapsing)))
    return SocialStanding(
        user_id=user_id,
        score=score_at(state, now_us, social.score),
        starting=social.score.starting,
        maximum=social.score.maximum,
        penalties=tuple(
            sorted(active(state.penalties if state else (), now_us), key=lambda p: p.until_us)
        ),
        bans=bans,
        weights=tuple(weights),
        changes=tuple(uow.social.changes_of(user_id, limit=MAX_CHANGES_SHOWN)),
        currency=policy.packets.currency,
    )


def group_social(uow: UnitOfWork, group: Group, policy: Policy) -> GroupSocial:
    groups = policy.social.groups
    return GroupSocial(
        group=group,
        threshold=groups.threshold(group.group_type.value),
        window_hours=groups.window_hours,
        standings=tuple(uow.social.standings_in_group(group.id, limit=MAX_LISTED)),
    )
