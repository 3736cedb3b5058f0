"""``hongbao worker``: runs due work, relays outbox events and releases expired ledger holds.

Several workers may run against one PostgreSQL database: due rows are shared out with SKIP
LOCKED and the ledger's expiry sweep locks the accounts it touches, so nothing runs twice.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from hongbao.bootstrap import Services
from hongbao.measures.consumer import RecallMeasures
from hongbao.packets.history_roots import HISTORY_ROOT_KIND, day_of, root_handler, schedule_root
from hongbao.packets.scheduled_sends import DELIVER_KIND
from hongbao.packets.service import CAPTURE_KIND, EXPIRE_KIND
from hongbao.packets.social_feed import SOCIAL_FEED, SocialFeed
from hongbao.packets.user_feed import USER_FEED, copy_to_feeds
from hongbao.platform.errors import HongbaoError
from hongbao.platform.invariants import invariant
from hongbao.platform.outbox import Relay, RelayReport
from hongbao.platform.pipeline import Answer, Keyed, Prepared
from hongbao.platform.scheduler import WORKER_PRINCIPAL, Scheduler
from hongbao.recall.risk_analysis import MEASURES, RISK_ANALYSIS, RiskAnalysis
from hongbao.refunds.settlement import RECHECK_KIND, RISK_RELEASE_KIND, SETTLE_KIND
from hongbao.storage.unit_of_work import UnitOfWork

# An idle worker looks again this often: outbox events (R-S7's data sync) reach their consumers
# within about this delay, at the price of a few indexed reads a second while idle.
DEFAULT_POLL_SECONDS = 0.2
OK = 200
MAX_DRAIN_PASSES = 1_000


@dataclass
class PassReport:
    work_done: int = 0
    work_failed: int = 0
    holds_expired: int = 0
    events_delivered: int = 0
    deliveries_failed: int = 0

    @property
    def idle(self) -> bool:
        return (
            self.work_done
            + self.work_failed
            + self.holds_expired
            + self.events_delivered
            + self.deliveries_failed
            == 0
        )

    def plus(self, other: PassReport) -> PassReport:
        return PassReport(
            self.work_done + other.work_done,
            self.work_failed + other.work_failed,
            self.holds_expired + other.holds_expired,
            self.events_delivered + other.events_delivered,
            self.deliveries_failed + other.deliveries_failed,
        )


def build_scheduler(services: Services) -> Scheduler[UnitOfWork]:
    """The scheduler with every handler this build knows (later issues register theirs here)."""
    scheduler = Scheduler(services.database, services.clock, pipeline=services.pipeline)
    scheduler.register(EXPIRE_KIND, services.packets.expire_handler)
    scheduler.register(CAPTURE_KIND, services.packets.capture_handler)
    scheduler.register(DELIVER_KIND, services.packets.deliver_handler)
    scheduler.register(SETTLE_KIND, services.refunds.settle_handler)
    scheduler.register(RECHECK_KIND, services.packets.recheck_handler)
    scheduler.register(RISK_RELEASE_KIND, services.packets.risk_release_handler)
    scheduler.register(HISTORY_ROOT_KIND, root_handler)
    return scheduler


def schedule_history_roots(services: Services) -> None:
    """Make sure today's history root is scheduled (R-B2): each day's job schedules the next,
    so a deployment's worker starts the chain of days once, through the pipeline like any
    write, keyed by the day (starting again the same day changes nothing)."""
    now_us = services.clock.now_us()
    day = day_of(now_us)

    def prepare(uow: UnitOfWork) -> Prepared:
        def step() -> Answer:
            schedule_root(uow.scheduler, day, now_us)
            return Answer(OK, {"day": day})

        return Prepared(step=step)

    keyed = Keyed(WORKER_PRINCIPAL, f"{HISTORY_ROOT_KIND}:start:{day}", day)
    services.pipeline.execute(keyed, prepare, _no_refusal)


def _no_refusal(_error: HongbaoError) -> Answer | None:
    return None  # scheduling a known job refuses nothing: anything raised is a fault


def build_relay(services: Services) -> Relay[UnitOfWork]:
    """The outbox relay with every consumer this build knows (later issues register theirs)."""
    relay = Relay(services.database, services.clock)
    relay.register(USER_FEED, copy_to_feeds)
    relay.register(RISK_ANALYSIS, RiskAnalysis(services.policies))
    relay.register(SOCIAL_FEED, SocialFeed(services.policies, services.clock))
    relay.register(MEASURES, RecallMeasures())
    return relay


def run_pass(
    services: Services,
    scheduler: Scheduler[UnitOfWork],
    relay: Relay[UnitOfWork],
    *,
    deliver: bool = True,
) -> PassReport:
    """``deliver=False`` defers the outbox (degrade mode): its consumers are all off the money
    path (R-S7), while due work (captures, expiries, refund settlement) and holds still run."""
    work = scheduler.run_due()
    delivered = relay.deliver_due() if deliver else RelayReport()
    expired = services.ledger.expire_due()
    return PassReport(
        work.done,
        work.failed + work.dead,
        expired,
        delivered.delivered,
        delivered.failed + delivered.dead,
    )


def run_until_stopped(
    services: Services, *, poll_seconds: float = DEFAULT_POLL_SECONDS, once: bool = False
) -> PassReport:
    """Loop over passes, sleeping only when a pass found nothing; SIGINT/SIGTERM stop it."""
    schedule_history_roots(services)
    worker = EmbeddedWorker(services, poll_seconds=poll_seconds)
    if once:
        return worker.run_pass()

    def request_stop(_signal: int, _frame: FrameType | None) -> None:
        worker.stop_requested.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    return worker.loop()


class EmbeddedWorker:
    """The worker inside another process (the embedded default): the same passes as
    ``hongbao worker``, on a background thread, or drained on demand before a command."""

    def __init__(
        self,
        services: Services,
        *,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        defer_outbox: Callable[[], bool] = lambda: False,  # the API's degrade mode
    ):
        self.services = services
        self.poll_seconds = poll_seconds
        self.defer_outbox = defer_outbox
        self.scheduler = build_scheduler(services)
        self.relay = build_relay(services)
        self.stop_requested = threading.Event()
        self._thread: threading.Thread | None = None
        self.total = PassReport()
        self.failure: BaseException | None = None

    def run_pass(self) -> PassReport:
        report = run_pass(
            self.services, self.scheduler, self.relay, deliver=not self.defer_outbox()
        )
        self.total = self.total.plus(report)
        return report

    def drain(self, max_passes: int = MAX_DRAIN_PASSES) -> PassReport:
        """Run passes until one finds nothing due (bounded: a pass handles a batch)."""
        drained = PassReport()
        for _ in range(max_passes):
            report = self.run_pass()
            drained = drained.plus(report)
            if report.idle:
                break
        return drained

    def loop(self) -> PassReport:
        while not self.stop_requested.is_set():
            if self.run_pass().idle:
                self.stop_requested.wait(self.poll_seconds)
        return self.total

    def start(self) -> None:
        invariant(self._thread is None, "an embedded worker starts once")
        self._thread = threading.Thread(target=self._run, name="hongbao-worker", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.loop()
        except BaseException as error:
            self.failure = error  # handed to whoever stops the worker, never dropped
            raise

    def stop(self, timeout_seconds: float = 30.0) -> None:
        """Stop after the pass in progress; a pass's units of work commit or roll back whole."""
        self.stop_requested.set()
        if self._thread is not None:
            self._thread.join(timeout_seconds)
            invariant(not self._thread.is_alive(), "the embedded worker stopped")
        if self.failure is not None:
            raise self.failure
