"""The education and device measures on ``/metrics`` (R-U4, R-D4), read at scrape time from
the counter rows the ``measures`` consumer keeps (a few hundred rows at most, read whole):

- ``hongbao_recall_outcomes_total{outcome,model,platform}``: recalls carried out (``done``),
  refused (``denied``) or asking for checks (``challenged``), counted per recall decision;
- ``hongbao_recall_latency_seconds_sum`` / ``_count{model,platform}``: first request to done;
- ``hongbao_recall_baseline_success_ratio{model}`` and ``hongbao_recall_baseline_latency_seconds
  {model}``: the source's baselines, to plot beside;
- ``hongbao_recall_refusal_causes_total{age_band,cause}``;
- ``hongbao_misoperations_total{age_band,kind}``, ``hongbao_recall_attempts_total{age_band}``;
- ``hongbao_recall_attempts_before_success_sum`` / ``_count{age_band}`` (refused attempts
  before each success);
- ``hongbao_help_views_total{age_band}``; ``hongbao_support_cases{state}``;
- ``hongbao_guidance_recall_attempts_total`` and ``hongbao_guidance_misoperations_total
  {age_band,cohort}``: recall decisions and misoperations of people shown a recall guidance
  bubble first (``with_bubble``) or not (``no_bubble``, the baseline), and
  ``hongbao_guidance_source_reduction_ratio``: the source's 0.39 cut, to plot beside (R-U5).

Labels stay bounded: ``model`` is one of the baseline models or ``other``, ``platform`` one of
hongbao's platforms, ``age_band`` one of the bands or ``unknown``; causes, kinds and cohorts
are enums.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hongbao.measures.baselines import BASELINES, bounded_model
from hongbao.measures.counts import ANY, Count, Measure
from hongbao.measures.desk import MeasureDesk
from hongbao.measures.guidance import SOURCE_REDUCTION_PERCENT
from hongbao.platform.clock import MICROSECONDS_PER_SECOND
from hongbao.platform.errors import HongbaoError
from hongbao.support.cases import CaseState
from hongbao.support.service import SupportDesk

logger = logging.getLogger(__name__)
OUTCOMES = {
    Measure.RECALL_DONE: "done",
    Measure.RECALL_DENIED: "denied",
    Measure.RECALL_CHALLENGED: "challenged",
}
PERCENT = 100


class MeasuresCollector(Collector):
    def __init__(self, measures: MeasureDesk, support: SupportDesk) -> None:
        self._measures = measures
        self._support = support

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterable[Metric]:
        try:
            counts = self._measures.counts()
            queues = {state: self._support.queue_size(state) for state in CaseState}
        except (HongbaoError, OSError) as error:
            # A scrape still answers with the process's own figures; the failure is told.
            logger.warning("measures could not be read: %s", error)
            yield GaugeMetricFamily("hongbao_measures_read_ok", "1 when measures were read", 0)
            return
        yield GaugeMetricFamily("hongbao_measures_read_ok", "1 when measures were read", 1)
        yield from _recall_families(counts)
        yield from _band_families(counts)
        yield from _guidance_families(counts)
        cases = GaugeMetricFamily("hongbao_support_cases", "Support cases", labels=("state",))
        for state, size in queues.items():
            cases.add_metric((state.value,), size)
        yield cases


def _summed(counts: list[Count], measure: Measure, *labels: str) -> dict[tuple[str, ...], Count]:
    """Rows of ``measure`` added up per bounded label tuple (count and total)."""
    found: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
    for row in counts:
        if row.measure is not measure:
            continue
        values = {
            "model": bounded_model(row.device_model),
            "platform": row.platform,
            "age_band": row.age_band,
            "detail": row.detail,
        }
        key = tuple(values[label] for label in labels)
        found[key][0] += row.count
        found[key][1] += row.total
    return {
        key: Count(measure, ANY, ANY, ANY, ANY, count, total)
        for key, (count, total) in found.items()
    }


def _recall_families(counts: list[Count]) -> Iterable[Metric]:
    outcomes = CounterMetricFamily(
        "hongbao_recall_outcomes",
        "Recalls per outcome, device model and platform, counted per decision",
        labels=("outcome", "model", "platform"),
    )
    for measure, outcome in OUTCOMES.items():
        for (model, platform), row in sorted(_summed(counts, measure, "model", "platform").items()):
            outcomes.add_metric((outcome, model, platform), row.count)
    yield outcomes
    latency_sum = CounterMetricFamily(
        "hongbao_recall_latency_seconds_sum",
        "Seconds from a recall's first request to done, added up",
        labels=("model", "platform"),
    )
    latency_count = CounterMetricFamily(
        "hongbao_recall_latency_seconds_count",
        "Recalls done whose latency is in the sum",
        labels=("model", "platform"),
    )
    for (model, platform), row in sorted(
        _summed(counts, Measure.RECALL_LATENCY, "model", "platform").items()
    ):
        latency_sum.add_metric((model, platform), row.total / MICROSECONDS_PER_SECOND)
        latency_count.add_metric((model, platform), row.count)
    yield latency_sum
    yield latency_count
    success = GaugeMetricFamily(
        "hongbao_recall_baseline_success_ratio", "The source's success rate", labels=("model",)
    )
    latency = GaugeMetricFamily(
        "hongbao_recall_baseline_latency_seconds", "The source's latency", labels=("model",)
    )
    for baseline in BASELINES:
        success.add_metric((baseline.model,), float(baseline.success_percent) / PERCENT)
        latency.add_metric((baseline.model,), float(baseline.latency_seconds))
    yield success
    yield latency


def _band_families(counts: list[Count]) -> Iterable[Metric]:
    families = (
        (Measure.REFUSAL_CAUSE, "hongbao_recall_refusal_causes", "Refusals per cause", "cause"),
        (Measure.MISOPERATION, "hongbao_misoperations", "Misoperations per kind", "kind"),
    )
    for measure, name, documentation, detail in families:
        family = CounterMetricFamily(name, documentation, labels=("age_band", detail))
        for (band, value), row in sorted(_summed(counts, measure, "age_band", "detail").items()):
            family.add_metric((band, value), row.count)
        yield family
    attempts = CounterMetricFamily(
        "hongbao_recall_attempts", "Recall decisions per age band", labels=("age_band",)
    )
    per_band: dict[str, int] = defaultdict(int)
    for measure in OUTCOMES:
        for (band,), row in _summed(counts, measure, "age_band").items():
            per_band[band] += row.count
    for band, count in sorted(per_band.items()):
        attempts.add_metric((band,), count)
    yield attempts
    before_sum = CounterMetricFamily(
        "hongbao_recall_attempts_before_success_sum",
        "Refused attempts before each successful recall, added up",
        labels=("age_band",),
    )
    before_count = CounterMetricFamily(
        "hongbao_recall_attempts_before_success_count",
        "Successful recalls in the sum",
        labels=("age_band",),
    )
    for (band,), row in sorted(
        _summed(counts, Measure.ATTEMPTS_BEFORE_SUCCESS, "age_band").items()
    ):
        before_sum.add_metric((band,), row.total)
        before_count.add_metric((band,), row.count)
    yield before_sum
    yield before_count
    views = CounterMetricFamily(
        "hongbao_help_views", "Help-page views per age band", labels=("age_band",)
    )
    for (band,), row in sorted(_summed(counts, Measure.HELP_VIEW, "age_band").items()):
        views.add_metric((band,), row.count)
    yield views


def _guidance_families(counts: list[Count]) -> Iterable[Metric]:
    families = (
        (Measure.COHORT_ATTEMPT, "hongbao_guidance_recall_attempts", "Recall decisions"),
        (Measure.COHORT_MISOPERATION, "hongbao_guidance_misoperations", "Misoperations"),
    )
    for measure, name, what in families:
        family = CounterMetricFamily(
            name,
            f"{what} per age band, by whether a recall guidance bubble was shown first",
            labels=("age_band", "cohort"),
        )
        for (band, cohort), row in sorted(_summed(counts, measure, "age_band", "detail").items()):
            family.add_metric((band, cohort), row.count)
        yield family
    yield GaugeMetricFamily(
        "hongbao_guidance_source_reduction_ratio",
        "The source's cut in new users' misoperation thanks to guidance",
        int(SOURCE_REDUCTION_PERCENT) / PERCENT,
    )


class Joined(Collector):
    """Several collectors scraped as one."""

    def __init__(self, *collectors: Collector) -> None:
        self._collectors = collectors

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterable[Metric]:
        for collector in self._collectors:
            yield from collector.collect()
