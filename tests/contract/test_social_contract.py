"""The social consequences of recalls (R-S1..R-S6) on every adapter: each number at its
boundary for each user type and group type, bans and penalties starting and lapsing, and each
event applied exactly once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hongbao.funding.service import open_balance
from hongbao.identity.service import IdentityService
from hongbao.identity.users import AccountTier, RealNameStatus, User, UserType
from hongbao.identity.verification import SimulatedProvider
from hongbao.platform.clock import ManualClock, from_datetime
from hongbao.policy.document import default_policy
from hongbao.social.consequences import (
    MICROSECONDS_PER_DAY,
    MICROSECONDS_PER_HOUR,
    ChangeKind,
    ChangeRule,
    RecalledPacket,
    SocialChange,
    score_at,
    weight_at,
)
from hongbao.social.effects import apply_recall
from hongbao.social.groups import Group, GroupMember, GroupType, Relationship
from hongbao.social.service import SocialService
from hongbao.storage.unit_of_work import Database
from tests.conftest import START_US

POLICY = default_policy()
SOCIAL = POLICY.social
BEIJING = ZoneInfo("Asia/Shanghai")
# A Tuesday morning early in a month: its days and its month hold every test's recalls.
MORNING = from_datetime(datetime(2026, 12, 1, 9, 0, tzinfo=BEIJING))
USERS = {"norma": UserType.NORMAL, "bizzy": UserType.BUSINESS, "entro": UserType.ENTERPRISE}
FRIEND = "frank"


@pytest.fixture
def social(database: Database, clock: ManualClock) -> SocialService:
    identity = IdentityService(
        database, clock, SimulatedProvider(b"p" * 32), on_register=(open_balance,)
    )
    for name, user_type in {**USERS, FRIEND: UserType.NORMAL}.items():
        tier = AccountTier.ENTERPRISE if user_type is UserType.ENTERPRISE else AccountTier.CLASS_I
        identity.register_user(
            User(name, name.title(), tier, user_type, START_US, RealNameStatus.VERIFIED)
        )
    service = SocialService(database, clock)
    for group_type in GroupType:
        group_id = f"g-{group_type.value}"
        service.create_group(Group(group_id, group_type.value, group_type, FRIEND, START_US))
        for name in USERS:
            service.add_member(GroupMember(group_id, name, START_US))
    return service


_serial = iter(range(1_000_000))


def recall(
    social: SocialService,
    sender: str,
    at_us: int,
    *,
    group_id: str | None = None,
    recipient_id: str | None = None,
    returned: int = 10_00,
    event_id: str | None = None,
) -> list[SocialChange]:
    """Apply one recall's consequences, as the social consumer does."""
    serial = next(_serial)
    if group_id is None and recipient_id is None:
        group_id = "g-other"  # a group packet unless the test says otherwise
    recalled = RecalledPacket(
        event_id=event_id or f"e-{serial}",
        packet_id=f"p-{serial}",
        sender_id=sender,
        recipient_id=recipient_id if group_id is None else None,
        group_id=group_id,
        returned_minor=returned,
        recalled_at_us=at_us,
    )
    return social.database.transact(lambda uow: apply_recall(uow, recalled, POLICY, at_us))


def score(social: SocialService, user: str, at_us: int) -> int:
    state = social.database.read(lambda uow: uow.social.scores.get(user))
    return score_at(state, at_us, SOCIAL.score)


def score_changes(changes: list[SocialChange]) -> list[tuple[ChangeRule, int]]:
    return [(c.rule, c.amount) for c in changes if c.kind is ChangeKind.SCORE]


SAFE = {
    "norma": (2, -10, 7),  # R-S4: normal 2 safe a day, x1.0, 7 days
    "bizzy": (1, -15, 15),  # business 1, x1.5, 15 days
    "entro": (5, -8, 3),  # enterprise 5, x0.8, 3 days
}


@pytest.mark.parametrize("user", sorted(USERS))
def test_recalls_within_the_safe_daily_count_cost_nothing_and_the_next_one_costs_points(
    social: SocialService, user: str
) -> None:
    """The month's count may cost points of its own (an enterprise's fourth recall): this test
    looks at the daily rule alone."""
    safe, points, _days = SAFE[user]
    for index in range(safe):
        rules = [rule for rule, _amount in score_changes(recall(social, user, MORNING + index))]
        assert ChangeRule.DAILY_EXCESS not in rules
    beyond = score_changes(recall(social, user, MORNING + safe))
    assert (ChangeRule.DAILY_EXCESS, points) in beyond
    at_us = MORNING + safe
    assert score(social, user, at_us) - score(social, user, at_us - 1) == sum(
        amount for _rule, amount in beyond
    )


@pytest.mark.parametrize(("user", "points"), [("norma", -20), ("bizzy", -30), ("entro", -16)])
def test_the_fourth_recall_of_a_calendar_month_lowers_the_score_by_the_coefficient(
    social: SocialService, user: str, points: int
) -> None:
    """One recall a day (inside every type's safe count), on four days of one month."""
    for day in range(3):
        assert score_changes(recall(social, user, MORNING + day * MICROSECONDS_PER_DAY)) == []
    fourth = recall(social, user, MORNING + 3 * MICROSECONDS_PER_DAY)
    assert score_changes(fourth) == [(ChangeRule.MONTHLY_EXCESS, points)]


def test_a_new_calendar_month_starts_its_count_again(social: SocialService) -> None:
    last_day = from_datetime(datetime(2026, 12, 28, 12, 0, tzinfo=BEIJING))
    for day in range(3):
        recall(social, "norma", last_day + day * MICROSECONDS_PER_DAY)  # 28th, 29th, 30th
    # 2027-01-01 00:00 Beijing time: a new day and a new month.
    new_year = from_datetime(datetime(2027, 1, 1, 0, 0, tzinfo=BEIJING))
    assert score_changes(recall(social, "norma", new_year)) == []
    assert score_changes(recall(social, "norma", new_year - 1)) == [
        (ChangeRule.MONTHLY_EXCESS, -20)
    ]


def test_the_local_day_ends_at_beijing_midnight(social: SocialService) -> None:
    midnight = from_datetime(datetime(2026, 12, 2, 0, 0, tzinfo=BEIJING))
    recall(social, "norma", midnight - 2)
    recall(social, "norma", midnight - 1)
    assert score_changes(recall(social, "norma", midnight)) == []


@pytest.mark.parametrize("user", sorted(USERS))
def test_a_penalty_lapses_after_the_user_types_period_and_the_score_recovers(
    social: SocialService, user: str
) -> None:
    """Earlier recalls' penalties (the month's) lapse a microsecond apart before the last's."""
    safe, points, days = SAFE[user]
    last: list[SocialChange] = []
    for index in range(safe + 1):
        last = recall(social, user, MORNING + index)
    ends = MORNING + safe + days * MICROSECONDS_PER_DAY
    assert (ChangeRule.DAILY_EXCESS, points) in score_changes(last)
    lowered = sum(amount for _rule, amount in score_changes(last))
    assert score(social, user, ends - 1) == SOCIAL.score.starting + lowered
    assert score(social, user, ends) == SOCIAL.score.starting


@pytest.mark.parametrize(
    ("group_type", "threshold"),
    [
        (GroupType.ENTERTAINMENT, 3),
        (GroupType.FAMILY, 3),
        (GroupType.OTHER, 3),
        (GroupType.WORK, 4),  # R-S6: ceil(3 x 1.3) = 4
        (GroupType.EDUCATION, 4),
    ],
)
def test_the_group_threshold_bans_at_its_count_for_each_group_type(
    social: SocialService, group_type: GroupType, threshold: int
) -> None:
    group_id = f"g-{group_type.value}"
    hour = MICROSECONDS_PER_HOUR
    for index in range(threshold - 1):
        changes = recall(social, "norma", MORNING + index * hour, group_id=group_id)
        assert not [c for c in changes if c.kind is ChangeKind.GROUP_BAN]
    at_us = MORNING + (threshold - 1) * hour
    ban = [
        c
        for c in recall(social, "norma", at_us, group_id=group_id)
        if c.kind is ChangeKind.GROUP_BAN
    ]
    assert [(c.count, c.allowed, c.until_us) for c in ban] == [
        (threshold, threshold, at_us + 24 * hour)
    ]
    standing = social.database.read(lambda uow: uow.social.group_standings.get(group_id, "norma"))
    assert standing is not None
    assert (standing.banned_from_us, standing.banned_until_us) == (at_us, at_us + 24 * hour)
    assert standing.banned_at(at_us + 24 * hour - 1)
    assert not standing.banned_at(at_us + 24 * hour)


@pytest.mark.parametrize(("after_first", "banned"), [(0, False), (-1, True)])
def test_a_recall_one_window_old_no_longer_counts_towards_a_ban(
    social: SocialService, after_first: int, banned: bool
) -> None:
    """The window is ``(at - window, at]``: the first recall counts for a third one less than a
    window later, not for one exactly a window later."""
    window = SOCIAL.groups.window_hours * MICROSECONDS_PER_HOUR
    recall(social, "norma", MORNING, group_id="g-entertainment")
    recall(social, "norma", MORNING + 1, group_id="g-entertainment")
    changes = recall(social, "norma", MORNING + window + after_first, group_id="g-entertainment")
    assert bool([c for c in changes if c.kind is ChangeKind.GROUP_BAN]) is banned


def test_a_ban_is_per_group(social: SocialService) -> None:
    for index in range(3):
        recall(social, "norma", MORNING + index, group_id="g-entertainment")
    other = social.database.read(lambda uow: uow.social.group_standings.get("g-work", "norma"))
    assert other is None


def test_each_recall_of_a_personal_packet_lowers_the_pair_weight_until_it_lapses(
    social: SocialService,
) -> None:
    recall(social, "norma", MORNING, recipient_id=FRIEND)
    recall(social, "norma", MORNING + 1, recipient_id=FRIEND)
    pair = social.database.read(lambda uow: uow.social.pair_weights.get("norma", FRIEND))
    assert weight_at(pair, MORNING + 1, SOCIAL.pairs) == 500
    week = 7 * MICROSECONDS_PER_DAY
    assert weight_at(pair, MORNING + week, SOCIAL.pairs) == 750  # the first lapsed
    assert weight_at(pair, MORNING + 1 + week, SOCIAL.pairs) == 1000
    # The reverse direction is untouched: the recipient did nothing.
    assert social.database.read(lambda uow: uow.social.pair_weights.get(FRIEND, "norma")) is None


def test_the_pair_weight_never_falls_below_its_floor(social: SocialService) -> None:
    for index in range(6):
        recall(social, "norma", MORNING + index, recipient_id=FRIEND)
    pair = social.database.read(lambda uow: uow.social.pair_weights.get("norma", FRIEND))
    assert weight_at(pair, MORNING + 6, SOCIAL.pairs) == SOCIAL.pairs.floor_permille


@pytest.mark.parametrize(
    ("returned", "points"), [(1, 8), (99_99, 9), (100_00, 10), (200_00, 12), (500_00, 12)]
)
def test_a_recall_to_a_top_ten_chat_partner_lowers_both_intimacies_by_8_to_12(
    social: SocialService, returned: int, points: int
) -> None:
    social.set_relationship(Relationship("norma", FRIEND, 10, 60, 100))
    social.set_relationship(Relationship(FRIEND, "norma", 30, 50, 100))
    changes = recall(social, "norma", MORNING, recipient_id=FRIEND, returned=returned)
    lowered = {(c.user_id, c.amount) for c in changes if c.kind is ChangeKind.INTIMACY}
    assert lowered == {("norma", -points), (FRIEND, -points)}
    found = {(r.from_user_id, r.intimacy) for r in social.relationships_of("norma")}
    assert found == {("norma", 60 - points)}


def test_a_recall_to_the_eleventh_chat_partner_leaves_intimacy_alone(
    social: SocialService,
) -> None:
    social.set_relationship(Relationship("norma", FRIEND, 11, 60, 100))
    changes = recall(social, "norma", MORNING, recipient_id=FRIEND)
    assert not [c for c in changes if c.kind is ChangeKind.INTIMACY]
    assert social.relationships_of("norma")[0].intimacy == 60


def test_an_event_applied_twice_changes_things_once(social: SocialService) -> None:
    for index in range(2):
        recall(social, "norma", MORNING + index)
    first = recall(social, "norma", MORNING + 2, event_id="e-again")
    again = recall(social, "norma", MORNING + 2, event_id="e-again")
    assert score_changes(first) == [(ChangeRule.DAILY_EXCESS, -10)]
    assert again == []
    assert score(social, "norma", MORNING + 3) == SOCIAL.score.starting - 10
    log = social.database.read(lambda uow: uow.social.changes_of("norma", limit=100))
    assert sorted(c.change_id for c in log) == sorted(c.change_id for c in first)
