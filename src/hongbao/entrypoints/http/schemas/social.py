"""Bodies of the social consequences of recalls: a user's standing and one group's senders."""

from __future__ import annotations

from hongbao.entrypoints.http.schemas import Amount, Body, iso_time
from hongbao.social.consequences import GroupStanding, Penalty, SocialChange
from hongbao.social.views import ActiveBan, FriendWeight, GroupSocial, SocialStanding


class PenaltyView(Body):
    rule: str  # daily_excess | monthly_excess
    points: int
    packet_id: str
    from_us: int
    until_us: int
    until: str

    @classmethod
    def of(cls, penalty: Penalty) -> PenaltyView:
        return cls(
            rule=penalty.rule.value,
            points=penalty.points,
            packet_id=penalty.packet_id,
            from_us=penalty.from_us,
            until_us=penalty.until_us,
            until=iso_time(penalty.until_us),
        )


class BanView(Body):
    group_id: str
    recalls: int  # within the window, when the ban started or was extended
    threshold: int
    from_us: int
    until_us: int
    until: str

    @classmethod
    def of(cls, ban: ActiveBan) -> BanView:
        return cls(
            group_id=ban.group_id,
            recalls=ban.recalls,
            threshold=ban.threshold,
            from_us=ban.from_us,
            until_us=ban.until_us,
            until=iso_time(ban.until_us),
        )


class WeightView(Body):
    user_id: str  # towards whom
    weight_permille: int
    cap: Amount  # the most one personal packet to them may hold now
    recovers_at_us: int
    recovers_at: str

    @classmethod
    def of(cls, weight: FriendWeight, currency: str) -> WeightView:
        return cls(
            user_id=weight.user_id,
            weight_permille=weight.weight_permille,
            cap=Amount.of(weight.cap_minor, currency),
            recovers_at_us=weight.recovers_at_us,
            recovers_at=iso_time(weight.recovers_at_us),
        )


class ChangeView(Body):
    at_us: int
    at: str
    kind: str  # score | group_ban | pair_weight | intimacy
    rule: str
    amount: int  # points, per mille, or the ban's hours
    count: int
    allowed: int
    until_us: int | None
    until: str | None
    packet_id: str
    group_id: str | None
    other_user_id: str | None

    @classmethod
    def of(cls, change: SocialChange) -> ChangeView:
        return cls(
            at_us=change.at_us,
            at=iso_time(change.at_us),
            kind=change.kind.value,
            rule=change.rule.value,
            amount=change.amount,
            count=change.count,
            allowed=change.allowed,
            until_us=change.until_us,
            until=iso_time(change.until_us),
            packet_id=change.packet_id,
            group_id=change.group_id,
            other_user_id=change.other_user_id,
        )


class SocialView(Body):
    user_id: str
    score: int  # the social payment score (社交支付分), 0 to maximum
    starting: int
    maximum: int
    penalties: list[PenaltyView]
    bans: list[BanView]
    weights: list[WeightView]
    changes: list[ChangeView]

    @classmethod
    def of(cls, standing: SocialStanding) -> SocialView:
        return cls(
            user_id=standing.user_id,
            score=standing.score,
            starting=standing.starting,
            maximum=standing.maximum,
            penalties=[PenaltyView.of(penalty) for penalty in standing.penalties],
            bans=[BanView.of(ban) for ban in standing.bans],
            weights=[WeightView.of(weight, standing.currency) for weight in standing.weights],
            changes=[ChangeView.of(change) for change in standing.changes],
        )


class SenderView(Body):
    user_id: str
    recent_recalls_us: list[int]  # within the window of their last recall there
    banned_from_us: int | None
    banned_until_us: int | None
    banned_until: str | None

    @classmethod
    def of(cls, standing: GroupStanding) -> SenderView:
        return cls(
            user_id=standing.user_id,
            recent_recalls_us=list(standing.recalls_us),
            banned_from_us=standing.banned_from_us,
            banned_until_us=standing.banned_until_us,
            banned_until=iso_time(standing.banned_until_us),
        )


class GroupSocialView(Body):
    group_id: str
    group_type: str
    threshold: int  # recalls by one sender within the window that pause their group packets
    window_hours: int
    senders: list[SenderView]

    @classmethod
    def of(cls, social: GroupSocial) -> GroupSocialView:
        return cls(
            group_id=social.group.id,
            group_type=social.group.group_type.value,
            threshold=social.threshold,
            window_hours=social.window_hours,
            senders=[SenderView.of(standing) for standing in social.standings],
        )
