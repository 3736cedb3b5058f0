"""The support desk on the in-memory store: a case keeps its context and its history, a
person acts only on their own cases, and a closed case takes nothing more."""

from __future__ import annotations

import pytest

from hongbao.bootstrap import services_for
from hongbao.entrypoints.population import load_population
from hongbao.platform.clock import ManualClock
from hongbao.support.cases import Author, CaseOrigin, CaseState, NoteKind
from hongbao.support.errors import SupportCode, SupportError
from hongbao.support.service import CaseRequest, SupportDesk
from hongbao.testing import InMemoryDatabase
from tests.conftest import START_US


@pytest.fixture
def desk() -> SupportDesk:
    services = services_for(InMemoryDatabase(), ManualClock(START_US))
    load_population(services.identity, services.funding, services.social)
    return services.support


def _ask(desk: SupportDesk, user: str = "zhao-lei") -> str:
    request = CaseRequest(user, "zhao-lei-matepad", CaseOrigin.REFUSAL, " 为什么? ", "d-1", "p-1")
    return desk.open(request).case.id


def test_a_case_keeps_the_age_band_and_every_step_in_order(desk: SupportDesk) -> None:
    case_id = _ask(desk)
    desk.answer(case_id, "ops-zhang", "use the iPad")
    desk.write(case_id, "zhao-lei", "thanks, trying")
    closed = desk.close(case_id, (Author.OPERATOR, "ops-zhang"), "recalled")
    assert (closed.case.state, closed.case.age_band, closed.case.question) == (
        CaseState.CLOSED,
        "60+",
        "为什么?",
    )
    assert [(n.number, n.kind, n.author_id) for n in closed.notes] == [
        (1, NoteKind.OPENED, "zhao-lei"),
        (2, NoteKind.ANSWERED, "ops-zhang"),
        (3, NoteKind.WROTE, "zhao-lei"),
        (4, NoteKind.CLOSED, "ops-zhang"),
    ]
    assert desk.queue(CaseState.OPEN) == []
    assert desk.queue_size(CaseState.CLOSED) == 1


def test_a_person_writing_again_puts_the_case_back_in_the_queue(desk: SupportDesk) -> None:
    case_id = _ask(desk)
    desk.answer(case_id, "ops-zhang", "use the iPad")
    assert desk.queue_size(CaseState.OPEN) == 0
    desk.write(case_id, "zhao-lei", "it still says no")
    assert [case.id for case in desk.queue(CaseState.OPEN)] == [case_id]


def test_another_person_is_told_there_is_no_such_case(desk: SupportDesk) -> None:
    case_id = _ask(desk)
    with pytest.raises(SupportError) as seen:
        desk.case_of("li-wei", case_id)
    assert seen.value.code is SupportCode.UNKNOWN_CASE
    with pytest.raises(SupportError) as wrote:
        desk.close(case_id, (Author.USER, "li-wei"), "not mine")
    assert wrote.value.code is SupportCode.UNKNOWN_CASE
    assert desk.case_of("zhao-lei", case_id).case.state is CaseState.OPEN


def test_a_closed_case_and_empty_words_are_refused(desk: SupportDesk) -> None:
    case_id = _ask(desk)
    with pytest.raises(SupportError) as empty:
        desk.answer(case_id, "ops-zhang", "   ")
    assert empty.value.code is SupportCode.TEXT_INVALID
    desk.close(case_id, (Author.USER, "zhao-lei"), "solved")
    with pytest.raises(SupportError) as closed:
        desk.answer(case_id, "ops-zhang", "late")
    assert closed.value.code is SupportCode.CASE_CLOSED
