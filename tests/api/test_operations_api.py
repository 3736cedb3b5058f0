"""Operations over HTTP: metrics, request ids and JSON logs, health and readiness, rate limits,
admission control and degrade mode (R-O2, R-T5, R-D4).

Nothing here waits on time: latency windows and buckets run on a hand-moved monotonic clock,
and concurrency is driven by a handler that blocks on an event until the test releases it.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import anyio.to_thread
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hongbao.bootstrap import services_for
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.tokens import TokenSigner
from hongbao.entrypoints.http.context import ApiContext, ApiSettings
from hongbao.entrypoints.http.server import prepare_demo
from hongbao.entrypoints.ops.admission import AdmissionLimits
from hongbao.entrypoints.ops.metrics import observe_claim, observe_decision
from hongbao.entrypoints.ops.observability import configure_logging
from hongbao.entrypoints.ops.operations import Operations, OperationsSettings
from hongbao.entrypoints.worker import EmbeddedWorker
from hongbao.identity.devices import DeviceFingerprint
from hongbao.packets.service import ClaimResult
from hongbao.platform.clock import ManualClock
from hongbao.platform.errors import StorageCode, StorageError
from hongbao.storage.unit_of_work import Database, UnitOfWork
from tests.api.conftest import SECRET, Api

SEND = {
    "type": "group_normal",
    "amount": "30.00",
    "shares": 3,
    "funding_source_id": "li-wei-balance",
    "group_id": "xinghe-team",
}
WAIT_SECONDS = 10  # a bound on every wait for another thread; reached only when a test fails


class Monotonic:
    """A monotonic clock moved by hand (latency windows, buckets, dwell times)."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


class Blocker:
    """A test route that holds its admission slot until released."""

    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def install(self, app: FastAPI) -> None:
        def blocked() -> dict[str, str]:
            self.entered.release()
            self.release.wait(WAIT_SECONDS)
            return {"done": "yes"}

        app.add_api_route("/v1/test/block", blocked, methods=["GET"])


class OpsApi(Api):
    operations: Operations
    monotonic: Monotonic
    app: FastAPI

    def metric(self, line_start: str) -> float | None:
        """The value of the first exposition line starting with ``line_start``."""
        for line in self.client.get("/metrics").text.splitlines():
            if line.startswith(line_start + " "):
                return float(line.rsplit(" ", 1)[1])
        return None


Make = Callable[..., OpsApi]


@pytest.fixture
def make(database: Database, clock: ManualClock) -> Iterator[Make]:
    """An API whose operations settings the test chooses, on a hand-moved monotonic clock."""
    clients: list[TestClient] = []

    def build(blocker: Blocker | None = None, **settings: Any) -> OpsApi:
        chosen = replace(OperationsSettings(backlog_refresh_seconds=0), **settings)
        context = ApiContext(
            services_for(database, clock), TokenSigner(SECRET), ApiSettings(operations=chosen)
        )
        monotonic = Monotonic()
        context.operations = Operations(context.services, chosen, monotonic=monotonic)
        demo = prepare_demo(context)
        app = create_app(context)
        if blocker is not None:
            blocker.install(app)
        _install_hook_routes(app, context)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        api = OpsApi(client, context, clock, {d.principal.subject: d.token for d in demo})
        api.operations, api.monotonic, api.app = context.operations, monotonic, app
        return api

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def _install_hook_routes(app: FastAPI, context: ApiContext) -> None:
    """Routes that produce answers the way the recall and claim routes do, calling the hooks
    (the real routes call them where their answers are made)."""

    def decide(packet_id: str) -> dict[str, str]:
        fingerprint = DeviceFingerprint("liu-yang-xiaomi13u", "sim-liu-yang-1")
        decision = context.services.recalls.eligibility(packet_id, "liu-yang", fingerprint)
        observe_decision(decision)
        observe_claim(ClaimResult.ALREADY_CLAIMED)
        return {"decision_id": decision.decision_id, "result": decision.result.value}

    def fail() -> None:
        raise RuntimeError("a bug, for the test")

    app.add_api_route("/v1/test/decide/{packet_id}", decide, methods=["POST"])
    app.add_api_route("/v1/test/fail", fail, methods=["GET"])


def send(api: Api, key: str = "k-1") -> dict[str, Any]:
    response = api.client.post("/v1/packets", json=SEND, headers=api.headers("li-wei", key))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def in_thread(call: Callable[[], httpx.Response]) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    thread.start()
    return thread, answers


# ------------------------------------------------------------------------------ metrics


def test_metrics_count_requests_by_route_template_status_and_device_model(make: Make) -> None:
    api = make()
    packet = send(api)
    claim = api.client.post(
        f"/v1/packets/{packet['id']}/claims", headers=api.headers("liu-yang", "c-1")
    )
    assert claim.status_code == 200
    assert api.client.get(f"/v1/packets/{packet['id']}", headers=api.headers("li-wei")).is_success
    assert api.client.get("/v1/no/such/thing").status_code == 404
    text = api.client.get("/metrics").text
    assert packet["id"] not in text  # templates, never raw paths
    count = "hongbao_http_request_duration_seconds_count"
    assert api.metric(f'{count}{{method="POST",route="/v1/packets",status="201"}}') == 1
    template = "/v1/packets/{packet_id}"
    assert api.metric(f'{count}{{method="GET",route="{template}",status="200"}}') == 1
    assert api.metric(f'{count}{{method="POST",route="{template}/claims",status="200"}}') == 1
    assert api.metric(f'{count}{{method="GET",route="unmatched",status="404"}}') == 1
    device = 'hongbao_device_requests_total{model="%s",outcome="success",platform="%s"}'
    assert api.metric(device % ("iPhone 14 Pro", "ios")) == 2
    assert api.metric(device % ("Xiaomi 13 Ultra", "android")) == 1
    latency = 'hongbao_device_request_duration_seconds_count{model="Xiaomi 13 Ultra",'
    assert api.metric(latency + 'platform="android"}') == 1
    assert api.metric("hongbao_degraded") == 0
    assert api.metric("hongbao_backlog_sample_ok") == 1
    assert api.metric('hongbao_refunds_open{state="failed"}') == 0


def test_recall_decisions_and_claims_are_counted_where_the_hooks_report_them(make: Make) -> None:
    api = make()
    packet = send(api)
    answer = api.client.post(f"/v1/test/decide/{packet['id']}")
    assert answer.json()["result"] == "deny", answer.text  # liu-yang did not send it
    version = api.context.services.policy.version
    assert api.metric(f'hongbao_recall_decisions_total{{policy_version="{version}",result="deny"}}')
    assert api.metric('hongbao_recall_denials_total{cause="security_level_too_low"}') == 1
    for cause in (
        "partially_claimed",
        "past_time_window",
        "device_environment_abnormal",
        "system_settling",
        "risk_control",
    ):
        assert api.metric(f'hongbao_recall_denials_total{{cause="{cause}"}}') == 0
    assert api.metric('hongbao_recall_reasons_total{reason="permission.not_sender",result="deny"}')
    assert api.metric('hongbao_claims_total{result="already_claimed"}') == 1
    assert api.metric('hongbao_claims_total{result="claimed"}') == 0


# --------------------------------------------------------------------- request ids, logs


def test_every_answer_carries_a_request_id_the_clients_own_when_it_is_sane(make: Make) -> None:
    api = make()
    kept = api.client.get("/healthz", headers={"X-Request-Id": "app-7:retry.2"})
    assert kept.headers["x-request-id"] == "app-7:retry.2"
    replaced = api.client.get("/healthz", headers={"X-Request-Id": "two words"})
    assert len(replaced.headers["x-request-id"]) == 16
    refused = api.client.get("/v1/packets/p-1", headers={"X-Request-Id": "r-401"})
    assert (refused.status_code, refused.headers["x-request-id"]) == (401, "r-401")


@pytest.fixture
def log_lines(clock: ManualClock) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    stream = io.StringIO()
    setup = configure_logging(clock, stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    setup.close()


def test_one_json_line_per_request_says_who_from_what_device_and_which_decision(
    make: Make, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    api = make()
    packet = send(api)
    decided = api.client.post(
        f"/v1/test/decide/{packet['id']}",
        headers={**api.headers("li-wei"), "X-Request-Id": "req-decide"},
    )
    requests = [line for line in log_lines() if line["event"] == "request"]
    sent, decide = requests[-2], requests[-1]
    assert (sent["route"], sent["status"], sent["subject"]) == ("/v1/packets", 201, "li-wei")
    assert (sent["device_model"], sent["platform"]) == ("iPhone 14 Pro", "ios")
    assert sent["latency_ms"] >= 0
    assert sent["level"] == "info"
    assert "ts" in sent
    assert decide["request_id"] == "req-decide"
    assert decide["decision_id"] == decided.json()["decision_id"]


def test_an_unexpected_error_is_answered_500_with_a_reference_and_logged_once(
    make: Make, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    api = make()
    answer = api.client.get("/v1/test/fail", headers={"X-Request-Id": "req-bug"})
    assert (answer.status_code, answer.headers["x-request-id"]) == (500, "req-bug")
    reference = answer.json()["error"]["details"]["reference"]
    errors = [line for line in log_lines() if line["level"] == "error"]
    assert len(errors) == 1
    assert (errors[0]["reference"], errors[0]["request_id"]) == (reference, "req-bug")
    assert "RuntimeError: a bug, for the test" in errors[0]["exception"]
    (request,) = [line for line in log_lines() if line["event"] == "request"]
    assert (request["status"], request["route"]) == (500, "/v1/test/fail")


# ------------------------------------------------------------------ health and readiness


def test_healthz_is_alive_and_readyz_is_ready_on_a_healthy_database(make: Make) -> None:
    api = make()
    assert api.client.get("/healthz").json() == {"status": "alive"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"]["ok"]
    assert checks["schema"]["ok"]
    assert checks["load"]["ok"]
    expected = "not checked" if api.context.services.database.dialect == "memory" else "at head"
    assert checks["schema"]["detail"].startswith(expected)


class FailingDatabase:
    """A database that is down: every unit of work fails the way a lost server does."""

    dialect = "memory"
    url = "memory://"

    def read(self, work: Callable[[UnitOfWork], object]) -> object:
        raise StorageError("lost the connection to the database", code=StorageCode.UNAVAILABLE)

    transact = read


class HangingDatabase(FailingDatabase):
    def __init__(self) -> None:
        self.release = threading.Event()

    def read(self, work: Callable[[UnitOfWork], object]) -> object:
        self.release.wait(WAIT_SECONDS)
        return None


def test_readyz_answers_503_when_the_database_is_unreachable(make: Make) -> None:
    api = make()
    api.operations.readiness.database = FailingDatabase()  # type: ignore[assignment]
    answer = api.client.get("/readyz")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    database = answer.json()["checks"]["database"]
    assert not database["ok"]
    assert "lost the connection" in database["detail"]


def test_readyz_answers_503_within_its_bound_when_the_database_hangs(make: Make) -> None:
    api = make(readiness_timeout_seconds=0.05)
    hanging = HangingDatabase()
    api.operations.readiness.database = hanging  # type: ignore[assignment]
    first = api.client.get("/readyz")
    second = api.client.get("/readyz")  # no second thread while the first is stuck
    hanging.release.set()
    assert first.status_code == second.status_code == 503
    assert first.json()["checks"]["database"]["detail"] == "no answer within 0.05 s"
    assert "has not come back" in second.json()["checks"]["database"]["detail"]


# ------------------------------------------------------------------------- rate limits


def test_a_user_over_the_rate_limit_gets_429_with_retry_after_and_recovers(make: Make) -> None:
    api = make(user_rate_per_second=0.5, user_burst=2)
    path, headers = "/v1/packets/p-none", api.headers("li-wei")
    assert [api.client.get(path, headers=headers).status_code for _ in range(2)] == [404, 404]
    refused = api.client.get(path, headers=headers)
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "2")
    error = refused.json()["error"]
    assert (error["code"], error["details"]["limit"]) == ("api.rate_limited", "user")
    assert api.client.get(path, headers=api.headers("liu-yang")).status_code == 404  # others
    assert api.client.get(path, headers=api.headers("ops-demo")).status_code == 404
    api.monotonic.now += 2
    assert api.client.get(path, headers=headers).status_code == 404
    assert api.metric('hongbao_http_refused_total{reason="rate_limited"}') == 1


def test_one_device_is_limited_across_the_accounts_on_it(make: Make) -> None:
    api = make(device_rate_per_second=1.0, device_burst=2)
    phone = ("li-wei-iphone14pro", "sim-li-wei-1")
    other = api.token("liu-yang", device=phone)
    path = "/v1/packets/p-none"
    assert api.client.get(path, headers=api.headers("li-wei")).status_code == 404
    assert api.client.get(path, headers={"Authorization": f"Bearer {other}"}).status_code == 404
    refused = api.client.get(path, headers=api.headers("li-wei"))
    assert refused.status_code == 429
    assert refused.json()["error"]["details"] == {"limit": "device", "retry_after_seconds": 1}


# ------------------------------------------------------------------- admission control


def test_past_the_slots_and_the_queue_requests_are_shed_at_once_with_503(make: Make) -> None:
    blocker = Blocker()
    limits = AdmissionLimits(max_in_flight=1, max_waiting=1, max_wait_seconds=WAIT_SECONDS)
    api = make(blocker, admission=limits)
    holder, held = in_thread(lambda: api.client.get("/v1/test/block"))
    assert blocker.entered.acquire(timeout=WAIT_SECONDS)
    waiter, waited = in_thread(lambda: api.client.get("/v1/test/block"))
    for _ in range(1_000):  # until the second request is in the queue (bounded)
        if api.operations.admission.state().waiting == 1:
            break
        threading.Event().wait(0.01)
    shed = api.client.get("/v1/packets/p-none", headers=api.headers("li-wei"))
    assert (shed.status_code, shed.headers["retry-after"]) == (503, "1")
    assert shed.json()["error"]["code"] == "api.overloaded"
    assert api.client.get("/healthz").status_code == 200  # operations still answer
    readiness = api.client.get("/readyz")
    assert readiness.status_code == 503
    assert not readiness.json()["checks"]["load"]["ok"]
    blocker.release.set()
    holder.join(WAIT_SECONDS)
    waiter.join(WAIT_SECONDS)
    assert [a.status_code for a in held + waited] == [200, 200]
    assert api.operations.admission.state().in_flight == 0
    assert api.metric('hongbao_http_refused_total{reason="overloaded"}') == 1
    count = 'hongbao_http_request_duration_seconds_count{method="GET",route="refused",status="503"}'
    assert api.metric(count) == 1


def test_a_request_whose_wait_for_a_slot_runs_out_is_shed(make: Make) -> None:
    blocker = Blocker()
    limits = AdmissionLimits(max_in_flight=1, max_waiting=4, max_wait_seconds=0.01)
    api = make(blocker, admission=limits)
    holder, held = in_thread(lambda: api.client.get("/v1/test/block"))
    assert blocker.entered.acquire(timeout=WAIT_SECONDS)
    shed = api.client.get("/v1/packets/p-none", headers=api.headers("li-wei"))
    blocker.release.set()
    holder.join(WAIT_SECONDS)
    assert shed.status_code == 503
    assert shed.json()["error"]["code"] == "api.overloaded"
    assert held[0].status_code == 200


# ------------------------------------------------------------------------ degrade mode


def test_forced_degrade_mode_defers_streams_and_listings_but_not_the_money_path(
    make: Make,
) -> None:
    api = make(degrade_forced="peak drill")
    worker = EmbeddedWorker(api.context.services, defer_outbox=api.operations.degrade.defers_outbox)
    stream = api.client.get("/v1/me/events", headers=api.headers("li-wei"))
    assert (stream.status_code, stream.headers["retry-after"]) == (503, "5")
    assert stream.json()["error"]["code"] == "api.degraded"
    listing = api.client.get("/v1/operator/refunds", headers=api.headers("ops-demo"))
    assert listing.json()["error"]["code"] == "api.degraded"
    packet = send(api)  # the money path keeps going
    claim = api.client.post(
        f"/v1/packets/{packet['id']}/claims", headers=api.headers("liu-yang", "c-1")
    )
    assert claim.json()["result"] == "claimed"
    assert worker.run_pass().events_delivered == 0  # outbox deferred
    readiness = api.client.get("/readyz")
    assert readiness.status_code == 200  # reported, but the process still serves money
    assert readiness.json()["degraded"]["reasons"] == ["forced: peak drill"]
    assert api.metric("hongbao_degraded") == 1
    api.operations.degrade.release()
    assert not api.client.get("/readyz").json()["degraded"]["active"]
    assert worker.run_pass().events_delivered > 0
    assert (
        api.client.get("/v1/me/events?lifetime=0", headers=api.headers("li-wei")).status_code != 503
    )


def test_a_slow_money_path_degrades_the_process_until_it_is_fast_again(make: Make) -> None:
    api = make()
    degrade = api.operations.degrade
    for _ in range(30):  # the window of recorded money-path latencies, slow
        degrade.record(0.5)
    assert degrade.evaluate().active
    assert api.client.get("/readyz").json()["degraded"]["money_path_p99_seconds"] == 0.5
    assert api.metric("hongbao_money_path_p99_seconds") == 0.5
    api.monotonic.now += 31  # the slow samples leave the window
    for _ in range(30):
        degrade.record(0.01)
    assert not degrade.evaluate().active
    assert not api.client.get("/readyz").json()["degraded"]["active"]


def test_outbox_lag_degrades_the_process_and_a_drained_outbox_ends_it(make: Make) -> None:
    api = make()
    send(api)  # its events wait for the user-feed consumer
    worker = EmbeddedWorker(api.context.services, defer_outbox=api.operations.degrade.defers_outbox)
    api.clock.advance(seconds=45)  # business time: the deliveries are 45 s overdue
    sample = api.operations.sampler.refresh()
    assert sample is not None
    assert sample.backlog is not None
    assert sample.backlog.outbox_lag_seconds == 45
    state = api.operations.degrade.state()
    assert state.active
    assert state.reasons == ("outbox lag 45.0 s >= 30.0 s",)
    assert not api.operations.degrade.defers_outbox()  # deferring would only grow the lag
    assert worker.drain().events_delivered > 0
    api.monotonic.now += 10  # past the minimum time in degrade mode
    api.operations.sampler.refresh()
    assert not api.operations.degrade.state().active
    assert api.metric("hongbao_outbox_lag_seconds") == 0


def test_a_stopped_worker_is_reported_by_readyz_but_the_process_stays_ready(make: Make) -> None:
    """With no worker for a while every process sees the same outbox lag: a 503 from each
    would take the whole service out while sends still succeed."""
    api = make()
    send(api)  # its events wait for the user-feed consumer, and no worker runs
    assert api.client.get("/readyz").json()["backlog"]["worker_keeping_up"]
    api.clock.advance(seconds=45)
    api.monotonic.now += 1  # the backlog sample taken above is now stale
    readiness = api.client.get("/readyz")
    assert readiness.status_code == 200, readiness.text
    body = readiness.json()
    assert body["ready"]
    assert body["backlog"]["outbox_lag_seconds"] == 45
    assert not body["backlog"]["worker_keeping_up"]
    assert body["degraded"]["active"]
    assert body["degraded"]["reasons"] == ["outbox lag 45.0 s >= 30.0 s"]
    assert api.metric("hongbao_outbox_lag_seconds") == 45
    assert send(api, "k-2")["state"] == "open"  # the money path goes on
    assert api.client.get("/readyz").status_code == 200


def test_a_database_that_is_down_makes_readyz_skip_the_backlog(make: Make) -> None:
    api = make()
    api.operations.readiness.database = FailingDatabase()  # type: ignore[assignment]
    body = api.client.get("/readyz").json()
    assert body["backlog"] == {
        "sampled": False,
        "error": "no sample yet",
        "worker_keeping_up": None,
    }


def test_the_blocking_routes_run_on_as_many_threads_as_the_settings_say(make: Make) -> None:
    api = make(request_threads=3)
    assert api.client.portal is not None

    def threads() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    assert api.client.portal.call(threads) == 3
    assert send(api)["state"] == "open"  # the routes still answer
