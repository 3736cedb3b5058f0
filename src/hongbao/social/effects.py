"""Applying one recall's social consequences (R-S1..R-S6), exactly once, inside the relay's
transaction.

The social consumer hands each recall here as a :class:`RecalledPacket`. Its effects, the
change log and the event's :class:`AppliedEvent` mark are written together, so a redelivered
event (a relay that crashed after the effects but before its ``delivered`` mark could not
commit one without the other; a replayed dead delivery can) finds the mark and changes
nothing. The people a recall concerns are locked first, in id order: two relays applying
recalls of one sender take turns, so counts and penalties never lose an update.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hongbao.identity.reads import find_user, lock_users
from hongbao.money import Money
from hongbao.platform.invariants import invariant, present
from hongbao.policy.document import Policy, SocialPolicy
from hongbao.social.consequences import (
    MAX_WINDOW_RECALLS,
    MICROSECONDS_PER_DAY,
    MICROSECONDS_PER_HOUR,
    AppliedEvent,
    ChangeKind,
    ChangeRule,
    GroupStanding,
    PairWeight,
    Penalty,
    RecallCount,
    RecalledPacket,
    ScoreState,
    SocialChange,
    in_window,
    intimacy_drop,
    kept,
    pair_cap_minor,
    periods,
    scaled,
    weight_at,
)
from hongbao.social.groups import Relationship, is_top_chat_partner
from hongbao.social.ports import UnitOfWork
from hongbao.social.words import RecallCost


@dataclass
class _Changes:
    """The changes one recall makes, numbered in the order they are made."""

    recalled: RecalledPacket
    made: list[SocialChange] = field(default_factory=list)

    def add(
        self,
        user_id: str,
        kind: ChangeKind,
        rule: ChangeRule,
        *,
        amount: int,
        count: int,
        allowed: int,
        until_us: int | None,
        other_user_id: str | None = None,
    ) -> None:
        at_us = self.recalled.recalled_at_us
        self.made.append(
            SocialChange(
                user_id=user_id,
                change_id=f"{self.recalled.event_id}:{len(self.made)}",
                newest_first=-at_us,
                at_us=at_us,
                kind=kind,
                rule=rule,
                amount=amount,
                count=count,
                allowed=allowed,
                until_us=until_us,
                event_id=self.recalled.event_id,
                packet_id=self.recalled.packet_id,
                group_id=self.recalled.group_id,
                other_user_id=other_user_id,
            )
        )


def apply_recall(
    uow: UnitOfWork, recalled: RecalledPacket, policy: Policy, now_us: int
) -> list[SocialChange]:
    """Apply ``recalled``'s consequences once; a second call for its event changes nothing and
    returns no change. ``now_us`` only prunes penalties that have lapsed."""
    invariant(
        (recalled.recipient_id is None) != (recalled.group_id is None),
        "a recalled packet went to one person or one group",
        packet_id=recalled.packet_id,
    )
    people = {recalled.sender_id} | ({recalled.recipient_id} if recalled.recipient_id else set())
    lock_users(uow.identity, people)
    if uow.social.applied_events.get(recalled.event_id) is not None:
        return []
    social = policy.social
    sender = present(
        find_user(uow.identity, recalled.sender_id),
        "a recalled packet's sender is registered",
        user_id=recalled.sender_id,
    )
    rule = social.user_type(sender.user_type.value)
    penalty_us = rule.penalty_days * MICROSECONDS_PER_DAY
    changes = _Changes(recalled)
    score = _ScoreUpdate(recalled, now_us, penalty_us)
    day_count, month_count = _count(uow, recalled, policy.recall.timezone)
    if day_count > rule.safe_recalls_per_day:
        points = scaled(social.score.daily_excess_points, rule.coefficient_percent)
        score.lower(ChangeRule.DAILY_EXCESS, points)
        changes.add(
            recalled.sender_id,
            ChangeKind.SCORE,
            ChangeRule.DAILY_EXCESS,
            amount=-points,
            count=day_count,
            allowed=rule.safe_recalls_per_day,
            until_us=score.until_us,
        )
    if month_count > social.score.monthly_safe_recalls:
        points = scaled(social.score.monthly_excess_points, rule.coefficient_percent)
        score.lower(ChangeRule.MONTHLY_EXCESS, points)
        changes.add(
            recalled.sender_id,
            ChangeKind.SCORE,
            ChangeRule.MONTHLY_EXCESS,
            amount=-points,
            count=month_count,
            allowed=social.score.monthly_safe_recalls,
            until_us=score.until_us,
        )
    score.write(uow)
    if recalled.group_id is not None:
        _group(uow, recalled, recalled.group_id, social, changes)
    if recalled.recipient_id is not None:
        _pair(
            uow,
            recalled,
            recalled.recipient_id,
            social,
            penalty_us=penalty_us,
            now_us=now_us,
            changes=changes,
        )
        _intimacy(uow, recalled, recalled.recipient_id, social, changes)
    uow.social.applied_events.insert(AppliedEvent(recalled.event_id, now_us))
    if changes.made:
        uow.social.changes.insert_many(changes.made)
    return changes.made


def _count(uow: UnitOfWork, recalled: RecalledPacket, zone: str) -> tuple[int, int]:
    """Count the recall in its local day and calendar month; the counts with it included."""
    day, month = periods(recalled.recalled_at_us, zone)
    keys = [(recalled.sender_id, day), (recalled.sender_id, month)]
    found = uow.social.recall_counts.get_many(keys)
    counted: list[int] = []
    for key in keys:
        earlier = found.get(key)
        now = RecallCount(key[0], key[1], (earlier.count if earlier else 0) + 1)
        if earlier is None:
            uow.social.recall_counts.insert(now)
        else:
            uow.social.recall_counts.replace(now)
        counted.append(now.count)
    return counted[0], counted[1]


@dataclass
class _ScoreUpdate:
    recalled: RecalledPacket
    now_us: int
    penalty_us: int
    added: list[Penalty] = field(default_factory=list)

    @property
    def until_us(self) -> int:
        return self.recalled.recalled_at_us + self.penalty_us

    def lower(self, rule: ChangeRule, points: int) -> None:
        recalled = self.recalled
        self.added.append(
            Penalty(
                recalled.event_id,
                recalled.packet_id,
                rule,
                points,
                recalled.recalled_at_us,
                self.until_us,
            )
        )

    def write(self, uow: UnitOfWork) -> None:
        if not self.added:
            return
        user_id = self.recalled.sender_id
        earlier = uow.social.scores.get(user_id)
        penalties = kept((*(earlier.penalties if earlier else ()), *self.added), self.now_us)
        state = ScoreState(user_id, penalties, self.now_us)
        if earlier is None:
            uow.social.scores.insert(state)
        else:
            uow.social.scores.replace(state)


def _group(
    uow: UnitOfWork,
    recalled: RecalledPacket,
    group_id: str,
    social: SocialPolicy,
    changes: _Changes,
) -> None:
    """R-S2, R-S6: count the recall in the sender's window in the group; at the group type's
    threshold, pause their group packets there (a later recall over it extends the pause)."""
    group = present(uow.social.groups.get(group_id), "a group packet's group exists")
    threshold = social.groups.threshold(group.group_type.value)
    at_us = recalled.recalled_at_us
    earlier = uow.social.group_standings.get(group_id, recalled.sender_id)
    window = in_window(
        (*(earlier.recalls_us if earlier else ()), at_us), at_us, social.groups.window_hours
    )[-MAX_WINDOW_RECALLS:]
    standing = earlier or GroupStanding(group_id, recalled.sender_id, (), None, None, 0, threshold)
    standing = replace(standing, recalls_us=window)
    if len(window) >= threshold:
        until_us = at_us + social.groups.ban_hours * MICROSECONDS_PER_HOUR
        extends = standing.banned_at(at_us)
        standing = replace(
            standing,
            banned_from_us=standing.banned_from_us if extends else at_us,
            banned_until_us=max(until_us, standing.banned_until_us or until_us),
            ban_recalls=len(window),
            ban_threshold=threshold,
        )
        changes.add(
            recalled.sender_id,
            ChangeKind.GROUP_BAN,
            ChangeRule.FREQUENT_IN_GROUP,
            amount=social.groups.ban_hours,
            count=len(window),
            allowed=threshold,
            until_us=standing.banned_until_us,
        )
    if earlier is None:
        uow.social.group_standings.insert(standing)
    else:
        uow.social.group_standings.replace(standing)


def _pair(
    uow: UnitOfWork,
    recalled: RecalledPacket,
    recipient_id: str,
    social: SocialPolicy,
    *,
    penalty_us: int,
    now_us: int,
    changes: _Changes,
) -> None:
    """R-S3: lower the sender's weight towards the recipient for the sender's penalty period."""
    at_us = recalled.recalled_at_us
    drop = social.pairs.drop_permille
    penalty = Penalty(
        recalled.event_id,
        recalled.packet_id,
        ChangeRule.RECALL_TO_PERSON,
        drop,
        at_us,
        at_us + penalty_us,
    )
    earlier = uow.social.pair_weights.get(recalled.sender_id, recipient_id)
    penalties = kept((*(earlier.penalties if earlier else ()), penalty), now_us)
    pair = PairWeight(recalled.sender_id, recipient_id, penalties)
    if earlier is None:
        uow.social.pair_weights.insert(pair)
    else:
        uow.social.pair_weights.replace(pair)
    changes.add(
        recalled.sender_id,
        ChangeKind.PAIR_WEIGHT,
        ChangeRule.RECALL_TO_PERSON,
        amount=-drop,
        count=len(penalties),
        allowed=social.pairs.floor_permille,
        until_us=penalty.until_us,
        other_user_id=recipient_id,
    )


def _intimacy(
    uow: UnitOfWork,
    recalled: RecalledPacket,
    recipient_id: str,
    social: SocialPolicy,
    changes: _Changes,
) -> None:
    """R-S5: a recall to one of the sender's top chat partners lowers the intimacy of both
    (双方) by the points the amount recalled decides."""
    sender_id = recalled.sender_id
    found = uow.social.relationships.get_many(
        [(sender_id, recipient_id), (recipient_id, sender_id)], lock=True
    )
    towards = found.get((sender_id, recipient_id))
    top = social.intimacy.top_chat_partners
    if towards is None or not is_top_chat_partner(towards, top):
        return
    points = intimacy_drop(recalled.returned_minor, social.intimacy)
    rank = towards.chat_frequency_rank or 0
    lowered: list[Relationship] = []
    for relationship in (towards, found.get((recipient_id, sender_id))):
        if relationship is None:
            continue
        lowered.append(relationship.with_intimacy_lowered(points))
        changes.add(
            relationship.from_user_id,
            ChangeKind.INTIMACY,
            ChangeRule.CLOSE_RELATIONSHIP,
            amount=-(relationship.intimacy - lowered[-1].intimacy),
            count=rank,
            allowed=top,
            until_us=None,
            other_user_id=relationship.to_user_id,
        )
    uow.social.relationships.replace_many(lowered, columns=("intimacy",))


def preview_recall(
    uow: UnitOfWork, recalled: RecalledPacket, policy: Policy, full_minor: int
) -> RecallCost:
    """What applying ``recalled`` would cost its sender, read now and written nowhere: the
    warning shown before a recall (the decision itself never depends on it). ``full_minor``:
    the personal packet limit, to say what the pair weight would then allow."""
    social = policy.social
    sender = find_user(uow.identity, recalled.sender_id)
    if sender is None:
        return RecallCost()
    rule = social.user_type(sender.user_type.value)
    at_us = recalled.recalled_at_us
    until_us = at_us + rule.penalty_days * MICROSECONDS_PER_DAY
    day, month = periods(at_us, policy.recall.timezone)
    counts = uow.social.recall_counts.get_many([(sender.id, day), (sender.id, month)])
    day_count = (counts[(sender.id, day)].count if (sender.id, day) in counts else 0) + 1
    month_count = (counts[(sender.id, month)].count if (sender.id, month) in counts else 0) + 1
    points = 0
    if day_count > rule.safe_recalls_per_day:
        points += scaled(social.score.daily_excess_points, rule.coefficient_percent)
    if month_count > social.score.monthly_safe_recalls:
        points += scaled(social.score.monthly_excess_points, rule.coefficient_percent)
    cost = RecallCost(score_points=points, score_until_us=until_us if points else None)
    if recalled.group_id is not None:
        group = uow.social.groups.get(recalled.group_id)
        standing = uow.social.group_standings.get(recalled.group_id, sender.id)
        earlier = standing.recalls_us if standing else ()
        window = in_window((*earlier, at_us), at_us, social.groups.window_hours)
        if group is not None and len(window) >= social.groups.threshold(group.group_type.value):
            ban_until = at_us + social.groups.ban_hours * MICROSECONDS_PER_HOUR
            cost = replace(cost, group_ban=True, ban_until_us=ban_until)
    if recalled.recipient_id is not None:
        cost = _pair_preview(
            uow, recalled, recalled.recipient_id, policy, full_minor=full_minor, cost=cost
        )
    return cost


def _pair_preview(
    uow: UnitOfWork,
    recalled: RecalledPacket,
    recipient_id: str,
    policy: Policy,
    *,
    full_minor: int,
    cost: RecallCost,
) -> RecallCost:
    social = policy.social
    at_us = recalled.recalled_at_us
    drop = Penalty(
        recalled.event_id,
        recalled.packet_id,
        ChangeRule.RECALL_TO_PERSON,
        social.pairs.drop_permille,
        at_us,
        at_us + 1,
    )
    earlier = uow.social.pair_weights.get(recalled.sender_id, recipient_id)
    after = PairWeight(
        recalled.sender_id, recipient_id, (*(earlier.penalties if earlier else ()), drop)
    )
    weight = weight_at(after, at_us, social.pairs)
    cap = Money.of(pair_cap_minor(weight, full_minor), policy.packets.currency).format()
    towards = uow.social.relationships.get(recalled.sender_id, recipient_id)
    close = towards is not None and is_top_chat_partner(towards, social.intimacy.top_chat_partners)
    points = intimacy_drop(recalled.returned_minor, social.intimacy) if close else 0
    return replace(cost, weight_permille=weight, cap=cap, intimacy_points=points)
