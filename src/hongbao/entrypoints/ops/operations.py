"""The operations side of one API process: its settings and the parts that keep it healthy.

:class:`Operations` holds the rate limiter, admission control, the degrade monitor, the backlog
sampler, the readiness probe, the device labels and the metrics; the middleware
(:mod:`hongbao.entrypoints.ops.middleware`) and the principal dependency
(:meth:`Operations.admit`) use it.
Every limit has a default that a load test of thousands of requests a second over many users
does not trip; ``OperationsSettings.from_environment`` reads the few worth changing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Final

from hongbao.bootstrap import Services
from hongbao.entrypoints.http.auth.device_labels import DeviceLabels
from hongbao.entrypoints.http.auth.tokens import Principal
from hongbao.entrypoints.ops.admission import Admission, AdmissionLimits
from hongbao.entrypoints.ops.backlog import Backlog, BacklogSampler
from hongbao.entrypoints.ops.degrade import DegradeMonitor, DegradeThresholds
from hongbao.entrypoints.ops.health import Readiness
from hongbao.entrypoints.ops.measures_export import Joined, MeasuresCollector
from hongbao.entrypoints.ops.metrics import BacklogCollector, Metrics
from hongbao.entrypoints.ops.observability import RequestRecord, current_request
from hongbao.entrypoints.ops.ratelimit import BucketLimit, RateLimited, RateLimiter
from hongbao.platform.errors import ConfigurationError, PlatformCode

MAX_REQUEST_THREADS: Final = 64
MIN_BODY_BYTES: Final = 1_024
MAX_BODY_BYTES: Final = 16 * 1_024 * 1_024


@dataclass(frozen=True, slots=True)
class OperationsSettings:
    user_rate_per_second: float = 50.0
    user_burst: int = 100
    device_rate_per_second: float = 50.0
    device_burst: int = 100
    rate_limit_max_keys: int = 100_000
    admission: AdmissionLimits = field(default_factory=AdmissionLimits)
    degrade: DegradeThresholds = field(default_factory=DegradeThresholds)
    degrade_forced: str | None = None  # a reason: degrade mode from the start, until released
    overloaded_retry_after_seconds: int = 1
    degraded_retry_after_seconds: int = 5
    backlog_refresh_seconds: float = 5.0  # 0: only /metrics and /readyz refresh it
    backlog_cap: int = 1_000
    overdue_after_seconds: float = 60.0
    readiness_timeout_seconds: float = 1.0
    schema_check_seconds: float = 60.0
    # The database the schema revision is read from for /readyz; None: the database's own URL
    # when it carries no secret (a redacted URL cannot connect).
    database_url: str | None = None
    device_cache_size: int = 10_000
    device_label_limit: int = 200
    # Threads that run the framework's blocking routes, per process (the framework's default
    # is 40). A route's work is mostly Python holding the one interpreter lock, with short
    # waits for the database: a few threads keep a core busy, and dozens only fight over the
    # lock and the connection pool (figures in benchmarks/RESULTS.md).
    request_threads: int = 4
    # The largest request body of any route, claims included: every body of the API is a
    # few hundred bytes of JSON, so anything near this is a mistake or an attack.
    max_body_bytes: int = 65_536

    def __post_init__(self) -> None:
        if not 1 <= self.request_threads <= MAX_REQUEST_THREADS:
            raise ConfigurationError(
                f"request threads are 1 to {MAX_REQUEST_THREADS}, not {self.request_threads}",
                code=PlatformCode.CONFIG_OPERATIONS,
            )
        if not MIN_BODY_BYTES <= self.max_body_bytes <= MAX_BODY_BYTES:
            raise ConfigurationError(
                f"the body limit is {MIN_BODY_BYTES} to {MAX_BODY_BYTES} bytes, "
                f"not {self.max_body_bytes}",
                code=PlatformCode.CONFIG_OPERATIONS,
            )

    @classmethod
    def from_environment(cls, database_url: str | None = None) -> OperationsSettings:
        """Defaults, changed by the ``HONGBAO_*`` variables of :data:`ENVIRONMENT`."""
        values: dict[str, Any] = {}
        admission: dict[str, Any] = {}
        for variable, (name, kind) in ENVIRONMENT.items():
            text = os.environ.get(variable)
            if text is not None:
                chosen = admission if name in _ADMISSION_FIELDS else values
                chosen[name] = _parse(variable, text, kind)
        return cls(database_url=database_url, admission=AdmissionLimits(**admission), **values)


ENVIRONMENT: Final[dict[str, tuple[str, type]]] = {
    "HONGBAO_USER_RATE": ("user_rate_per_second", float),
    "HONGBAO_USER_BURST": ("user_burst", int),
    "HONGBAO_DEVICE_RATE": ("device_rate_per_second", float),
    "HONGBAO_DEVICE_BURST": ("device_burst", int),
    "HONGBAO_MAX_IN_FLIGHT": ("max_in_flight", int),
    "HONGBAO_MAX_WAITING": ("max_waiting", int),
    "HONGBAO_MAX_WAIT_SECONDS": ("max_wait_seconds", float),
    "HONGBAO_DEGRADE_FORCED": ("degrade_forced", str),
    "HONGBAO_REQUEST_THREADS": ("request_threads", int),
    "HONGBAO_MAX_BODY_BYTES": ("max_body_bytes", int),
}
_ADMISSION_FIELDS: Final = frozenset(f.name for f in fields(AdmissionLimits))


def _parse(variable: str, text: str, kind: type) -> object:
    if kind is str:
        return text or None
    try:
        return int(text) if kind is int else float(text)
    except ValueError as error:
        raise ConfigurationError(
            f"{variable} is a number, not {text!r}", code=PlatformCode.CONFIG_OPERATIONS
        ) from error


class Operations:
    def __init__(
        self,
        services: Services,
        settings: OperationsSettings,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.limiter = RateLimiter(
            BucketLimit(settings.user_rate_per_second, settings.user_burst),
            BucketLimit(settings.device_rate_per_second, settings.device_burst),
            max_keys=settings.rate_limit_max_keys,
            monotonic=monotonic,
        )
        self.admission = Admission(settings.admission, monotonic=monotonic)
        self.degrade = DegradeMonitor(
            settings.degrade, monotonic=monotonic, on_change=self.metrics.degraded.set
        )
        if settings.degrade_forced:
            self.degrade.force(settings.degrade_forced)
        self.sampler = BacklogSampler(
            services.database,
            services.clock,
            cap=settings.backlog_cap,
            overdue_after_seconds=settings.overdue_after_seconds,
            refresh_seconds=settings.backlog_refresh_seconds,
            monotonic=monotonic,
            on_sample=self._on_backlog,
        )
        self.backlog_collector = Joined(
            BacklogCollector(self.sampler, settings.backlog_refresh_seconds),
            MeasuresCollector(services.measures, services.support),
        )
        self.readiness = Readiness(
            services.database,
            settings.database_url,
            timeout_seconds=settings.readiness_timeout_seconds,
            schema_check_seconds=settings.schema_check_seconds,
            monotonic=monotonic,
        )
        self.devices = DeviceLabels(
            services.identity,
            max_devices=settings.device_cache_size,
            max_labels=settings.device_label_limit,
        )

    def admit(self, who: Principal, *, look_up_device: bool = True) -> bool:
        """For the principal dependency: rate-limit the caller and note who it is. True when
        the device's label is known; without ``look_up_device`` an unknown one is left for the
        caller to learn (the claim lane reads it in its batch, not one read per device).

        Operators are not rate-limited (admission control still bounds their load)."""
        record = current_request()
        device = (
            None if who.device_id is None or who.sim_id is None else (who.device_id, who.sim_id)
        )
        label = None
        if device is not None:
            label = self.devices.of(*device) if look_up_device else self.devices.cached(*device)
        if record is not None:
            record.subject = who.subject
            record.device = label
        if not who.is_operator:
            self._limit(who.subject, device, record)
        return device is None or label is not None

    def learned_device(self, who: Principal, label: tuple[str, str]) -> None:
        """The label of the caller's device, read after ``admit`` (see there)."""
        if who.device_id is None or who.sim_id is None:
            return
        bounded = self.devices.learn(who.device_id, who.sim_id, label)
        record = current_request()
        if record is not None:
            record.device = bounded

    def _limit(
        self, subject: str, device: tuple[str, str] | None, record: RequestRecord | None
    ) -> None:
        try:
            self.limiter.check(subject, None if device is None else "\x00".join(device))
        except RateLimited as refused:
            self.metrics.refused.labels("rate_limited").inc()
            if record is not None:
                record.retry_after_seconds = refused.retry_after_seconds
                record.refusal = f"rate_limited:{refused.details['limit']}"
            raise

    def close(self) -> None:
        """At shutdown: the backlog sampler's thread is waited for."""
        self.sampler.close()

    def _on_backlog(self, backlog: Backlog) -> None:
        self.degrade.observe_backlog(backlog.outbox_lag_seconds, backlog.due_work_overdue)

    def note_load(self) -> None:
        """Set this process's load gauges: at each scrape, and after each request when several
        processes share the figures (a scrape reaches only one of them)."""
        state = self.admission.state()
        self.metrics.in_flight.set(state.in_flight)
        self.metrics.waiting.set(state.waiting)
        self.metrics.rate_limit_keys.set(self.limiter.tracked_keys)
        degrade = self.degrade.state()
        self.metrics.degraded.set(int(degrade.active))
        self.metrics.money_p99.set(degrade.money_p99_seconds or 0.0)

    def render_metrics(self) -> bytes:
        self.degrade.evaluate()
        self.note_load()
        return self.metrics.render(self.backlog_collector)
