"""Exemption lists: half-open validity, allowed subjects, and which exemption a decision names."""

from __future__ import annotations

import itertools

import pytest

from hongbao.identity.exemptions import (
    ALLOWED_SUBJECTS,
    Exemption,
    ExemptionKind,
    Subject,
    SubjectKind,
    applicable_exemption,
)
from hongbao.identity.users import IdentityError

FROM_US = 1_796_000_000_000_000
UNTIL_US = FROM_US + 3_600_000_000
ALICE = Subject.user("alice")


def vip(
    exemption_id: str = "ex-1",
    *,
    valid_from_us: int = FROM_US,
    valid_until_us: int | None = UNTIL_US,
    subject: Subject = ALICE,
) -> Exemption:
    return Exemption(
        id=exemption_id,
        kind=ExemptionKind.VIP,
        subject_kind=subject.kind,
        subject_id=subject.id,
        reason="VIP programme 2026",
        valid_from_us=valid_from_us,
        valid_until_us=valid_until_us,
    )


def test_an_exemption_applies_from_its_first_microsecond() -> None:
    exemption = vip()
    assert not exemption.is_valid_at(FROM_US - 1)
    assert exemption.is_valid_at(FROM_US)


def test_an_exemption_no_longer_applies_at_its_end() -> None:
    exemption = vip()
    assert exemption.is_valid_at(UNTIL_US - 1)
    assert not exemption.is_valid_at(UNTIL_US)


def test_an_open_ended_exemption_never_expires() -> None:
    exemption = vip(valid_until_us=None)
    assert exemption.is_valid_at(FROM_US)
    assert exemption.is_valid_at(10**18)
    assert not exemption.is_valid_at(FROM_US - 1)


@pytest.mark.parametrize("valid_until_us", [FROM_US, FROM_US - 1])
def test_an_empty_or_reversed_period_is_refused(valid_until_us: int) -> None:
    with pytest.raises(IdentityError) as refused:
        vip(valid_until_us=valid_until_us)
    assert refused.value.code == "identity.exemption_period_invalid"


@pytest.mark.parametrize(
    ("kind", "subject_kind"), list(itertools.product(ExemptionKind, SubjectKind))
)
def test_each_kind_is_granted_only_to_its_allowed_subjects(
    kind: ExemptionKind, subject_kind: SubjectKind
) -> None:
    def grant() -> Exemption:
        return Exemption("ex-1", kind, subject_kind, "subject-1", "because", FROM_US)

    if subject_kind in ALLOWED_SUBJECTS[kind]:
        assert grant().subject == Subject(subject_kind, "subject-1")
    else:
        with pytest.raises(IdentityError) as refused:
            grant()
        assert refused.value.code == "identity.exemption_subject_invalid"


def test_the_education_green_channel_covers_users_enterprises_and_groups() -> None:
    assert ALLOWED_SUBJECTS[ExemptionKind.EDUCATION_GREEN_CHANNEL] == set(SubjectKind)
    assert ALLOWED_SUBJECTS[ExemptionKind.TRAVEL_WHITELIST] == {SubjectKind.USER}


def test_an_exemption_needs_a_reason_that_a_decision_can_show() -> None:
    with pytest.raises(IdentityError) as refused:
        Exemption("ex-1", ExemptionKind.VIP, SubjectKind.USER, "alice", "", FROM_US)
    assert refused.value.code == "identity.text_invalid"


def test_malformed_fields_are_refused_with_stable_codes() -> None:
    with pytest.raises(IdentityError) as bad_kind:
        Exemption("ex-1", "vip", SubjectKind.USER, "alice", "r", FROM_US)  # type: ignore[arg-type]
    assert bad_kind.value.code == "identity.enum_invalid"
    with pytest.raises(IdentityError) as bad_time:
        vip(valid_until_us=1.5)  # type: ignore[arg-type]
    assert bad_time.value.code == "identity.time_invalid"
    with pytest.raises(IdentityError) as bad_subject:
        Subject.group("")
    assert bad_subject.value.code == "identity.id_invalid"


def test_the_applicable_exemption_is_returned_so_the_decision_can_name_it() -> None:
    exemption = vip()
    found = applicable_exemption([exemption], ExemptionKind.VIP, ALICE, FROM_US)
    assert found is exemption
    assert (found.id, found.reason) == ("ex-1", "VIP programme 2026")


def test_no_exemption_applies_for_another_kind_subject_or_time() -> None:
    exemptions = [vip()]
    assert applicable_exemption(exemptions, ExemptionKind.TRAVEL_WHITELIST, ALICE, FROM_US) is None
    assert applicable_exemption(exemptions, ExemptionKind.VIP, Subject.user("bob"), FROM_US) is None
    assert applicable_exemption(exemptions, ExemptionKind.VIP, ALICE, UNTIL_US) is None
    assert applicable_exemption([], ExemptionKind.VIP, ALICE, FROM_US) is None


def test_a_user_and_an_enterprise_with_the_same_id_are_different_subjects() -> None:
    exemption = Exemption(
        "ex-1", ExemptionKind.CERTIFIED_ENTERPRISE, SubjectKind.ENTERPRISE, "acme", "r", FROM_US
    )
    kind = ExemptionKind.CERTIFIED_ENTERPRISE
    assert applicable_exemption([exemption], kind, Subject.enterprise("acme"), FROM_US)
    assert applicable_exemption([exemption], kind, Subject.user("acme"), FROM_US) is None


def test_the_longest_lasting_exemption_is_chosen_whatever_the_list_order() -> None:
    short = vip("ex-short", valid_until_us=UNTIL_US)
    long = vip("ex-long", valid_until_us=UNTIL_US + 1)
    open_ended = vip("ex-open", valid_until_us=None)
    twin = vip("ex-open-2", valid_until_us=None)
    for order in itertools.permutations([short, long, open_ended, twin]):
        chosen = applicable_exemption(order, ExemptionKind.VIP, ALICE, FROM_US)
        assert chosen is open_ended
    for order in itertools.permutations([short, long]):
        assert applicable_exemption(order, ExemptionKind.VIP, ALICE, FROM_US) is long


def test_an_expired_exemption_never_wins_over_a_valid_one() -> None:
    expired = vip("ex-old", valid_from_us=FROM_US - 10, valid_until_us=FROM_US)
    current = vip("ex-new")
    assert applicable_exemption([expired, current], ExemptionKind.VIP, ALICE, FROM_US) is current
