"""``hongbao worker``: runs due work, relays outbox events and releases expired ledger holds.

Several workers may run against one PostgreSQL database: due rows are shared out with SKIP
LOCKED and the ledger's expiry sweep locks the accounts it touches, so nothing runs twice.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass
from types import FrameType

from hongbao.bootstrap import Services
from hongbao.packets.service import EXPIRE_KIND, PacketService
from hongbao.platform.outbox import Relay
from hongbao.platform.scheduler import Scheduler

DEFAULT_POLL_SECONDS = 1.0


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


def build_scheduler(services: Services) -> Scheduler:
    """The scheduler with every handler this build knows (later issues register theirs here)."""
    scheduler = Scheduler(services.database, services.clock)
    scheduler.register(EXPIRE_KIND, PacketService(services.database, services.clock).expire_handler)
    return scheduler


def build_relay(services: Services) -> Relay:
    """The outbox relay with every consumer this build knows (later issues register theirs)."""
    return Relay(services.database, services.clock)


def run_pass(services: Services, scheduler: Scheduler, relay: Relay) -> PassReport:
    work = scheduler.run_due()
    delivered = relay.deliver_due()
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
    scheduler = build_scheduler(services)
    relay = build_relay(services)
    stop = threading.Event()

    def request_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    total = PassReport()
    while not stop.is_set():
        report = run_pass(services, scheduler, relay)
        total = total.plus(report)
        if once:
            break
        if report.idle:
            stop.wait(poll_seconds)
    return total
