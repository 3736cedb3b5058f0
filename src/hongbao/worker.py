"""``hongbao worker``: runs due work and releases expired ledger holds, until told to stop.

Several workers may run against one PostgreSQL database: due rows are shared out with SKIP
LOCKED and the ledger's expiry sweep locks the accounts it touches, so nothing runs twice.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass
from types import FrameType

from hongbao.bootstrap import Services
from hongbao.platform.scheduler import Scheduler

DEFAULT_POLL_SECONDS = 1.0


@dataclass
class PassReport:
    work_done: int
    work_failed: int
    holds_expired: int

    @property
    def idle(self) -> bool:
        return self.work_done + self.work_failed + self.holds_expired == 0


def build_scheduler(services: Services) -> Scheduler:
    """The scheduler with every handler this build knows (later issues register theirs here)."""
    return Scheduler(services.database, services.clock)


def run_pass(services: Services, scheduler: Scheduler) -> PassReport:
    report = scheduler.run_due()
    expired = services.ledger.expire_due()
    return PassReport(report.done, report.failed + report.dead, expired)


def run_until_stopped(
    services: Services, *, poll_seconds: float = DEFAULT_POLL_SECONDS, once: bool = False
) -> PassReport:
    """Loop over passes, sleeping only when a pass found nothing; SIGINT/SIGTERM stop it."""
    scheduler = build_scheduler(services)
    stop = threading.Event()

    def request_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    total = PassReport(0, 0, 0)
    while not stop.is_set():
        report = run_pass(services, scheduler)
        total = PassReport(
            total.work_done + report.work_done,
            total.work_failed + report.work_failed,
            total.holds_expired + report.holds_expired,
        )
        if once:
            break
        if report.idle:
            stop.wait(poll_seconds)
    return total
