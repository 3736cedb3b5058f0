"""Counter rows: one per measure and labels, each a count and a total (for averages). A row is
bumped in O(1) by the outbox consumer or the help-view note; dashboards read them whole."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

UNKNOWN_BAND: Final = "unknown"
ANY: Final = ""  # a label a measure does not use


class Measure(StrEnum):
    RECALL_DONE = "recall_done"  # a recall carried out (its money moved)
    RECALL_DENIED = "recall_denied"  # a recall refused by the policy
    RECALL_CHALLENGED = "recall_challenged"  # a recall asked for checks (not an outcome yet)
    RECALL_LATENCY = "recall_latency"  # total: microseconds from first request to done
    ATTEMPTS_BEFORE_SUCCESS = "attempts_before_success"  # total: refused attempts before it
    REFUSAL_CAUSE = "refusal_cause"  # detail: the R-U1 cause
    MISOPERATION = "misoperation"  # detail: the kind (see misoperation.py)
    HELP_VIEW = "help_view"
    COHORT_ATTEMPT = "cohort_attempt"  # detail: the guidance cohort (see guidance.py)
    COHORT_MISOPERATION = "cohort_misoperation"  # detail: the guidance cohort


@dataclass(frozen=True, slots=True)
class Labels:
    age_band: str = UNKNOWN_BAND
    platform: str = ANY
    device_model: str = ANY
    detail: str = ANY


@dataclass(frozen=True, slots=True)
class Count:
    measure: Measure
    age_band: str
    platform: str
    device_model: str
    detail: str
    count: int
    total: int

    @classmethod
    def first(cls, measure: Measure, labels: Labels, total: int) -> Count:
        return cls(
            measure,
            labels.age_band,
            labels.platform,
            labels.device_model,
            labels.detail,
            1,
            total,
        )

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.measure.value, self.age_band, self.platform, self.device_model, self.detail)

    def plus(self, total: int) -> Count:
        return replace(self, count=self.count + 1, total=self.total + total)


def key_of(measure: Measure, labels: Labels) -> tuple[str, str, str, str, str]:
    return (measure.value, labels.age_band, labels.platform, labels.device_model, labels.detail)
