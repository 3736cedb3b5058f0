"""Misoperation as hongbao defines it: a refusal the button had shown, or a recall within 2
minutes of sending; and the bounded model label for metrics."""

from __future__ import annotations

from hongbao.measures.baselines import OTHER_MODEL, baseline_of, bounded_model
from hongbao.measures.misoperation import TOO_SOON_US, MisoperationKind, misoperations

SENT = 1_000_000_000


def test_a_refusal_the_button_had_shown_is_a_misoperation() -> None:
    kinds = misoperations(
        denied=True, button_showed_denial=True, done=False, sent_at_us=SENT, done_at_us=0
    )
    assert kinds == [MisoperationKind.REFUSED_AS_SHOWN]


def test_a_refusal_nobody_was_warned_of_is_not() -> None:
    kinds = misoperations(
        denied=True, button_showed_denial=False, done=False, sent_at_us=SENT, done_at_us=0
    )
    assert kinds == []


def test_a_recall_inside_two_minutes_of_sending_is_and_after_is_not() -> None:
    def soon(after_us: int) -> list[MisoperationKind]:
        return misoperations(
            denied=False,
            button_showed_denial=False,
            done=True,
            sent_at_us=SENT,
            done_at_us=SENT + after_us,
        )

    assert soon(TOO_SOON_US - 1) == [MisoperationKind.RECALLED_TOO_SOON]
    assert soon(TOO_SOON_US) == []


def test_models_outside_the_baselines_share_one_label() -> None:
    assert bounded_model("iPhone 14 Pro") == "iPhone 14 Pro"
    assert bounded_model("Galaxy S23") == OTHER_MODEL
    baseline = baseline_of("HUAWEI Mate 50")
    assert baseline is not None
    assert (baseline.success_percent, baseline.latency_seconds) == ("97.8", "1.8")
