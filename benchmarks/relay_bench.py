"""Outbox relay benchmark: how fast the worker drains a backlog of packet claim events.

Run from the project root::

    .venv/bin/python benchmarks/relay_bench.py --claims 5000

The PostgreSQL database named by ``--database-url`` (its name must contain ``bench``; it is
created when missing) is wiped (``DROP SCHEMA public CASCADE``) and migrated. Setup goes through
the public services only: a few funded senders send group lucky packets of ``--shares`` shares,
and ``--shares`` group members claim every packet (``PacketService.claim``), until ``--claims``
claims are made, packet after packet (with ``--interleave``, round-robin over the packets, as
many people tapping several hot packets at once would). With ``--history`` as many claims again
are made and relayed first, so the
measured drain runs over tables that already hold delivered rows, as a live database does.

Each claim leaves one ``PacketClaimed`` event with one delivery to the ``user-feed`` consumer.
The measured part is the worker's relay (``hongbao.entrypoints.worker.build_relay``):
``Relay.deliver_due`` called until a pass delivers nothing. It prints deliveries per second,
the benchmark process's CPU (``time.process_time``) per delivery and, when the server runs on
this machine, the CPU of the relay's PostgreSQL backend per delivery (from ``/proc``). When
``pg_stat_statements`` is loaded, the statements that took the most server time during the
drain are listed.

Afterwards every delivery must be delivered, each user stream must be numbered 1..n without a
gap, every event must have reached the feeds of exactly its readers, and within a user stream a
packet's events must keep the packet's order.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from hongbao.bootstrap import open_services, services_for
from hongbao.entrypoints.worker import build_relay
from hongbao.packets.model import Packet
from hongbao.packets.service import ClaimResult
from hongbao.packets.user_feed import readers
from hongbao.platform.clock import SystemClock
from hongbao.storage.factory import open_database
from ledger_bench import analyze_postgres, ensure_database, reset_postgres
from packets_bench import (
    SHARE_MINOR,
    base_setup,
    claimer_id,
    lucky_packet,
    register_users,
    send_packets,
    sender_id,
)

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/hongbao_relay_bench"
DEFAULT_CLAIMS = 5_000
DEFAULT_SHARES = 100  # the group limit: a packet's claims share its stream
DEFAULT_SENDERS = 2
MAX_PASSES = 100_000
TOP_STATEMENTS = 8
STATEMENT_WIDTH = 110
APPLICATION_NAME = "hongbao"


@dataclass(frozen=True)
class Options:
    claims: int
    shares: int
    senders: int
    history: int
    interleave: bool
    database_url: str


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=DEFAULT_CLAIMS, help="claims to relay")
    parser.add_argument("--shares", type=int, default=DEFAULT_SHARES, help="shares per packet")
    parser.add_argument("--senders", type=int, default=DEFAULT_SENDERS, help="packet senders")
    parser.add_argument(
        "--history", type=int, default=0, help="claims made and relayed before the measured ones"
    )
    parser.add_argument(
        "--interleave", action="store_true", help="claim the packets round-robin, not in turn"
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args(argv)
    if args.claims < 1 or args.senders < 1 or args.history < 0:
        parser.error("--claims and --senders must be positive, --history not negative")
    if not 1 <= args.shares <= 100:
        parser.error("--shares is 1 to 100 (the group packet limit)")
    if "bench" not in _database_name(args.database_url):
        parser.error("the database is wiped: its name must contain 'bench'")
    return Options(
        args.claims, args.shares, args.senders, args.history, args.interleave, args.database_url
    )


def _database_name(url: str) -> str:
    return str(conninfo_to_dict(url).get("dbname", ""))


def progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ setup


def prepare(options: Options) -> None:
    """A fresh, migrated database with the senders and the claimers, all group members."""
    ensure_database(options.database_url, _database_name(options.database_url))
    reset_postgres(options.database_url)
    since_us = SystemClock().now_us() - 1_000_000
    base_setup(options.database_url, options.senders, since_us, group=True)
    claimers = [claimer_id(0, index) for index in range(options.shares)]
    register_users(options.database_url, claimers, since_us, True)


def make_claims(options: Options, count: int, label: str) -> list[str]:
    """Send enough packets for ``count`` claims and claim them; the packets' ids."""
    packets = math.ceil(count / options.shares)
    packet_ids = [f"{label}-{index:05d}" for index in range(packets)]
    minor = options.shares * SHARE_MINOR
    for sender in range(options.senders):
        commands = [
            lucky_packet(packet_id, sender_id(sender), options.shares, minor)
            for index, packet_id in enumerate(packet_ids)
            if index % options.senders == sender
        ]
        send_packets(options.database_url, commands, None)
    services = open_services(options.database_url)
    try:
        for claim in range(count):
            packet, claimer = claim_place(options, claim, packets)
            packet_id = packet_ids[packet]
            outcome = services.packets.claim(packet_id, claimer_id(0, claimer))
            if outcome.result is not ClaimResult.CLAIMED:
                raise SystemExit(f"setup: claim {claim} of {packet_id} was {outcome.result}")
            if (claim + 1) % 1_000 == 0:
                progress(f"setup: {label} {claim + 1}/{count} claims")
    finally:
        services.database.close()
    return packet_ids


def claim_place(options: Options, claim: int, packets: int) -> tuple[int, int]:
    """Which packet the ``claim``-th claim taps, and which claimer (each claims a packet once)."""
    if options.interleave:
        return claim % packets, claim // packets
    return claim // options.shares, claim % options.shares


# ------------------------------------------------------------------------------ measure


@dataclass(frozen=True)
class Drain:
    deliveries: int
    failures: int
    passes: int
    seconds: float
    client_cpu_seconds: float
    server_cpu_seconds: float | None


def backend_pids(url: str) -> list[int]:
    """The hongbao sessions' server processes on the benchmark database."""
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = %s",
            (APPLICATION_NAME,),
        ).fetchall()
    return [int(row[0]) for row in rows]


def process_cpu_seconds(pid: int) -> float | None:
    """User plus system CPU of a local process, None when /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3 of stat(5), utime 14 and stime 15.
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def server_cpu(pids: Sequence[int]) -> float | None:
    readings = [process_cpu_seconds(pid) for pid in pids]
    if not readings or any(reading is None for reading in readings):
        return None
    return sum(reading for reading in readings if reading is not None)


def drain(url: str) -> Drain:
    """Relay until a pass finds nothing."""
    # One connection, as a worker with pool_size=1: its server backend is the relay's alone.
    services = services_for(open_database(url, pool_size=1), SystemClock())
    try:
        relay = build_relay(services)
        services.database.read(lambda uow: uow.outbox.get_event("warm-up"))
        pids = backend_pids(url)
        server_before = server_cpu(pids)
        client_before = time.process_time()
        began = time.perf_counter()
        delivered = failures = passes = 0
        for passes in range(1, MAX_PASSES + 1):  # noqa: B007 - the count is reported
            report = relay.deliver_due()
            delivered += report.delivered
            failures += report.failed + report.dead
            if report.delivered + report.failed + report.dead == 0:
                break
        seconds = time.perf_counter() - began
        client = time.process_time() - client_before
        server_after = server_cpu(pids)
    finally:
        services.database.close()
    server = None if server_before is None or server_after is None else server_after - server_before
    return Drain(delivered, failures, passes, seconds, client, server)


# ------------------------------------------------------------------------------ statements


def reset_statements(url: str) -> bool:
    """Start pg_stat_statements afresh; False when the server does not load it."""
    with psycopg.connect(url, autocommit=True) as connection:
        loaded = connection.execute("SHOW shared_preload_libraries").fetchone()
        if loaded is None or "pg_stat_statements" not in str(loaded[0]):
            return False
        connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        connection.execute("SELECT pg_stat_statements_reset()")
    return True


def top_statements(url: str) -> list[tuple[int, float, float, str]]:
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT calls, total_exec_time, mean_exec_time, query FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND query NOT ILIKE '%%pg_stat_statements%%'"
            " ORDER BY total_exec_time DESC LIMIT %s",
            (TOP_STATEMENTS,),
        ).fetchall()
    return [
        (int(c), float(total), float(mean), " ".join(str(q).split())) for c, total, mean, q in rows
    ]


# ------------------------------------------------------------------------------ verify


def verify(url: str, packet_ids: Sequence[str]) -> list[str]:
    """Every delivery delivered; user streams gapless, complete and in packet order."""
    problems: list[str] = []
    with psycopg.connect(url, autocommit=True) as connection:
        states = dict(
            connection.execute(
                "SELECT state, COUNT(*) FROM platform_outbox_deliveries GROUP BY state"
            ).fetchall()
        )
        events = connection.execute(
            "SELECT stream, stream_sequence, event_type, payload FROM platform_outbox_events"
            " ORDER BY stream, stream_sequence"
        ).fetchall()
    undelivered = {state: count for state, count in states.items() if state != "delivered"}
    if undelivered:
        problems.append(f"deliveries not delivered: {undelivered}")
    problems += _check_feeds(url, packet_ids, events)
    return problems


def _check_feeds(url: str, packet_ids: Sequence[str], events: Sequence[Any]) -> list[str]:
    services = open_services(url)
    try:
        packets: dict[str, Packet] = {pid: services.packets.packet(pid) for pid in packet_ids}
    finally:
        services.database.close()
    expected: dict[str, list[tuple[str, int]]] = {}
    found: dict[str, list[tuple[str, int]]] = {}
    problems: list[str] = []
    for stream, sequence, event_type, payload_text in events:
        payload = json.loads(payload_text)
        if stream.startswith("packet:"):
            packet = packets.get(stream.removeprefix("packet:"))
            if packet is None:
                continue
            for user in readers(packet, event_type, payload):
                expected.setdefault(f"user:{user}", []).append((packet.id, sequence))
            continue
        if stream.startswith("user:") and str(payload.get("packet_id")) in packets:
            place = len(found.setdefault(stream, [])) + 1
            if sequence != place:
                problems.append(f"{stream} has sequence {sequence} at place {place}")
            found[stream].append((str(payload["packet_id"]), int(payload["packet_sequence"])))
    for stream, wanted in expected.items():
        if sorted(found.get(stream, [])) != sorted(wanted):
            problems.append(f"{stream} holds {len(found.get(stream, []))} of {len(wanted)} copies")
        last: dict[str, int] = {}
        for packet_id, sequence in found.get(stream, []):
            if sequence <= last.get(packet_id, 0):
                problems.append(f"{stream}: {packet_id}'s events out of order")
            last[packet_id] = sequence
    return problems


# ------------------------------------------------------------------------------ main


def print_drain(label: str, result: Drain) -> None:
    count = max(1, result.deliveries)
    print(f"{label}:")
    print(
        f"  deliveries: {result.deliveries} in {result.passes} passes, failures {result.failures}"
    )
    rate = result.deliveries / result.seconds
    print(f"  wall time: {result.seconds:.2f} s, {rate:,.0f} deliveries/s")
    print(f"  client CPU: {result.client_cpu_seconds * 1_000 / count:.3f} ms per delivery")
    if result.server_cpu_seconds is not None:
        print(f"  server CPU: {result.server_cpu_seconds * 1_000 / count:.3f} ms per delivery")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    progress(f"preparing {options.database_url} ...")
    prepare(options)
    history: list[str] = []
    if options.history:
        history = make_claims(options, options.history, "history")
        progress("setup: relaying the history ...")
        drain(options.database_url)
    packet_ids = make_claims(options, options.claims, "measured")
    analyze_postgres(options.database_url)
    statements = reset_statements(options.database_url)
    progress("relaying ...")
    result = drain(options.database_url)
    print(
        f"relay benchmark: {options.claims} claims on {math.ceil(options.claims / options.shares)}"
        f" packets of {options.shares} shares{', interleaved' if options.interleave else ''},"
        f" {options.history} claims of history"
    )
    print_drain("drain", result)
    if statements:
        print("  top statements by server time (calls, total ms, mean ms, query):")
        for calls, total, mean, query in top_statements(options.database_url):
            print(f"    {calls:>7} {total:>10.1f} {mean:>8.3f}  {query[:STATEMENT_WIDTH]}")
    problems = verify(options.database_url, [*history, *packet_ids])
    print("verification: " + ("; ".join(problems[:5]) if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
