"""The demo population loads in one call, covers every case the recall rules meet, and reloads."""

from __future__ import annotations

from hongbao.entrypoints.population import load_population
from hongbao.funding.service import FundingService, open_balance
from hongbao.funding.sources import FundingKind
from hongbao.identity.devices import CapabilityKind, DeviceFingerprint
from hongbao.identity.exemptions import ExemptionKind, Subject
from hongbao.identity.service import IdentityService
from hongbao.identity.users import AccountTier, UserType
from hongbao.identity.verification import SimulatedProvider
from hongbao.ledger.service import Ledger
from hongbao.platform.clock import ManualClock
from hongbao.social.groups import GroupType
from hongbao.social.service import SocialService
from hongbao.storage.unit_of_work import Database


def test_the_population_covers_every_tier_type_platform_source_and_group(
    database: Database, clock: ManualClock
) -> None:
    identity = IdentityService(
        database, clock, SimulatedProvider(b"d" * 32), on_register=(open_balance,)
    )
    funding = FundingService(database, clock)
    social = SocialService(database, clock)
    first = load_population(identity, funding, social)
    assert not first.already_loaded
    users = identity.users()
    assert {user.tier for user in users} == set(AccountTier)
    assert {user.user_type for user in users} == set(UserType)
    capabilities = {
        kind
        for user in users
        for device in identity.devices_of(user.id)
        for kind in CapabilityKind
        if identity.capabilities(DeviceFingerprint(device.device_id, device.sim_id)).has(kind)
    }
    assert capabilities == set(CapabilityKind)  # watch cap, HarmonyOS 3, old iOS, EMUI
    kinds = {source.kind for user in users for source in funding.funding_sources(user.id)}
    # Budget sources come with distribution budgets (hongbao.distribution), not with people.
    assert kinds == set(FundingKind) - {FundingKind.BUDGET}
    groups = {"xinghe-team", "class-3-parents", "weekend-gamers", "li-family", "hiking-club"}
    assert {member.group_id for group in groups for member in social.members(group)} == groups
    assert {social.group(group).group_type for group in groups} == set(GroupType)
    assert identity.applicable_exemption(ExemptionKind.VIP, Subject.user("sun-li")) is not None
    assert Ledger(database, clock).verify().ok


def test_loading_the_population_twice_creates_nothing_new(
    database: Database, clock: ManualClock
) -> None:
    identity = IdentityService(
        database, clock, SimulatedProvider(b"d" * 32), on_register=(open_balance,)
    )
    funding = FundingService(database, clock)
    social = SocialService(database, clock)
    load_population(identity, funding, social)
    clock.advance(seconds=3600)
    second = load_population(identity, funding, social)
    assert second.already_loaded
    assert second.created == {}
    assert len(social.members("li-family")) == 3  # owner and two members, not doubled
