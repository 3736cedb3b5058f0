"""The identity service on every storage adapter: memory, SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from hongbao.funding.service import FundingService, open_balance
from hongbao.funding.sources import (
    CreditCardSource,
    DebitCardSource,
    ForeignCardSource,
    MaintenanceWindow,
    MoneyMarketSource,
    TimeOfDay,
    mask_card_number,
)
from hongbao.identity.devices import Device, DeviceFingerprint, FormFactor, Platform, VendorSkin
from hongbao.identity.exemptions import Exemption, ExemptionKind, Subject, SubjectKind
from hongbao.identity.service import IdentityService
from hongbao.identity.users import (
    AccountTier,
    IdentityError,
    RealNameStatus,
    User,
    UserStatus,
    UserType,
)
from hongbao.identity.verification import (
    AnswerAttempt,
    AnswerResult,
    ChallengeKind,
    ChallengeRequest,
    ConsumeRequest,
    ConsumeResult,
    OperatorContext,
    SimulatedProvider,
)
from hongbao.ledger.model import AccountKind
from hongbao.ledger.service import Ledger
from hongbao.platform.clock import ManualClock
from hongbao.social.groups import Group, GroupMember, GroupType, Relationship
from hongbao.social.service import SocialService
from hongbao.storage.unit_of_work import Database
from tests.conftest import START_US

PHONE = DeviceFingerprint("iphone-0001", "sim-0001")
OPERATOR = OperatorContext(actor_id="ops-1", is_operator=True)


def alice(**changes: object) -> User:
    fields: dict[str, object] = {
        "id": "alice",
        "display_name": "Alice",
        "tier": AccountTier.CLASS_I,
        "user_type": UserType.NORMAL,
        "registered_at_us": START_US,
        "real_name_status": RealNameStatus.VERIFIED,
    }
    return User(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.fixture
def identity(database: Database, clock: ManualClock) -> IdentityService:
    service = IdentityService(
        database, clock, SimulatedProvider(b"k" * 32), on_register=(open_balance,)
    )
    service.register_user(alice())
    service.register_user(alice(id="bob", display_name="Bob"))
    service.register_device(
        Device(
            PHONE.device_id,
            "alice",
            PHONE.sim_id,
            Platform.IOS,
            "12.3",
            VendorSkin.NONE,
            "iPhone 8",
            FormFactor.PHONE,
            START_US,
        )
    )
    return service


def test_registering_a_user_is_idempotent_and_opens_their_balance(
    identity: IdentityService, funding: FundingService, database: Database, clock: ManualClock
) -> None:
    assert identity.register_user(alice()) == alice()
    assert identity.user("alice") == alice()
    (balance,) = funding.funding_sources("alice")
    account = Ledger(database, clock).account(balance.ledger_account_id)
    assert account.kind is AccountKind.USER_BALANCE
    with pytest.raises(IdentityError) as taken:
        identity.register_user(alice(display_name="Someone else"))
    assert taken.value.code == "identity.already_exists"
    assert identity.user("alice").display_name == "Alice"


@pytest.fixture
def funding(identity: IdentityService, database: Database, clock: ManualClock) -> FundingService:
    """Funding sources of the users the ``identity`` fixture registered."""
    del identity
    return FundingService(database, clock)


@pytest.fixture
def social(identity: IdentityService, database: Database, clock: ManualClock) -> SocialService:
    """Groups and relationships, among the users the ``identity`` fixture registered."""
    del identity
    return SocialService(database, clock)


def test_unknown_ids_are_refused_with_their_own_codes(
    identity: IdentityService, social: SocialService
) -> None:
    with pytest.raises(IdentityError) as missing:
        identity.user("nobody")
    assert missing.value.code == "identity.unknown_user"
    with pytest.raises(IdentityError) as missing_device:
        identity.device(DeviceFingerprint("nothing", "none"))
    assert missing_device.value.code == "identity.unknown_device"
    with pytest.raises(IdentityError) as no_owner:
        social.create_group(Group("g-1", "Team", GroupType.WORK, "nobody", START_US))
    assert no_owner.value.code == "identity.unknown_user"
    assert social.members("g-1") == []


def test_a_frozen_account_keeps_its_reason(identity: IdentityService) -> None:
    frozen = identity.set_status("alice", UserStatus.FROZEN, "reported stolen phone")
    assert identity.user("alice") == frozen
    assert identity.user("alice").status_reason == "reported stolen phone"


def test_a_device_belongs_to_one_user_and_its_sim_is_part_of_the_fingerprint(
    identity: IdentityService,
) -> None:
    device = identity.device(PHONE)
    assert device.user_id == "alice"
    assert identity.capabilities(PHONE).has_lossy_command_delivery  # iOS 12.3 < 12.4
    with pytest.raises(IdentityError) as taken:
        identity.register_device(
            Device(
                PHONE.device_id,
                "bob",
                "sim-0099",
                Platform.IOS,
                "17.0",
                VendorSkin.NONE,
                "iPhone 8",
                FormFactor.PHONE,
                START_US,
            )
        )
    assert taken.value.code == "identity.device_taken"
    other_sim = DeviceFingerprint(PHONE.device_id, "sim-0002")
    with pytest.raises(IdentityError):
        identity.device(other_sim)
    assert [d.sim_id for d in identity.devices_of("alice")] == ["sim-0001"]


def test_every_kind_of_funding_source_round_trips_with_its_ledger_account(
    funding: FundingService, database: Database, clock: ManualClock
) -> None:
    nightly = MaintenanceWindow(TimeOfDay(23, 30), TimeOfDay(0, 30))
    sources = [
        MoneyMarketSource("alice-mm", "alice", (TimeOfDay(9, 0), TimeOfDay(15, 0))),
        DebitCardSource(
            "alice-debit", "alice", "ICBC", mask_card_number("4111111111111111"), (nightly,)
        ),
        CreditCardSource("alice-credit", "alice", "CMB", mask_card_number("5555555555554444"), 5),
        ForeignCardSource("alice-usd", "alice", "USD", mask_card_number("4012888888881881")),
    ]
    for source in sources:
        assert funding.add_funding_source(source) == source
        assert funding.funding_source(source.id) == source
    kinds = {source.kind.value for source in funding.funding_sources("alice")}
    assert kinds == {"balance", "money_market", "debit_card", "credit_card", "foreign_card"}
    usd = Ledger(database, clock).account("card:alice-usd")
    assert (usd.kind, usd.currency) == (AccountKind.FOREIGN_CARD, "USD")


def test_an_invalid_card_number_is_refused_before_anything_is_written() -> None:
    with pytest.raises(IdentityError) as refused:
        mask_card_number("4111111111111112")
    assert refused.value.code == "identity.card_invalid"
    assert "4111111111111112" not in str(refused.value)


def test_groups_have_their_owner_as_first_member_and_relationships_upsert(
    social: SocialService,
) -> None:
    social.create_group(Group("g-1", "Class 3", GroupType.EDUCATION, "alice", START_US))
    social.add_member(GroupMember("g-1", "bob", START_US + 10))
    assert [m.user_id for m in social.members("g-1")] == ["alice", "bob"]
    social.set_relationship(Relationship("alice", "bob", 3, 80, 100))
    social.set_relationship(Relationship("alice", "bob", 12, 70, 100))
    (relationship,) = social.relationships_of("alice")
    assert (relationship.chat_frequency_rank, relationship.intimacy) == (12, 70)


def test_an_exemption_needs_its_subject_and_says_which_one_applies(
    identity: IdentityService, clock: ManualClock
) -> None:
    with pytest.raises(IdentityError) as missing:
        identity.add_exemption(
            Exemption("ex-0", ExemptionKind.VIP, SubjectKind.USER, "nobody", "VIP", START_US)
        )
    assert missing.value.code == "identity.unknown_user"
    vip = Exemption(
        "ex-1", ExemptionKind.VIP, SubjectKind.USER, "alice", "annual VIP", START_US, START_US + 10
    )
    identity.add_exemption(vip)
    assert identity.applicable_exemption(ExemptionKind.VIP, Subject.user("alice")) == vip
    clock.advance(microseconds=10)
    assert identity.applicable_exemption(ExemptionKind.VIP, Subject.user("alice")) is None


def test_a_challenge_lives_in_storage_from_opening_to_single_use(
    identity: IdentityService, clock: ManualClock
) -> None:
    request = ChallengeRequest("ch-1", ChallengeKind.SMS_CODE, "alice", PHONE, "recall:p-1")
    identity.open_challenge(request)
    code = identity.operator_reveal_code("ch-1", OPERATOR)
    wrong = "000000" if code != "000000" else "111111"
    outcome = identity.answer_challenge("ch-1", AnswerAttempt("alice", PHONE, "recall:p-1", wrong))
    assert (outcome.result, outcome.attempts_remaining) == (AnswerResult.WRONG_ANSWER, 4)
    clock.advance(seconds=1)
    passed = identity.answer_challenge("ch-1", AnswerAttempt("alice", PHONE, "recall:p-1", code))
    assert passed.result is AnswerResult.PASSED
    consume = ConsumeRequest("alice", PHONE, "recall:p-1", ChallengeKind.SMS_CODE)
    assert identity.consume_challenge("ch-1", consume).result is ConsumeResult.CONSUMED
    assert identity.consume_challenge("ch-1", consume).result is ConsumeResult.ALREADY_CONSUMED


def test_a_challenge_locks_after_its_attempts_and_expires_at_its_deadline(
    identity: IdentityService, clock: ManualClock
) -> None:
    identity.open_challenge(
        ChallengeRequest("ch-2", ChallengeKind.FACE, "alice", PHONE, "recall:p-2", max_attempts=2)
    )
    fail = AnswerAttempt("alice", PHONE, "recall:p-2", "fail")
    assert identity.answer_challenge("ch-2", fail).result is AnswerResult.WRONG_ANSWER
    assert identity.answer_challenge("ch-2", fail).result is AnswerResult.LOCKED
    passing = AnswerAttempt("alice", PHONE, "recall:p-2", "pass")
    assert identity.answer_challenge("ch-2", passing).result is AnswerResult.LOCKED
    identity.open_challenge(
        ChallengeRequest("ch-3", ChallengeKind.FACE, "alice", PHONE, "recall:p-3", ttl_seconds=60)
    )
    clock.advance(seconds=60)
    late = AnswerAttempt("alice", PHONE, "recall:p-3", "pass")
    assert identity.answer_challenge("ch-3", late).result is AnswerResult.EXPIRED


def test_a_challenge_for_a_device_the_user_does_not_own_is_refused(
    identity: IdentityService,
) -> None:
    request = ChallengeRequest("ch-4", ChallengeKind.SMS_CODE, "bob", PHONE, "recall:p-4")
    with pytest.raises(IdentityError) as refused:
        identity.open_challenge(request)
    assert refused.value.code == "identity.unknown_device"
    with pytest.raises(IdentityError):
        identity.challenge("ch-4")


def test_reveal_is_for_operators_only(identity: IdentityService) -> None:
    identity.open_challenge(
        ChallengeRequest("ch-5", ChallengeKind.SMS_CODE, "alice", PHONE, "recall:p-5")
    )
    with pytest.raises(Exception) as refused:  # noqa: PT011 - the code is what matters
        identity.operator_reveal_code("ch-5", OperatorContext("alice", is_operator=False))
    assert getattr(refused.value, "code", "") == "verification.operator_only"
