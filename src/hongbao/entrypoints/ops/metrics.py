"""Prometheus metrics (``GET /metrics``): requests, recalls, claims, backlog, devices, load.

Per request (recorded by the operations middleware, a few microseconds):

- ``hongbao_http_request_duration_seconds{method,route,status}``: latency by route *template*
  (``/v1/packets/{packet_id}``), never the raw path; ``route="unmatched"`` for unknown paths and
  ``route="refused"`` for requests the operations layer turned away before routing;
- ``hongbao_device_requests_total{model,platform,outcome}`` and
  ``hongbao_device_request_duration_seconds{model,platform}``: success rate (``outcome`` is
  ``success`` below 500, else ``failure``) and latency per device model and platform (R-D4);
- ``hongbao_http_refused_total{reason}``: overloaded, degraded, rate_limited.

Per answer, recorded where it is produced by the hooks below (no coupling to route internals):

- :func:`observe_decision`: ``hongbao_recall_decisions_total{result,policy_version}``,
  ``hongbao_recall_denials_total{cause}`` (the six R-U1 causes, all present from the start),
  ``hongbao_recall_reasons_total{result,reason}``;
- :func:`observe_recall`: the same for its decision, plus ``hongbao_recalls_executed_total
  {route}`` when the recall moved money;
- :func:`observe_claim`: ``hongbao_claims_total{result}``;
- :func:`observe_hint`: ``hongbao_hints_total{hint,event}``, each person's first showing,
  dismissal and click of a guidance bubble (R-U2).

Counting in the process that answered (rather than reading ``recall_decisions`` at scrape
time) costs nothing per scrape, whatever the table's size, and counts each answer once: the
idempotency guard does not run the action again for a repeated request.

At scrape time, from the database (:mod:`hongbao.entrypoints.ops.backlog`): outbox lag (also
per consumer, ``hongbao_outbox_consumer_lag_seconds{consumer}``: ``social`` is how far recalls'
social consequences trail them), due
work due and overdue, open refunds by state. Per process: degrade mode, money-path p99,
requests in flight and waiting, rate-limit keys tracked.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``hongbao serve --workers N``), every process writes its
figures to files there and a scrape of any process adds them up (gauges per process: ``livesum``
for load, ``livemax`` for degrade mode); ``hongbao serve`` empties the directory at start.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from hongbao.entrypoints.ops.backlog import OPEN_REFUND_STATES, BacklogSampler
from hongbao.entrypoints.ops.observability import current_request
from hongbao.identity.hints import Hint, HintEvent
from hongbao.packets.service import ClaimResult
from hongbao.packets.social_feed import RECALL_CONSUMERS
from hongbao.recall.explanations import CAUSES, Cause
from hongbao.recall.model import Decision, DecisionResult
from hongbao.recall.records import RecallState
from hongbao.recall.service import RecallOutcome

MULTIPROCESS_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS: Final = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
BATCH_SIZE_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256)
# Consumers listed even when they have nothing due (a lag of 0), so their series always exist.
CONSUMERS_SHOWN: Final = RECALL_CONSUMERS
UNMATCHED: Final = "unmatched"
REFUSED: Final = "refused"
# Bounds the children cached per metric; labels are bounded anyway (routes, statuses, devices).
MAX_CACHED_CHILDREN: Final = 10_000


def multiprocess_directory() -> str | None:
    return os.environ.get(MULTIPROCESS_VARIABLE) or None


def clear_multiprocess_directory() -> None:
    """Remove the files a previous run left (prometheus_client's rule for multi-process mode)."""
    directory = multiprocess_directory()
    if directory is None:
        return
    for stale in Path(directory).glob("*.db"):
        stale.unlink(missing_ok=True)


class Metrics:
    def __init__(self) -> None:
        self.multiprocess = multiprocess_directory() is not None
        # Multi-process: values go to the directory's files; a scrape reads them all back.
        registry = None if self.multiprocess else CollectorRegistry(auto_describe=True)
        self.registry = registry
        self.requests = Histogram(
            "hongbao_http_request_duration_seconds",
            "Request latency by route template",
            ("method", "route", "status"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.device_requests = Counter(
            "hongbao_device_requests",
            "Requests per device model and platform, by outcome",
            ("model", "platform", "outcome"),
            registry=registry,
        )
        self.device_latency = Histogram(
            "hongbao_device_request_duration_seconds",
            "Latency per device model and platform",
            ("model", "platform"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.refused = Counter(
            "hongbao_http_refused",
            "Requests refused by load control",
            ("reason",),
            registry=registry,
        )
        self._recall_metrics(registry)
        self._load_gauges(registry)
        self._request_children: dict[tuple[str, str, int], Histogram] = {}
        self._device_children: dict[tuple[str, str], tuple[Counter, Counter, Histogram]] = {}

    def _recall_metrics(self, registry: CollectorRegistry | None) -> None:
        self.decisions = Counter(
            "hongbao_recall_decisions",
            "Recall decisions by result and policy version",
            ("result", "policy_version"),
            registry=registry,
        )
        self.denials = Counter(
            "hongbao_recall_denials",
            "Recall denials by user-facing cause (R-U1)",
            ("cause",),
            registry=registry,
        )
        self.reasons = Counter(
            "hongbao_recall_reasons",
            "Reason codes of denials and challenges",
            ("result", "reason"),
            registry=registry,
        )
        self.executed = Counter(
            "hongbao_recalls_executed",
            "Recalls that moved money, by route",
            ("route",),
            registry=registry,
        )
        self.risk_levels = Counter(
            "hongbao_risk_decisions",
            "Recall decisions by risk level (R-K1)",
            ("level",),
            registry=registry,
        )
        self.reviews = Counter(
            "hongbao_risk_reviews",
            "Review queue decisions by outcome (R-K5)",
            ("outcome",),
            registry=registry,
        )
        self.claims = Counter("hongbao_claims", "Claims by result", ("result",), registry=registry)
        self.hints = Counter(
            "hongbao_hints",
            "Guidance bubbles (R-U2): first shown, dismissed, clicked, per person and hint",
            ("hint", "event"),
            registry=registry,
        )
        for hint in Hint:  # every series from the start, so a rate is never missing
            for event in HintEvent:
                self.hints.labels(hint.value, event.value)
        self.claim_batch_size = Histogram(
            "hongbao_claim_batch_size",
            "Claims committed together in one transaction",
            buckets=BATCH_SIZE_BUCKETS,
            registry=registry,
        )
        self.claim_batch_seconds = Histogram(
            "hongbao_claim_batch_duration_seconds",
            "Time one claim batch's transaction took",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        for cause in Cause:
            self.denials.labels(cause.value)
        for claim in ClaimResult:
            self.claims.labels(claim.value)

    def observe_claim_batch(self, size: int, seconds: float) -> None:
        self.claim_batch_size.observe(size)
        self.claim_batch_seconds.observe(seconds)

    def _load_gauges(self, registry: CollectorRegistry | None) -> None:
        self.in_flight = Gauge(
            "hongbao_http_requests_in_flight",
            "Requests being served",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.waiting = Gauge(
            "hongbao_http_requests_waiting",
            "Requests waiting for admission",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.degraded = Gauge(
            "hongbao_degraded",
            "1 while degrade mode is on (R-O2)",
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.money_p99 = Gauge(
            "hongbao_money_path_p99_seconds",
            "p99 latency of money-path requests (window)",
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.rate_limit_keys = Gauge(
            "hongbao_rate_limit_tracked_keys",
            "Users and devices with a rate-limit bucket",
            registry=registry,
            multiprocess_mode="livesum",
        )

    # ------------------------------------------------------------------------ per request

    def observe_request(
        self,
        method: str,
        route: str,
        status: int,
        seconds: float,
        device: tuple[str, str] | None,
    ) -> None:
        key = (method, route, status)
        child = self._request_children.get(key)
        if child is None:
            child = self.requests.labels(method, route, str(status))
            if len(self._request_children) < MAX_CACHED_CHILDREN:
                self._request_children[key] = child
        child.observe(seconds)
        if device is not None:
            success, failure, latency = self._device(device)
            (success if status < 500 else failure).inc()
            latency.observe(seconds)

    def _device(self, device: tuple[str, str]) -> tuple[Counter, Counter, Histogram]:
        found = self._device_children.get(device)
        if found is None:
            model, platform = device
            found = (
                self.device_requests.labels(model, platform, "success"),
                self.device_requests.labels(model, platform, "failure"),
                self.device_latency.labels(model, platform),
            )
            if len(self._device_children) < MAX_CACHED_CHILDREN:
                self._device_children[device] = found
        return found

    # ------------------------------------------------------------------------- per answer

    def decision(self, decision: Decision) -> None:
        result = decision.result.value
        self.decisions.labels(result, decision.policy_version).inc()
        for reason in decision.reasons:
            self.reasons.labels(result, reason.value).inc()
        if decision.result is DecisionResult.DENY:
            self.denials.labels(cause_of(decision).value).inc()
        level = risk_level_of(decision)
        if level is not None:
            self.risk_levels.labels(str(level)).inc()

    # --------------------------------------------------------------------------- scraping

    def render(self, backlog: Collector) -> bytes:
        """The exposition text: this process's metrics (or every process's) and the backlog."""
        if self.registry is not None:
            scrape = CollectorRegistry(auto_describe=False)
            scrape.register(_Both(self.registry, backlog))
            return generate_latest(scrape)
        scrape = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(scrape)  # type: ignore[no-untyped-call] # prometheus_client leaves it untyped
        scrape.register(backlog)
        return generate_latest(scrape)


class _Both(Collector):
    def __init__(self, registry: CollectorRegistry, backlog: Collector) -> None:
        self._registry = registry
        self._backlog = backlog

    def collect(self) -> Iterable[Metric]:
        yield from self._registry.collect()
        yield from self._backlog.collect()


def cause_of(decision: Decision) -> Cause:
    """The R-U1 cause a denial is explained with: that of its first failing rule."""
    failures = decision.failures
    first = failures[0].reason if failures else None
    return Cause.SYSTEM_SETTLING if first is None else CAUSES.get(first, Cause.SYSTEM_SETTLING)


class BacklogCollector(Collector):
    """The database figures, from the sampler's latest sample (refreshed when stale)."""

    def __init__(self, sampler: BacklogSampler, max_age_seconds: float) -> None:
        self._sampler = sampler
        self._max_age_seconds = max_age_seconds

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterable[Metric]:
        sample = self._sampler.refresh(self._max_age_seconds)
        ok = sample is not None and sample.backlog is not None
        yield GaugeMetricFamily(
            "hongbao_backlog_sample_ok", "1 when the last backlog sample succeeded", int(ok)
        )
        if sample is None or sample.backlog is None:
            return
        backlog = sample.backlog
        figures = (
            ("hongbao_backlog_count_cap", "Counts below saturate at this value", backlog.cap),
            ("hongbao_outbox_pending", "Pending outbox deliveries", backlog.outbox_pending),
            (
                "hongbao_outbox_lag_seconds",
                "Wait of the most overdue due delivery",
                backlog.outbox_lag_seconds,
            ),
            ("hongbao_due_work_due", "Scheduled work due now", backlog.due_work_due),
            ("hongbao_due_work_overdue", "Scheduled work overdue", backlog.due_work_overdue),
        )
        for name, documentation, value in figures:
            yield GaugeMetricFamily(name, documentation, value)
        lags = GaugeMetricFamily(
            "hongbao_outbox_consumer_lag_seconds",
            "Wait of each consumer's most overdue due delivery",
            labels=("consumer",),
        )
        for consumer in sorted({*CONSUMERS_SHOWN, *backlog.consumer_lag_seconds}):
            lags.add_metric((consumer,), backlog.consumer_lag_seconds.get(consumer, 0.0))
        yield lags
        refunds = GaugeMetricFamily(
            "hongbao_refunds_open", "Refunds not yet arrived, by state", labels=("state",)
        )
        for state in OPEN_REFUND_STATES:
            refunds.add_metric((state.value,), backlog.refunds.get(state.value, 0))
        yield refunds


# ---------------------------------------------------------------- hooks for route handlers


def observe_decision(decision: Decision) -> None:
    """Count a recall decision the current request produced (eligibility or recall), and name
    it in the request's log line. Call it once per decision shown to the client; outside a
    request (CLI, tests of services) it does nothing."""
    record = current_request()
    if record is None:
        return
    record.decision_id = decision.decision_id
    if record.metrics is not None:
        record.metrics.decision(decision)


def observe_recall(outcome: RecallOutcome) -> None:
    """Count a recall's decision and, when it moved money, the execution by route. (A recall
    repeated with another body after it was done reports it again; a plain repeat does not reach
    the handler at all.)"""
    observe_decision(outcome.decision)
    record = current_request()
    recall = outcome.recall
    if record is None or record.metrics is None or recall.state is not RecallState.DONE:
        return
    if outcome.decision.result is DecisionResult.ALLOW and recall.route is not None:
        record.metrics.executed.labels(recall.route.value).inc()


def risk_level_of(decision: Decision) -> int | None:
    """The risk level the decision's risk rule read, if the rule ran."""
    for outcome in decision.outcomes:
        if outcome.rule == "risk_assessment":
            level = dict(outcome.facts).get("level")
            return level if isinstance(level, int) else None
    return None


def observe_review(outcome: str) -> None:
    """Count a review queue decision the current request made (release, confirm, unlock)."""
    record = current_request()
    if record is not None and record.metrics is not None:
        record.metrics.reviews.labels(outcome).inc()


def observe_hint(hint: Hint, event: HintEvent) -> None:
    """Count a guidance bubble's event the first time a person meets it (shown, dismissed,
    clicked: ``hongbao_hints_total{hint,event}``)."""
    record = current_request()
    if record is not None and record.metrics is not None:
        record.metrics.hints.labels(hint.value, event.value).inc()


def observe_claim(result: ClaimResult) -> None:
    """Count a claim's result (claimed, already claimed, empty, expired…)."""
    record = current_request()
    if record is not None and record.metrics is not None:
        record.metrics.claims.labels(result.value).inc()
