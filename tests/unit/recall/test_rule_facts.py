"""Each rule's facts have a typed shape: the rule records exactly its shape's names, and the
shape reads them back, from a fresh outcome or from a record in an older form."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hongbao.platform.clock import to_datetime
from hongbao.policy.document import default_policy
from hongbao.recall.engine import evaluate
from hongbao.recall.facts import RecallFacts, RefundFacts
from hongbao.recall.model import RuleOutcome, Verdict
from hongbao.recall.rule_facts import (
    SHAPES,
    BlackoutFacts,
    RefundRouteFacts,
    RuleFacts,
    TierLimitsFacts,
    WatchCapFacts,
)
from hongbao.recall.rules import RULES
from tests.unit.recall.test_engine import recall_facts

POLICY = default_policy()
SMART = POLICY.model_copy(
    update={"refunds": POLICY.refunds.model_copy(update={"smart_routing": True})}
)
REFUNDS = st.builds(
    RefundFacts,
    route=st.sampled_from(["balance", "credit_card", "foreign_card"]),
    destination=st.sampled_from(["balance", "credit card CMB **** 4444"]),
    available=st.booleans(),
    refusal=st.sampled_from([None, "refunds.bank_maintenance", "refunds.statement_issued"]),
    refusal_message=st.none(),
    retry_at_us=st.none() | st.integers(0, 2**50),
    balance_available=st.none() | st.booleans(),
    amount_minor=st.integers(0, 10**8),
    fee_minor=st.integers(0, 10**4),
    arrives_at_us=st.none() | st.integers(0, 2**50),
    frozen_until_us=st.none() | st.integers(0, 2**50),
    card_currency=st.none() | st.just("USD"),
    card_amount_minor=st.none() | st.integers(0, 10**8),
    rate_at_refund=st.none() | st.just("7.1000"),
    rate_at_send=st.none() | st.just("7.0000"),
)


def outcome(*facts: tuple[str, str | int | bool | None]) -> RuleOutcome:
    return RuleOutcome("any_rule", "R-test", Verdict.FAIL, None, facts)


def test_every_rule_has_a_shape_named_for_it() -> None:
    """A new rule without a shape fails here, before an explanation reads its facts blind."""
    assert set(SHAPES) == {rule.name for rule in RULES}
    for name, shape in SHAPES.items():
        assert name == shape.RULE


@settings(max_examples=150, deadline=None)
@given(recall_facts(), st.none() | REFUNDS, st.booleans(), st.booleans())
def test_each_rule_records_exactly_its_shapes_facts_and_they_read_back(
    facts: RecallFacts, refund: RefundFacts | None, accepted: bool, smart: bool
) -> None:
    """The names a rule writes are its shape's fields, in order (or none at all), so a
    misspelt name cannot hide; reading them back loses no value: numbers, flags and text as
    recorded, times as the moment the microseconds name."""
    facts = replace(facts, refund=refund, substitute_accepted=accepted)
    for recorded in evaluate(facts, SMART if smart else POLICY, "d-shapes").outcomes:
        shape = SHAPES[recorded.rule]
        if not recorded.facts:
            continue
        assert tuple(name for name, _ in recorded.facts) == shape.names()
        read = shape.read(recorded)
        for field, (_, value) in zip(fields(read), recorded.facts, strict=True):
            got = getattr(read, field.name)
            if isinstance(got, datetime):
                assert isinstance(value, int)
                assert got == to_datetime(value)
            else:
                assert got == value, (recorded.rule, field.name)


def test_facts_stored_as_text_read_as_numbers_and_times() -> None:
    """Older records hold integers as text and times as ISO 8601 text with an offset."""
    read = TierLimitsFacts.read(outcome(("tier", "class_i"), ("daily_count", "5")))
    assert (read.tier, read.daily_count, read.executed_today) == ("class_i", 5, None)
    moment = datetime(2026, 11, 29, 15, 55, tzinfo=UTC)
    assert BlackoutFacts.read(outcome(("now", moment.isoformat()))).now == moment


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2e4", None),
        ("-5", -5),
        (True, None),
        (str(10**40), None),
        (None, None),
        (20_000, 20_000),
    ],
)
def test_a_malformed_number_reads_as_none(
    value: str | int | bool | None, expected: int | None
) -> None:
    """A flag is not a number, and neither is text that is not an integer of sane length."""
    assert WatchCapFacts.read(outcome(("cap_minor", value))).cap_minor == expected


def test_malformed_times_and_flags_read_as_none() -> None:
    """A time without an offset, or that is not a time, and a flag given as text, are None."""
    assert BlackoutFacts.read(outcome(("now", "yesterday"))).now is None
    assert BlackoutFacts.read(outcome(("now", "2026-11-29T15:55:00"))).now is None
    assert RefundRouteFacts.read(outcome(("available", "False"))).available is None
    assert RefundRouteFacts.read(outcome(("available", False))).available is False


def test_the_first_of_a_repeated_name_is_read() -> None:
    """As the pairs were read before they had shapes."""
    assert TierLimitsFacts.read(outcome(("tier", "class_i"), ("tier", "class_ii"))).tier == (
        "class_i"
    )


def test_a_shape_field_must_be_a_known_type_or_none() -> None:
    """Shapes hold text, integers, flags and times, each optional: anything else is refused
    the first time the shape is read."""
    from dataclasses import dataclass  # noqa: PLC0415 - a shape made only for this test

    @dataclass(frozen=True, slots=True)
    class Odd(RuleFacts):
        RULE = "odd"
        ratio: float | None

    with pytest.raises(TypeError, match=r"Odd\.ratio"):
        Odd.read(outcome())
