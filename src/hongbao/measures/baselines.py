"""The source's device baselines (R-D4): recall success rate and latency per model, shown
beside what hongbao measures. Prometheus labels carry these models by name and every other
model as ``other``, so the label set stays bounded whatever devices people bring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

OTHER_MODEL: Final = "other"


@dataclass(frozen=True, slots=True)
class Baseline:
    model: str
    success_percent: str  # as the source gives it, e.g. "99.3"
    latency_seconds: str


BASELINES: Final = (
    Baseline("iPhone 14 Pro", "99.3", "1.2"),
    Baseline("HUAWEI Mate 50", "97.8", "1.8"),
    Baseline("Xiaomi 13 Ultra", "98.5", "1.5"),
)
BASELINE_MODELS: Final = frozenset(baseline.model for baseline in BASELINES)


def bounded_model(model: str) -> str:
    """The model as a metrics label: a baseline model by name, any other as ``other``."""
    return model if model in BASELINE_MODELS else OTHER_MODEL


def baseline_of(model: str) -> Baseline | None:
    return next((b for b in BASELINES if b.model == model), None)
