"""The regret score (R-B1): how likely a sender is to want this send back, from their counters.

The score is a sum of named terms, each a ratio in per mille (0..1000) times its weight from
the policy (``guard.regret``) / 1000, so every point of it is explained by a term:

- ``recall_rate``: the sender's recalls / (sends + prior_sends);
- ``audience_recall_rate``: the same, towards this group or person only;
- ``night``: 1000 when the send falls in the guard's night window, else 0;
- ``unusual_amount``: 0 up to the sender's mean amount, rising linearly to 1000 at
  ``unusual_amount_multiple`` times it (0 while the sender has no send counted).

It reads two counter rows (the sender's, and the sender's towards the audience) and does
integer arithmetic only: no history is scanned, no float is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hongbao.policy.document import RegretPolicy

PER_MILLE: Final = 1000
EVERYONE: Final = ""  # the audience of a sender's overall counters


def group_audience(group_id: str) -> str:
    return f"group:{group_id}"


def person_audience(user_id: str) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True, slots=True)
class SendHabits:
    """A sender's counters, overall (``audience_id`` = ``EVERYONE``) or towards one group or
    person: sends counted when made, recalls when executed, the amounts sent summed."""

    sender_id: str
    audience_id: str
    sends: int
    recalls: int
    amount_sum_minor: int
    updated_at_us: int

    @classmethod
    def none(cls, sender_id: str, audience_id: str) -> SendHabits:
        return cls(sender_id, audience_id, 0, 0, 0, 0)


class RegretTerm(StrEnum):
    RECALL_RATE = "recall_rate"
    AUDIENCE_RECALL_RATE = "audience_recall_rate"
    NIGHT = "night"
    UNUSUAL_AMOUNT = "unusual_amount"


@dataclass(frozen=True, slots=True)
class ScoredTerm:
    """One term: its ratio (per mille), its weight and the points it adds."""

    term: RegretTerm
    ratio: int
    weight: int

    @property
    def points(self) -> int:
        return self.ratio * self.weight // PER_MILLE

    def as_json(self) -> dict[str, object]:
        return {
            "term": self.term.value,
            "ratio_per_mille": self.ratio,
            "weight": self.weight,
            "points": self.points,
        }


@dataclass(frozen=True, slots=True)
class RegretScore:
    terms: tuple[ScoredTerm, ...]
    threshold: int

    @property
    def score(self) -> int:
        return sum(term.points for term in self.terms)

    @property
    def reached(self) -> bool:
        return self.score >= self.threshold


def _rate(recalls: int, sends: int, prior_sends: int) -> int:
    return min(PER_MILLE, recalls * PER_MILLE // (sends + prior_sends))


def _unusual(amount_minor: int, habits: SendHabits, multiple: int) -> int:
    if habits.sends == 0 or habits.amount_sum_minor <= 0:
        return 0
    # amount / mean in per mille, without dividing twice: amount x sends / sum.
    against_mean = amount_minor * habits.sends * PER_MILLE // habits.amount_sum_minor
    above = max(0, against_mean - PER_MILLE)
    return min(PER_MILLE, above // (multiple - 1))


def regret_score(
    overall: SendHabits,
    audience: SendHabits,
    *,
    amount_minor: int,
    at_night: bool,
    policy: RegretPolicy,
) -> RegretScore:
    """The score of a send of ``amount_minor`` given the sender's counters."""
    prior = policy.prior_sends
    terms = (
        ScoredTerm(
            RegretTerm.RECALL_RATE,
            _rate(overall.recalls, overall.sends, prior),
            policy.recall_rate_weight,
        ),
        ScoredTerm(
            RegretTerm.AUDIENCE_RECALL_RATE,
            _rate(audience.recalls, audience.sends, prior),
            policy.audience_recall_weight,
        ),
        ScoredTerm(RegretTerm.NIGHT, PER_MILLE if at_night else 0, policy.night_weight),
        ScoredTerm(
            RegretTerm.UNUSUAL_AMOUNT,
            _unusual(amount_minor, overall, policy.unusual_amount_multiple),
            policy.unusual_amount_weight,
        ),
    )
    return RegretScore(terms, policy.threshold)
