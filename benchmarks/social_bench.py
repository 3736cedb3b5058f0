"""What the social consequences of recalls cost: the send's added read, and the consumer.

Run from the project root::

    .venv/bin/python benchmarks/social_bench.py --events 300 --reads 2000

On a freshly migrated PostgreSQL database (and an SQLite file) with the demo population:

- **the send's added work**: what ``prepare_send`` does for the social context, alone: the
  keyed read of the sender's standing (sent with the send's other reads) and the check of a
  ban or a pair cap, ``--reads`` times in one transaction, as CPU per send. It is the whole
  CPU a send gained; on PostgreSQL the read travels in the send's first round trip;
- **the consumer**: ``--events`` recalls (half group, half personal packets, by li-wei and
  wang-fang) are executed with the relay deferred, then the relay, with only the ``social``
  consumer registered, applies them: CPU and wall-clock per event.

The database of ``--database-url`` is wiped first (its name must contain ``bench``). The
output is Markdown for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hongbao.bootstrap import Services, services_for
from hongbao.entrypoints.population import load_population
from hongbao.identity.devices import DeviceFingerprint
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import SendPacket
from hongbao.packets.social_feed import SOCIAL_FEED, SocialFeed
from hongbao.platform.clock import SystemClock
from hongbao.platform.outbox import Relay
from hongbao.policy.document import default_policy
from hongbao.policy.store import PolicyStore
from hongbao.recall.service import RecallCommand
from hongbao.social.errors import SocialError
from hongbao.social.standing import check_send, read_send_standing
from hongbao.storage.factory import open_database
from hongbao.storage.migrate import upgrade
from hongbao.storage.unit_of_work import UnitOfWork
from hongbao.storage.urls import parse_url
from ledger_bench import ensure_database, reset_postgres
from packets_bench import source_state
from recall_bench import database_name

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hongbao_social_bench"
SENDER = "li-wei"
PHONE = DeviceFingerprint("li-wei-iphone14pro", "sim-li-wei-1")


@dataclass(frozen=True)
class Options:
    events: int
    reads: int
    database_url: str


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300, help="recalls the consumer applies")
    parser.add_argument("--reads", type=int, default=2_000, help="standing reads timed")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args(argv)
    if not 2 <= args.events <= 5_000 or not 1 <= args.reads <= 100_000:
        parser.error("--events is 2 to 5000, --reads 1 to 100000")
    if "bench" not in database_name(args.database_url):
        parser.error("the database is wiped: its name must contain 'bench'")
    return Options(args.events, args.reads, args.database_url)


def quiet_policy() -> PolicyStore:
    """The default policy with no verification per recall and room for every recall of a
    run: the benchmark measures what recalls cost afterwards, not the recall rules."""
    policy = default_policy()
    tiers = policy.recall.tiers
    roomy = {
        name: getattr(tiers, name).model_copy(
            update={"verification": (), "daily_count": 10_000, "daily_amount_minor": 10**12}
        )
        for name in ("class_i", "class_ii", "class_iii")
    }
    recall = policy.recall.model_copy(update={"tiers": tiers.model_copy(update=roomy)})
    return PolicyStore.fixed(policy.model_copy(update={"recall": recall, "version": "bench@1"}))


def prepared(url: str) -> Services:
    services = services_for(open_database(url), SystemClock(), policies=quiet_policy())
    load_population(services.identity, services.funding, services.social)
    services.ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    services.ledger.transfer(
        TransferRequest("top-up", 1, 10**9, "bank", f"user:{SENDER}:balance", "CNY")
    )
    return services


def recall_many(services: Services, count: int) -> None:
    """``count`` packets sent and recalled at once, personal and group packets in turn."""
    for number in range(count):
        personal = number % 2 == 0
        packet_id = f"bench-{number}"
        services.packets.send(
            SendPacket(
                packet_id,
                PacketType.PERSONAL if personal else PacketType.GROUP_NORMAL,
                SENDER,
                Money.of(1_00, "CNY"),
                1,
                f"{SENDER}-balance",
                recipient_id="liu-yang" if personal else None,
                group_id=None if personal else "xinghe-team",
                device=PHONE,
            )
        )
        outcome = services.recalls.recall(RecallCommand(f"k-{packet_id}", packet_id, SENDER, PHONE))
        if outcome.recall.recalled_minor is None:
            raise SystemExit(f"recall of {packet_id} not executed: {outcome.decision.result}")


def time_consumer(services: Services, count: int) -> tuple[float, float, int]:
    relay: Relay[UnitOfWork] = Relay(services.database, services.clock)
    relay.register(SOCIAL_FEED, SocialFeed(services.policies, services.clock))
    started_cpu, started_wall = time.process_time(), time.perf_counter()
    delivered = 0
    while delivered < count:
        report = relay.deliver_due()
        if report.delivered == 0:
            break
        delivered += report.delivered
    return time.process_time() - started_cpu, time.perf_counter() - started_wall, delivered


def time_standing(services: Services, reads: int, sender: str, friend: str) -> float:
    """CPU per send of the social part of a send: the standing read and its check, for a
    group send and a personal send in turn. li-wei's rows hold his recalls' penalties and a
    ban (the check refuses, building its explanation); liu-yang has none (the usual send)."""
    policy = services.policy
    full = policy.packets.limits("personal").max_total_minor
    amount = Money.of(200_00, "CNY")

    def work(uow: UnitOfWork) -> float:
        social = uow.social
        now_us = services.clock.now_us()
        started = time.process_time()
        for number in range(reads):
            group = "xinghe-team" if number % 2 else None
            standing = read_send_standing(social, sender, group, None if group else friend)()
            # A refused send: building its explanation is part of the cost.
            with contextlib.suppress(SocialError):
                check_send(standing, amount, full, now_us, policy.social)
        return (time.process_time() - started) / reads

    return services.database.read(work)


def measure(label: str, url: str, options: Options) -> str:
    services = prepared(url)
    recall_many(services, options.events)
    cpu, wall, delivered = time_consumer(services, options.events)
    usual = time_standing(services, options.reads, "liu-yang", "li-wei")
    penalised = time_standing(services, options.reads, "li-wei", "liu-yang")
    services.close()
    return (
        f"| {label} | {1_000 * usual:.3f} | {1_000 * penalised:.3f} | {delivered} "
        f"| {1_000 * cpu / delivered:.2f} | {1_000 * wall / delivered:.2f} |"
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    ensure_database(options.database_url, database_name(options.database_url))
    reset_postgres(options.database_url)
    rows = [measure("PostgreSQL", options.database_url, options)]
    with tempfile.TemporaryDirectory() as directory:
        sqlite_url = f"sqlite:///{Path(directory) / 'social_bench.db'}"
        upgrade(parse_url(sqlite_url))
        rows.append(measure("SQLite", sqlite_url, options))
    print("## Social consequences: the send's added work and the consumer per event")
    print()
    print(f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"- command: `{shlex.join(sys.orig_argv)}`")
    print(f"- source: {source_state()}")
    print()
    print(
        "| database | send's social read + check, CPU ms: no penalty | penalised, refused "
        "| events | consumer CPU ms / event | consumer wall ms / event |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(row)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
