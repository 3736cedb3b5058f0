"""Anatomy of one send over HTTP on PostgreSQL: statements, round trips and CPU per send.

Run from the project root::

    .venv/bin/python benchmarks/send_anatomy.py --sends 300

``POST /v1/packets`` is driven in this process through the ASGI app (the framework's test
client) on a freshly migrated PostgreSQL database with the demo population: li-wei sends
0.30 in three lucky shares to his group from his balance, each send under a new
Idempotency-Key. After ``--warmup`` unmeasured sends (prepared statements, caches), one pass
counts the statements psycopg sends and the round trips it waits for (as the recall
benchmark's anatomy does), and one pass times the sends: this process's CPU per send (client,
framework and hongbao together) and the wall-clock per send. Every answer must be 201.

The database of ``--database-url`` is wiped first (its name must contain ``bench``). The
output is Markdown for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from hongbao.bootstrap import services_for
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.tokens import TokenSigner
from hongbao.entrypoints.http.context import ApiContext, ApiSettings
from hongbao.entrypoints.http.server import prepare_demo
from hongbao.entrypoints.ops.operations import OperationsSettings
from hongbao.platform.clock import SystemClock
from hongbao.storage.factory import open_database
from ledger_bench import ensure_database, reset_postgres
from packets_bench import source_state
from recall_bench import counting_statements, database_name

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hongbao_send_bench"
SENDER = "li-wei"
BODY = {
    "type": "group_lucky",
    "amount": "0.30",
    "shares": 3,
    "funding_source_id": "li-wei-balance",
    "group_id": "xinghe-team",
}
# Limits far above one process's pace: the anatomy measures sends, not rate limiting.
UNLIMITED = ApiSettings(
    operations=OperationsSettings(
        user_rate_per_second=1e6,
        user_burst=10_000_000,
        device_rate_per_second=1e6,
        device_burst=10_000_000,
    )
)


@dataclass(frozen=True)
class Options:
    sends: int
    warmup: int
    database_url: str


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=300, help="sends per measured pass")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured sends first")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args(argv)
    if not 1 <= args.sends <= 10_000 or not 0 <= args.warmup <= 1_000:
        parser.error("--sends is 1 to 10000, --warmup 0 to 1000")
    if "bench" not in database_name(args.database_url):
        parser.error("the database is wiped: its name must contain 'bench'")
    return Options(args.sends, args.warmup, args.database_url)


def send_all(client: TestClient, token: str, prefix: str, count: int) -> None:
    for number in range(count):
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"{prefix}-{number}"}
        answer = client.post("/v1/packets", json=BODY, headers=headers)
        if answer.status_code != 201:
            raise SystemExit(f"send {prefix}-{number} answered {answer.status_code}: {answer.text}")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    ensure_database(options.database_url, database_name(options.database_url))
    reset_postgres(options.database_url)
    services = services_for(open_database(options.database_url), SystemClock())
    context = ApiContext(services, TokenSigner(b"send anatomy: a secret of 32 bytes+"), UNLIMITED)
    tokens = {entry.principal.subject: entry.token for entry in prepare_demo(context)}
    with TestClient(create_app(context)) as client:
        send_all(client, tokens[SENDER], "warm", options.warmup)
        with counting_statements() as (statements, waited):
            send_all(client, tokens[SENDER], "count", options.sends)
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        send_all(client, tokens[SENDER], "time", options.sends)
        cpu = time.process_time() - started_cpu
        wall = time.perf_counter() - started_wall
    print_report(options, statements, waited, cpu, wall)
    return 0


def print_report(
    options: Options, statements: dict[str, int], waited: dict[str, int], cpu: float, wall: float
) -> None:
    sends = options.sends
    total = sum(statements.values())
    # A round trip is a wait for a result not yet arrived, plus the commit's.
    trips = sum(waited.values()) + sends
    print("## Anatomy of one send over HTTP on PostgreSQL (in process)")
    print()
    print(f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"- command: `{shlex.join(sys.orig_argv)}`")
    print(f"- source: {source_state()}")
    print()
    print(
        f"{sends} sends: {total / sends:.1f} statements and {trips / sends:.1f} round trips a "
        f"send; {1_000 * cpu / sends:.2f} ms of this process's CPU (client, framework and "
        f"hongbao) and {1_000 * wall / sends:.2f} ms wall-clock a send."
    )
    print()
    print("| per send | waited for | statement |")
    print("|---:|---:|---|")
    for statement, count in sorted(statements.items(), key=lambda item: -item[1]):
        print(f"| {count / sends:.2f} | {waited.get(statement, 0) / sends:.2f} | `{statement}` |")
    print()


if __name__ == "__main__":
    sys.exit(main())
