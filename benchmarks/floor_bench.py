"""The floors under issue #7's HTTP targets: what a request costs at least on this machine.

Run from the project root, with wrk installed (``make bench-deps``)::

    .venv/bin/python benchmarks/floor_bench.py --seconds 10

Three measurements, each in CPU time per request (``/proc`` and ``getrusage``), on a quiet
machine:

1. **HTTP alone.** wrk with the claim script of ``http_bench.py`` (the same method, path,
   headers and a new Idempotency-Key per request) against ``benchmarks/bare_asgi.py`` under
   uvicorn with 2 worker processes: an app that reads the request and answers a fixed claim
   answer, nothing else. What the server and the load generator cost with none of hongbao's
   work.
2. **Claims without HTTP.** ``ClaimDesk``'s batch, the very transaction the HTTP claim lane
   commits (the tokens' revocations, the Idempotency-Keys, the claims, their answers),
   called in this process on PostgreSQL with ``--batch`` claims at a time on the open packets
   of ``http_bench.py``'s setup, nothing else running: this process's CPU and the database
   backends' CPU per claim. The HTTP lane, the outbox relay and the user feed come on top.
3. **Recalls without HTTP.** ``RecallService.recall`` in this process, one transaction each,
   on ``http_bench.py``'s recall packets (class I senders, no SMS code asked, from the
   sending phone): CPU here and in the backends per recall.

Then the arithmetic: at those floors alone, how many claims and recalls per second the
machine's cores could serve, against the targets. For the recall target, Little's law: with
64 connections each waiting for its answer before sending again, p99 < 50 ms needs a mean
latency under 50 ms, so at least 64 / 0.05 s = 1,280 recalls/s.

The PostgreSQL database of ``--database-url`` is wiped first (its name must contain
``bench``). The output is Markdown for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import http_bench as hb
from hongbao.bootstrap import POLICY_VARIABLE, open_services
from hongbao.entrypoints.http.auth.tokens import Principal, Role
from hongbao.entrypoints.http.claims import ClaimCall, ClaimDesk
from hongbao.entrypoints.http.idempotency import request_hash
from hongbao.platform.pipeline import Keyed
from hongbao.recall.records import RecallState
from hongbao.recall.service import RecallCommand

BENCH_DIR = Path(__file__).resolve().parent
CORES = os.cpu_count() or 1
FAR_FUTURE_US = 2**62
FINGERPRINT_KEY = b"floor-bench fingerprints"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hongbao_floor_bench"
# Claims per spread packet at most, so every claim of the run finds a free share.
CLAIMS_PER_PACKET = 50


@dataclass(frozen=True)
class Options:
    seconds: float
    batch: int
    claims: int
    recalls: int
    database_url: str


@dataclass(frozen=True)
class Floor:
    """CPU milliseconds per request, by where it was spent."""

    what: str
    requests: int
    per_request_ms: dict[str, float]
    note: str = ""

    @property
    def total_ms(self) -> float:
        return sum(self.per_request_ms.values())


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="wrk run of the HTTP floor")
    parser.add_argument("--batch", type=int, default=16, help="claims per transaction")
    parser.add_argument("--claims", type=int, default=3_200, help="claims measured")
    parser.add_argument("--recalls", type=int, default=600, help="recalls measured")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args(argv)
    if not (0 < args.batch <= 64 and args.claims > args.batch and args.recalls > 0):
        parser.error("--batch is 1 to 64, --claims more than a batch, --recalls at least 1")
    return Options(args.seconds, args.batch, args.claims, args.recalls, args.database_url)


# ------------------------------------------------------------------------------ CPU


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each live PostgreSQL backend of ``database``."""
    marker = f" {database} ".encode()
    return {
        pid: cpu
        for pid, (_, cpu, command) in hb._processes().items()
        if command.startswith(b"postgres: ") and marker in command
    }


def backend_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU the backends used in between (a backend opened meanwhile counts from zero; one
    that closed meanwhile is lost, so the services here keep theirs open)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


# ------------------------------------------------------------------------------ 1. HTTP


@contextmanager
def bare_server(scratch: Path) -> Iterator[tuple[str, int]]:
    port = hb.free_port()
    log = (scratch / "bare.log").open("wb")
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(BENCH_DIR),
        "bare_asgi:app",
        "--workers",
        "2",
        "--host",
        hb.HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--lifespan",
        "off",
    ]
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://{hb.HOST}:{port}"
    try:
        deadline = time.monotonic() + hb.STARTUP_TIMEOUT_SECONDS
        while True:
            try:
                with urllib.request.urlopen(base_url, timeout=2):
                    break
            except (urllib.error.URLError, OSError) as error:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the bare server did not start: {error}") from error
                time.sleep(hb.POLL_SECONDS)
        yield base_url, server.pid
    finally:
        hb._stop(server)
        log.close()


def http_floor(options: Options, scratch: Path) -> tuple[Floor, hb.WrkRun]:
    # Two claimers: each wrk thread takes its own (the app reads no token).
    lines = ["claimer\tnot-a-token-1", "claimer\tnot-a-token-2", "packet\tspread-00000"]
    data = hb.write_data(scratch, "bare", lines)
    wrk_options = hb.parse_options(["--seconds", f"{options.seconds:g}"])
    with bare_server(scratch) as (base_url, pid):
        hb.run_wrk(hb.Service(base_url, scratch, {}, pid, []), "spread", data, 2, wrk_options)
        server_before = hb._tree_cpu(hb._processes(), [pid])
        wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        service = hb.Service(base_url, scratch, {}, pid, [])
        run = hb.run_wrk(service, "spread", data, options.seconds, wrk_options)
        wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_after = hb._tree_cpu(hb._processes(), [pid])
    hb._require(run.count_status(200, 299) == run.requests, "the bare app answers 200")
    wrk_seconds = (wrk_after.ru_utime + wrk_after.ru_stime) - (
        wrk_before.ru_utime + wrk_before.ru_stime
    )
    per = {
        "uvicorn (2 processes)": 1000 * (server_after - server_before) / run.requests,
        "wrk": 1000 * wrk_seconds / run.requests,
    }
    return Floor("HTTP alone (bare ASGI app)", run.requests, per), run


# ------------------------------------------------------------------------------ 2. claims


def claim_calls(plan: hb.Plan, count: int) -> list[ClaimCall]:
    """``count`` claims, each by a claimer who has not claimed that packet, at most
    CLAIMS_PER_PACKET a packet."""
    packets, claimers = plan.spread_packets, plan.claimers
    hb._require(len(packets) * CLAIMS_PER_PACKET >= count, "enough open packets")
    run = secrets.token_hex(4)
    calls = []
    for index in range(count):
        packet = packets[index % len(packets)]
        user = claimers[(index // len(packets)) % len(claimers)]
        phone = hb.phone_of(user)
        who = Principal(user, Role.USER, phone.device_id, phone.sim_id, FAR_FUTURE_US, f"t-{user}")
        key = f"floor-{run}-{index}"
        path = f"/v1/packets/{packet}/claims"
        fingerprint = request_hash("POST", path, b"", FINGERPRINT_KEY)
        calls.append(ClaimCall(who, Keyed(user, key, fingerprint), packet, "en"))
    return calls


def claim_floor(options: Options, plan: hb.Plan) -> Floor:
    services = open_services(options.database_url)
    try:
        desk = ClaimDesk(services.database, services.packets, services.pipeline)
        calls = claim_calls(plan, options.claims + options.batch)
        batches = [calls[i : i + options.batch] for i in range(0, len(calls), options.batch)]
        _check_claims(desk._run(batches[0]))
        database = hb.database_name(options.database_url)
        backends, cpu = backend_cpu(database), time.process_time()
        for batch in batches[1:]:
            _check_claims(desk._run(batch))
        cpu = time.process_time() - cpu
        postgres = backend_delta(backends, backend_cpu(database))
    finally:
        services.close()
    count = sum(len(batch) for batch in batches[1:])
    per = {"Python (this process)": 1000 * cpu / count, "PostgreSQL": 1000 * postgres / count}
    note = f"batches of {options.batch}; HTTP lane, outbox relay and user feed not included"
    return Floor("claims without HTTP (ClaimDesk batch)", count, per, note)


def _check_claims(replies: Sequence[object]) -> None:
    for reply in replies:
        result = getattr(reply, "result", None)
        hb._require(getattr(result, "value", None) == "claimed", f"a claim went through: {reply}")


# ------------------------------------------------------------------------------ 3. recalls


def recall_floor(options: Options, plan: hb.Plan) -> Floor:
    packets = plan.recall_packets["recall"]
    hb._require(len(packets) > options.recalls, "enough recall packets")
    services = open_services(options.database_url)
    run = secrets.token_hex(4)

    def recall(packet: hb.RecallPacket) -> None:
        command = RecallCommand(
            f"floor-{run}-{packet.packet_id}",
            packet.packet_id,
            packet.sender,
            hb.phone_of(packet.sender),
        )
        outcome = services.recalls.recall(command)
        hb._require(outcome.recall.state is RecallState.DONE, f"recall done: {outcome.recall}")

    try:
        recall(packets[0])  # warm-up
        database = hb.database_name(options.database_url)
        backends, cpu = backend_cpu(database), time.process_time()
        for packet in packets[1 : options.recalls + 1]:
            recall(packet)
        cpu = time.process_time() - cpu
        postgres = backend_delta(backends, backend_cpu(database))
    finally:
        services.close()
    per = {
        "Python (this process)": 1000 * cpu / options.recalls,
        "PostgreSQL": 1000 * postgres / options.recalls,
    }
    return Floor("recalls without HTTP (RecallService.recall)", options.recalls, per)


# ------------------------------------------------------------------------------ report


def ceiling(total_ms: float) -> float:
    """Requests a second the machine's cores serve at ``total_ms`` of CPU each."""
    return CORES * 1000 / total_ms


def print_report(options: Options, floors: list[Floor], http: hb.WrkRun, argv: list[str]) -> None:
    print("# Floors under the HTTP targets (issue #7)")
    print()
    print(f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"- command: `{' '.join(['.venv/bin/python', 'benchmarks/floor_bench.py', *argv])}`")
    print(f"- source: {hb.source_state()}")
    print(
        f"- machine: nproc={CORES}, {platform.machine()}, load average at the end "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"- HTTP floor: `{http.command}`: {http.per_second(http.requests):,.0f} requests/s, "
        f"p99 {http.latency_ms.get('p99', 0):.1f} ms"
    )
    print()
    print("| measured | requests | CPU ms a request, by part | total ms |")
    print("|---|---:|---|---:|")
    for floor in floors:
        parts = ", ".join(f"{name} {ms:.3f}" for name, ms in floor.per_request_ms.items())
        note = f" ({floor.note})" if floor.note else ""
        print(f"| {floor.what}{note} | {floor.requests:,} | {parts} | {floor.total_ms:.3f} |")
    print()
    http_floor_ms, claims, recalls = (floor.total_ms for floor in floors)
    print(f"At these floors alone the {CORES} cores would serve at most:")
    print()
    print("| target | needs | ceiling at the floors (HTTP alone + the work) | |")
    print("|---|---|---:|---|")
    for label, target in (("spread", hb.TARGET_SPREAD_CLAIMS), ("hot", hb.TARGET_HOT_CLAIMS)):
        top = ceiling(http_floor_ms + claims)
        verdict = "below the target" if top < target else "above the target"
        print(
            f"| >= {target:,.0f} claims/s ({label}) | <= {CORES * 1000 / target:.2f} ms a "
            f"claim | {top:,.0f} claims/s | {verdict} |"
        )
    needed = hb.TARGET_RECALL_CONNECTIONS / (hb.TARGET_RECALL_P99_MS / 1000)
    top = ceiling(http_floor_ms + recalls)
    verdict = "below the target" if top < needed else "above the target"
    print(
        f"| recall p99 < {hb.TARGET_RECALL_P99_MS:g} ms at "
        f"{hb.TARGET_RECALL_CONNECTIONS} connections | >= {needed:,.0f} recalls/s "
        f"(Little's law), <= {CORES * 1000 / needed:.2f} ms a recall | {top:,.0f} recalls/s "
        f"| {verdict} |"
    )
    print()


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    options = parse_options(arguments)
    hb.wrk_command()
    spread = -(-(options.claims + options.batch) // CLAIMS_PER_PACKET) + 1
    setup = hb.parse_options(
        [
            "--scenarios",
            "spread,recall",
            "--seconds",
            "1",
            "--warmup",
            "0",
            "--spread-packets",
            str(spread),
            "--recall-ceiling",
            str(options.recalls + 1),
            "--database-url",
            options.database_url,
        ]
    )
    with tempfile.TemporaryDirectory(prefix="hongbao-floor-bench-") as directory:
        scratch = Path(directory)
        hb.prepare_database(setup)
        policy_path, _ = hb.write_policy(scratch, setup.hot_shares)
        os.environ[POLICY_VARIABLE] = str(policy_path)
        plan = hb.make_plan(setup)
        print(f"setup: {hb.run_setup(options.database_url, plan, setup):.0f} s", file=sys.stderr)
        http, run = http_floor(options, scratch)
        floors = [http, claim_floor(options, plan), recall_floor(options, plan)]
    print_report(options, floors, run, arguments)
    return 0


if __name__ == "__main__":
    sys.exit(main())
