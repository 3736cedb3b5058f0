"""``hongbao serve --workers N`` as processes: its API processes die with it, a restart on the
same port works right after a ``kill -9``, and SIGTERM lets a request in flight finish."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hongbao.bootstrap import open_services
from hongbao.entrypoints.http.auth.tokens import Role, TokenSigner
from hongbao.entrypoints.http.server import DEMO_BANK, DEMO_FUNDS_MINOR
from hongbao.entrypoints.population import load_population
from hongbao.entrypoints.supervision import die_with_parent
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest

SECRET = "s" * 40
HONGBAO = str(Path(sys.executable).with_name("hongbao"))
STARTUP_SECONDS = 90  # several processes importing hongbao on a busy machine
GONE_SECONDS = 5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (name) state ppid ...: the name may hold spaces, so split after its ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def is_running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whoever adopted it to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Serve:
    """One ``hongbao serve`` in a session of its own, so that whatever it leaves behind can be
    found and stopped by the test."""

    def __init__(self, url: str, port: int, workers: int = 2) -> None:
        self.port = port
        environment = {**os.environ, "HONGBAO_TOKEN_SECRET": SECRET}
        environment.pop("HONGBAO_SUPERVISOR_PID", None)
        command = [HONGBAO, "serve", "--database-url", url, "--port", str(port)]
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            [*command, "--workers", str(workers), "--shutdown-seconds", "15"],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read() if self.process.stdout else b""
                pytest.fail(f"serve exited with {self.process.returncode}: {output.decode()}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/healthz", timeout=2
                ) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        pytest.fail("serve did not answer /healthz in time")

    def workers(self, count: int) -> list[int]:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            found = children_of(self.pid)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        pytest.fail(f"serve did not start {count} worker processes")

    def stop(self) -> None:
        """Whatever is left of this serve's session: the test's own processes only."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def serves() -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for serve in started:
        serve.stop()


@pytest.mark.postgres
def test_killing_serve_with_sigkill_stops_its_api_processes_and_a_restart_binds_the_port(
    postgres_url: str, serves: list[Serve]
) -> None:
    port = free_port()
    first = Serve(postgres_url, port)
    serves.append(first)
    first.wait_healthy()
    workers = first.workers(2)
    os.kill(first.pid, signal.SIGKILL)
    first.process.wait(10)
    deadline = time.monotonic() + GONE_SECONDS
    while any(is_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if is_running(pid)], "API processes outlived serve"
    second = Serve(postgres_url, port, workers=1)  # one API process, in serve's own
    serves.append(second)
    second.wait_healthy()
    second.process.send_signal(signal.SIGTERM)
    assert second.process.wait(30) == 0


def test_the_embedded_serve_stops_on_sigterm_with_exit_status_0(
    sqlite_url: str, serves: list[Serve]
) -> None:
    """One process with the worker on a thread: SIGTERM stops the API gracefully, then the
    worker and the database are closed and the process exits 0 (not killed by the signal)."""
    serve = Serve(sqlite_url, free_port(), workers=1)
    serves.append(serve)
    serve.wait_healthy()
    serve.process.send_signal(signal.SIGTERM)
    assert serve.process.wait(30) == 0


def _fund_and_token(url: str) -> str:
    """The demo population with li-wei funded; a token for li-wei on her phone."""
    services = open_services(url)
    try:
        load_population(services.identity, services.funding, services.social)
        services.ledger.create_accounts([NewAccount(DEMO_BANK, AccountKind.DEBIT_CARD, "CNY")])
        services.ledger.transfer(
            TransferRequest("funds", 1, DEMO_FUNDS_MINOR, DEMO_BANK, "user:li-wei:balance", "CNY")
        )
        token, _ = TokenSigner(SECRET.encode()).issue(
            "li-wei",
            Role.USER,
            now_us=services.clock.now_us(),
            lifetime_seconds=600,
            device=("li-wei-iphone14pro", "sim-li-wei-1"),
        )
    finally:
        services.close()
    return token


def _wait_for_a_lock_wait(connection: psycopg.Connection[object]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = 'hongbao' AND wait_event_type = 'Lock'"
        ).fetchone()
        if row is not None and row[0] > 0:
            return
        time.sleep(0.05)
    pytest.fail("the send never waited for the locked account")


@pytest.mark.postgres
def test_sigterm_lets_a_request_in_flight_finish_then_serve_exits_cleanly(
    postgres_url: str, serves: list[Serve]
) -> None:
    """A send waits for li-wei's balance, which the test holds locked; serve is told to stop
    meanwhile; once the lock is let go the send completes (201) and serve exits with 0."""
    token = _fund_and_token(postgres_url)
    port = free_port()
    serve = Serve(postgres_url, port)
    serves.append(serve)
    serve.wait_healthy()
    body = {
        "type": "group_normal",
        "amount": "30.00",
        "shares": 3,
        "funding_source_id": "li-wei-balance",
        "group_id": "xinghe-team",
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/packets",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": "in-flight-1",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    answers: list[int] = []

    def send() -> None:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            answers.append(answer.status)

    with psycopg.connect(postgres_url, application_name="hongbao-test") as holder:
        holder.execute("SELECT id FROM ledger_accounts WHERE id = 'user:li-wei:balance' FOR UPDATE")
        sender = threading.Thread(target=send)
        sender.start()
        with psycopg.connect(postgres_url, autocommit=True) as watcher:
            _wait_for_a_lock_wait(watcher)
        serve.process.send_signal(signal.SIGTERM)
        time.sleep(1)
        assert serve.process.poll() is None  # still finishing the send
        holder.commit()
    sender.join(60)
    assert answers == [201]
    assert serve.process.wait(30) == 0


def test_a_process_whose_parent_is_already_gone_stops_as_soon_as_it_asks() -> None:
    """The parent may die between starting a process and the process asking to die with it:
    the asking process then finds another parent and stops at once."""
    code = (
        "import time\n"
        "from hongbao.entrypoints.supervision import die_with_parent\n"
        "die_with_parent(-1)\n"
        "time.sleep(30)\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code], timeout=60, check=False, capture_output=True
    )
    assert done.returncode == -signal.SIGTERM, done.stderr


def test_a_process_asking_to_die_with_its_living_parent_goes_on() -> None:
    die_with_parent(os.getppid(), stop_signal=0)  # signal 0 clears the request again
