"""The demo population: a small, realistic set of people, devices, groups and money sources.

Every tier, user type, platform (watch, HarmonyOS 3, old iOS and a tablet included), funding
source, group type and exemption kind appears at least once, so the demo, the web console,
drills and load tests all meet the cases the recall rules care about. Ids are fixed, so a
second load finds everything in place and creates nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hongbao.funding.service import FundingService
from hongbao.funding.sources import (
    CreditCardSource,
    DebitCardSource,
    ForeignCardSource,
    FundingSource,
    MaintenanceWindow,
    MoneyMarketSource,
    TimeOfDay,
    mask_card_number,
)
from hongbao.identity.devices import Device, FormFactor, Platform, VendorSkin
from hongbao.identity.errors import IdentityCode
from hongbao.identity.exemptions import Exemption, ExemptionKind, SubjectKind
from hongbao.identity.service import IdentityService
from hongbao.identity.users import (
    MICROSECONDS_PER_DAY,
    AccountTier,
    AgeBand,
    Enterprise,
    IdentityError,
    RealNameStatus,
    User,
    UserStatus,
    UserType,
)
from hongbao.social.groups import Group, GroupMember, GroupType, Relationship
from hongbao.social.service import SocialService
from hongbao.storage.unit_of_work import UnitOfWork

VERIFIED = RealNameStatus.VERIFIED


@dataclass
class LoadReport:
    already_loaded: bool
    created: dict[str, int] = field(default_factory=dict)


def _users(now_us: int) -> list[User]:
    days = MICROSECONDS_PER_DAY

    def user(  # noqa: PLR0917 - each table row below reads best positionally
        user_id: str,
        name: str,
        tier: AccountTier,
        user_type: UserType,
        age_days: int,
        band: AgeBand,
        **extra: object,
    ) -> User:
        real_name = RealNameStatus.NOT_VERIFIED if tier is AccountTier.UNVERIFIED else VERIFIED
        return User(
            user_id,
            name,
            tier,
            user_type,
            now_us - age_days * days,
            real_name,
            band,
            **extra,  # type: ignore[arg-type]
        )

    return [
        user("li-wei", "李伟", AccountTier.CLASS_I, UserType.NORMAL, 400, AgeBand.FROM_26_TO_35),
        user("wang-fang", "王芳", AccountTier.CLASS_II, UserType.NORMAL, 900, AgeBand.FROM_36),
        user("zhang-min", "张敏", AccountTier.CLASS_III, UserType.NORMAL, 60, AgeBand.FROM_18_TO_25),
        user("chen-jie", "陈杰", AccountTier.UNVERIFIED, UserType.NORMAL, 20, AgeBand.FROM_18_TO_25),
        user("liu-yang", "刘洋", AccountTier.CLASS_I, UserType.NORMAL, 2, AgeBand.FROM_26_TO_35),
        user("zhao-lei", "赵磊", AccountTier.CLASS_I, UserType.BUSINESS, 700, AgeBand.FROM_60),
        user("sun-li", "孙丽", AccountTier.CLASS_I, UserType.NORMAL, 1500, AgeBand.FROM_36, is_vip=True),
        user("zhou-qiang", "周强", AccountTier.CLASS_I, UserType.NORMAL, 300, AgeBand.FROM_36,
             status=UserStatus.FROZEN, status_reason="reported a lost phone"),
        user("huaxia-edu", "华夏教育", AccountTier.ENTERPRISE, UserType.ENTERPRISE, 1200, AgeBand.FROM_36),
        user("xinghe-tech", "星河科技", AccountTier.ENTERPRISE, UserType.ENTERPRISE, 800, AgeBand.FROM_36),
        user("wu-ting", "吴婷", AccountTier.CLASS_I, UserType.NORMAL, 500, AgeBand.FROM_26_TO_35,
             status=UserStatus.ABNORMAL, status_reason="unusual login pattern under review"),
    ]  # fmt: skip # a data table: one row per line, so rows read as records


def _devices(now_us: int) -> list[Device]:
    spec = [
        ("li-wei-iphone14pro", "li-wei", "sim-li-wei-1", Platform.IOS, "17.1", VendorSkin.NONE, "iPhone 14 Pro", FormFactor.PHONE),
        ("li-wei-watch", "li-wei", "esim-li-wei-watch", Platform.WATCHOS, "10.1", VendorSkin.NONE, "Apple Watch Series 9", FormFactor.WATCH),
        ("wang-fang-mate50", "wang-fang", "sim-wang-fang-1", Platform.HARMONYOS, "3.0", VendorSkin.NONE, "HUAWEI Mate 50", FormFactor.PHONE),
        ("zhang-min-iphone8", "zhang-min", "sim-zhang-min-1", Platform.IOS, "12.3.1", VendorSkin.NONE, "iPhone 8", FormFactor.PHONE),
        ("chen-jie-p30", "chen-jie", "sim-chen-jie-1", Platform.ANDROID, "10", VendorSkin.EMUI, "HUAWEI P30", FormFactor.PHONE),
        ("liu-yang-xiaomi13u", "liu-yang", "sim-liu-yang-1", Platform.ANDROID, "13", VendorSkin.MIUI, "Xiaomi 13 Ultra", FormFactor.PHONE),
        ("zhao-lei-ipad", "zhao-lei", "sim-zhao-lei-ipad", Platform.IOS, "16.6", VendorSkin.NONE, "iPad Air", FormFactor.TABLET),
        ("zhao-lei-matepad", "zhao-lei", "sim-zhao-lei-pad", Platform.HARMONYOS, "3.1", VendorSkin.NONE, "HUAWEI MatePad 11", FormFactor.TABLET),
        ("sun-li-galaxywatch", "sun-li", "esim-sun-li-watch", Platform.WEAROS, "4", VendorSkin.NONE, "Galaxy Watch6", FormFactor.WATCH),
        ("sun-li-s23", "sun-li", "sim-sun-li-1", Platform.ANDROID, "14", VendorSkin.ONEUI, "Galaxy S23", FormFactor.PHONE),
        ("huaxia-edu-desk", "huaxia-edu", "sim-huaxia-1", Platform.ANDROID, "12", VendorSkin.COLOROS, "OPPO Find X6", FormFactor.PHONE),
        ("xinghe-tech-iphone15", "xinghe-tech", "sim-xinghe-1", Platform.IOS, "17.2", VendorSkin.NONE, "iPhone 15", FormFactor.PHONE),
        ("zhou-qiang-vivo", "zhou-qiang", "sim-zhou-qiang-1", Platform.ANDROID, "13", VendorSkin.ORIGINOS, "vivo X90", FormFactor.PHONE),
        ("wu-ting-iphone13", "wu-ting", "sim-wu-ting-1", Platform.IOS, "16.0", VendorSkin.NONE, "iPhone 13", FormFactor.PHONE),
    ]  # fmt: skip # a data table: one row per line, so rows read as records
    return [Device(*row, registered_at_us=now_us - 30 * MICROSECONDS_PER_DAY) for row in spec]


def _funding() -> list[FundingSource]:
    bank_nightly = MaintenanceWindow(TimeOfDay(23, 30), TimeOfDay(0, 30))
    sunday_early = MaintenanceWindow(TimeOfDay(2, 0), TimeOfDay(4, 0), weekday=7)
    confirmations = (TimeOfDay(9, 30), TimeOfDay(15, 0))
    return [
        MoneyMarketSource("li-wei-lingqiantong", "li-wei", confirmations),
        DebitCardSource("li-wei-icbc", "li-wei", "ICBC", mask_card_number("6222020000000000000"), (bank_nightly,)),
        CreditCardSource("wang-fang-cmb", "wang-fang", "China Merchants Bank", mask_card_number("5555555555554444"), 5),
        DebitCardSource("zhang-min-ccb", "zhang-min", "CCB", mask_card_number("4111111111111111"), (sunday_early,)),
        ForeignCardSource("sun-li-visa-usd", "sun-li", "USD", mask_card_number("4012888888881881")),
        ForeignCardSource("zhao-lei-hkd", "zhao-lei", "HKD", mask_card_number("4000056655665556")),
        CreditCardSource("zhao-lei-boc", "zhao-lei", "Bank of China", mask_card_number("5105105105105100"), 20),
        MoneyMarketSource("xinghe-tech-lingqiantong", "xinghe-tech", confirmations),
    ]  # fmt: skip # a data table: one row per line, so rows read as records


def _groups(now_us: int) -> tuple[list[Group], list[GroupMember]]:
    since = now_us - 90 * MICROSECONDS_PER_DAY
    groups = [
        Group("xinghe-team", "星河科技项目组", GroupType.WORK, "xinghe-tech", since),
        Group("class-3-parents", "三年二班家长群", GroupType.EDUCATION, "huaxia-edu", since),
        Group("weekend-gamers", "周末开黑", GroupType.ENTERTAINMENT, "zhang-min", since),
        Group("li-family", "李家亲友", GroupType.FAMILY, "li-wei", since),
        Group("hiking-club", "徒步俱乐部", GroupType.OTHER, "sun-li", since),
    ]
    joined = since + MICROSECONDS_PER_DAY
    membership = {
        "xinghe-team": ["li-wei", "liu-yang", "zhao-lei"],
        "class-3-parents": ["wang-fang", "li-wei", "wu-ting"],
        "weekend-gamers": ["chen-jie", "liu-yang"],
        "li-family": ["wang-fang", "zhou-qiang"],
        "hiking-club": ["zhao-lei", "wang-fang"],
    }
    members = [
        GroupMember(group_id, user_id, joined)
        for group_id, users in membership.items()
        for user_id in users
    ]
    return groups, members


def _relationships() -> list[Relationship]:
    return [
        Relationship("li-wei", "wang-fang", 1, 92, 500),
        Relationship("wang-fang", "li-wei", 2, 90, 500),
        Relationship("li-wei", "liu-yang", 8, 60, 200),
        Relationship("li-wei", "zhao-lei", 25, 35, 100),
        Relationship("zhang-min", "chen-jie", 3, 70, 150),
        Relationship("sun-li", "wang-fang", None, 10, 50),
    ]


def _exemptions(now_us: int) -> list[Exemption]:
    start = now_us - 10 * MICROSECONDS_PER_DAY
    year = 365 * MICROSECONDS_PER_DAY
    return [
        Exemption("vip-sun-li", ExemptionKind.VIP, SubjectKind.USER, "sun-li", "platinum VIP", start, start + year),
        Exemption("travel-zhao-lei", ExemptionKind.TRAVEL_WHITELIST, SubjectKind.USER, "zhao-lei", "business visa to Singapore", start, start + 30 * MICROSECONDS_PER_DAY),
        Exemption("certified-xinghe", ExemptionKind.CERTIFIED_ENTERPRISE, SubjectKind.ENTERPRISE, "xinghe", "enterprise certification 2026", start, None),
        Exemption("edu-class-3", ExemptionKind.EDUCATION_GREEN_CHANNEL, SubjectKind.GROUP, "class-3-parents", "verified school fee collection", start, None),
    ]  # fmt: skip # a data table: one row per line, so rows read as records


def load_population(
    identity: IdentityService[UnitOfWork], funding: FundingService, social: SocialService
) -> LoadReport:
    """Register everyone and everything above, once: a second load finds it and does nothing.

    The marker is the first user: the population goes in as a whole or, if a step fails, the
    error says which record; its records carry times relative to the first load.
    """
    now_us = identity.clock.now_us()
    users = _users(now_us)
    try:
        identity.user(users[0].id)
    except IdentityError as error:
        if error.code != IdentityCode.UNKNOWN_USER:
            raise
    else:
        return LoadReport(already_loaded=True)
    groups, members = _groups(now_us)
    enterprises = [
        Enterprise("xinghe", "星河科技有限公司", "xinghe-tech", True, "**** 8821"),
        Enterprise("huaxia", "华夏教育集团", "huaxia-edu", False, None),
    ]
    steps: list[tuple[str, list[Any], Callable[[Any], object]]] = [
        ("users", list(reversed(users)), identity.register_user),
        ("enterprises", enterprises, identity.register_enterprise),
        ("devices", _devices(now_us), identity.register_device),
        ("funding sources", _funding(), funding.add_funding_source),
        ("groups", groups, social.create_group),
        ("group members", members, social.add_member),
        ("relationships", _relationships(), social.set_relationship),
        ("exemptions", _exemptions(now_us), identity.add_exemption),
    ]
    report = LoadReport(already_loaded=False)
    for what, records, register in steps:
        for record in records:
            register(record)
        report.created[what] = len(records)
    return report
