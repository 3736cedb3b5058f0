"""Idempotency-Key on every POST (R-M3): a repeat answers as the first request did and moves
money once; another body under a used key is refused. Sequentially on every adapter, and
concurrently on PostgreSQL against a real server: threads posting one send and one recall
under one key at the same moment all get the same answer, and the ledger moved money once."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from hongbao.bootstrap import services_for
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.tokens import TokenSigner
from hongbao.entrypoints.http.context import ApiContext, ApiSettings
from hongbao.entrypoints.http.server import DEMO_BANK, prepare_demo
from hongbao.identity.verification import OperatorContext
from hongbao.ledger.model import TransferRequest
from hongbao.ledger.service import verify_ledger
from hongbao.packets.verification import verify_packets
from hongbao.platform.clock import ManualClock
from hongbao.refunds.verification import verify_refunds
from hongbao.storage.unit_of_work import Database
from tests.api.conftest import SECRET, Api
from tests.api.flows import GROUP_PACKET, balance, ok, recall_with_sms, send, wang_fang

FUNDS = 2_000_00
THREADS = 8
TIMEOUT_SECONDS = 30.0


def repeats(api: Api) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(caller, path, body) of a POST of every kind, on things li-wei has."""
    packet = send(api, "setup-send")
    recalled = send(api, "setup-send-2")
    done = recall_with_sms(api, recalled["id"], "setup-recall")
    challenge = ok(
        api.client.post(
            "/v1/challenges",
            json={"kind": "sms_code", "purpose": "drill"},
            headers=api.headers("li-wei", "setup-challenge"),
        ),
        201,
    )
    phone = ("li-wei-iphone14pro", "sim-li-wei-1")
    device = {"device_id": phone[0], "sim_id": phone[1]}
    return [
        ("ops-demo", "/v1/users", {"id": "he-jing", "display_name": "何静"}),
        (
            "ops-demo",
            "/v1/users/li-wei/devices",
            {
                "device_id": "li-wei-pixel",
                "sim_id": "sim-2",
                "platform": "android",
                "os_version": "14",
                "model": "Pixel 8",
            },
        ),
        (
            "li-wei",
            "/v1/users/li-wei/funding-sources",
            {
                "kind": "credit_card",
                "issuer": "CMB",
                "card_number": "5555555555554444",
                "statement_day": 5,
            },
        ),
        ("li-wei", "/v1/groups", {"name": "新群", "type": "work"}),
        ("li-wei", "/v1/packets", GROUP_PACKET),
        ("liu-yang", f"/v1/packets/{packet['id']}/claims", None),
        ("li-wei", f"/v1/packets/{packet['id']}/recalls", None),
        ("li-wei", "/v1/challenges", {"kind": "face", "purpose": "drill"}),
        (
            "li-wei",
            f"/v1/challenges/{challenge['id']}/answers",
            {"purpose": "drill", "answer": "wrong"},
        ),
        ("ops-demo", f"/v1/operator/refunds/{done['refund_id']}/credit", None),
        ("ops-demo", "/v1/operator/tokens", {"subject": "li-wei", **device}),
        ("ops-demo", "/v1/operator/tokens/revoke", {"token": api.token("li-wei", device=phone)}),
    ]


def test_every_post_repeated_under_its_key_answers_exactly_as_the_first_time(api: Api) -> None:
    """Byte for byte: the kept answer is the bytes sent the first time (Chinese as itself)."""
    for number, (who, path, body) in enumerate(repeats(api)):
        key = f"again-{number}"
        first = api.client.post(path, json=body, headers=api.headers(who, key))
        again = api.client.post(path, json=body, headers=api.headers(who, key))
        assert first.status_code < 500, (path, first.text)
        assert (again.status_code, again.content) == (first.status_code, first.content), path
        assert again.headers["Idempotency-Key"] == key
        assert b"\\u" not in first.content, path


def test_a_key_reused_with_another_body_is_refused_and_changes_nothing(api: Api) -> None:
    first = ok(
        api.client.post(
            "/v1/groups", json={"name": "甲", "type": "work"}, headers=api.headers("li-wei", "k")
        ),
        201,
    )
    other = api.client.post(
        "/v1/groups", json={"name": "乙", "type": "work"}, headers=api.headers("li-wei", "k")
    )
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency.key_reused")
    shown = ok(api.client.get(f"/v1/groups/{first['id']}", headers=api.headers("li-wei")))
    assert shown["name"] == "甲"
    moved = api.client.post(
        "/v1/packets", json={**GROUP_PACKET, "amount": "40.00"}, headers=api.headers("li-wei", "k")
    )
    assert moved.status_code == 422  # the key is li-wei's, whatever the endpoint
    assert balance(api, "li-wei") == FUNDS


def test_the_same_key_of_two_callers_is_two_requests(api: Api) -> None:
    mine = send(api, "shared-key")
    theirs = api.client.post(
        "/v1/packets",
        json={**GROUP_PACKET, "funding_source_id": "zhao-lei-balance"},
        headers=api.headers("zhao-lei", "shared-key"),
    )
    assert ok(theirs, 201)["id"] != mine["id"]
    assert balance(api, "zhao-lei") == balance(api, "li-wei") == FUNDS - 30_00


def test_a_repeated_claim_pays_the_share_once(api: Api) -> None:
    packet = send(api, "send-1")
    path = f"/v1/packets/{packet['id']}/claims"
    first = ok(api.client.post(path, headers=api.headers("liu-yang", "claim")))
    again = ok(api.client.post(path, headers=api.headers("liu-yang", "claim")))
    assert first == again
    assert balance(api, "liu-yang") == FUNDS + first["amount"]["minor"]


def test_a_refusal_is_kept_as_the_answer_to_its_key(api: Api) -> None:
    big = {**GROUP_PACKET, "amount": "2100.00", "shares": 20}
    refused = api.client.post("/v1/packets", json=big, headers=api.headers("li-wei", "big"))
    assert refused.json()["error"]["code"] == "packets.insufficient_funds"
    api.context.services.ledger.transfer(
        TransferRequest("top-up", 1, 500_00, DEMO_BANK, "user:li-wei:balance", "CNY")
    )
    again = api.client.post("/v1/packets", json=big, headers=api.headers("li-wei", "big"))
    assert (again.status_code, again.json()) == (refused.status_code, refused.json())
    fresh = api.client.post("/v1/packets", json=big, headers=api.headers("li-wei", "big-2"))
    assert fresh.status_code == 201


def test_an_outsiders_claim_is_answered_and_repeated_as_its_result(api: Api) -> None:
    packet = send(api, "send-1")
    headers = {"Authorization": f"Bearer {wang_fang(api)}", "Idempotency-Key": "c"}
    first = ok(api.client.post(f"/v1/packets/{packet['id']}/claims", headers=headers))
    again = ok(api.client.post(f"/v1/packets/{packet['id']}/claims", headers=headers))
    assert first == again
    assert first["result"] != "claimed"


# ------------------------------------------------------------------------- concurrently


@dataclass
class Served:
    """The API served by uvicorn on a free port, over PostgreSQL."""

    url: str
    context: ApiContext
    tokens: dict[str, str]

    def post(self, who: str, path: str, key: str, body: object = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", "Idempotency-Key": key}
        return httpx.post(self.url + path, json=body, headers=headers, timeout=TIMEOUT_SECONDS)

    def at_once(self, request: Callable[[], httpx.Response]) -> list[httpx.Response]:
        """``request`` from THREADS threads released together."""
        start = threading.Barrier(THREADS, timeout=TIMEOUT_SECONDS)

        def one() -> httpx.Response:
            start.wait()
            return request()

        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(one) for _ in range(THREADS)]
            return [future.result(timeout=TIMEOUT_SECONDS) for future in futures]

    def balance(self, user: str) -> int:
        return self.context.services.ledger.account(f"user:{user}:balance").credit_balance

    def invariants_hold(self) -> bool:
        ledger, packets, refunds = self.context.services.database.read(
            lambda uow: (verify_ledger(uow), verify_packets(uow), verify_refunds(uow))
        )
        return ledger.ok and packets.ok and refunds.ok


@pytest.fixture
def served(postgres_database: Database, clock: ManualClock) -> Iterator[Served]:
    context = ApiContext(services_for(postgres_database, clock), TokenSigner(SECRET), ApiSettings())
    tokens = {entry.principal.subject: entry.token for entry in prepare_demo(context)}
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(context), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not server.started:
        assert thread.is_alive(), "the server stopped before it started"
        assert time.monotonic() < deadline, "the server did not start in time"
        time.sleep(0.01)
    try:
        yield Served(f"http://127.0.0.1:{listener.getsockname()[1]}", context, tokens)
    finally:
        server.should_exit = True
        thread.join(TIMEOUT_SECONDS)
        listener.close()


def same_answers(answers: list[httpx.Response]) -> dict[str, Any]:
    """The one answer every response gave (status and body), checked equal."""
    first = answers[0]
    for answer in answers:
        assert (answer.status_code, answer.json()) == (first.status_code, first.json())
    return first.json()  # type: ignore[no-any-return]


@pytest.mark.postgres
def test_one_send_posted_by_many_threads_at_once_makes_one_packet(served: Served) -> None:
    answers = served.at_once(lambda: served.post("li-wei", "/v1/packets", "burst", GROUP_PACKET))
    assert {answer.status_code for answer in answers} == {201}
    packet = same_answers(answers)
    assert served.balance("li-wei") == FUNDS - 30_00
    assert served.context.services.packets.packet(packet["id"]).total_minor == 30_00
    assert served.invariants_hold()


@pytest.mark.postgres
def test_one_recall_posted_by_many_threads_at_once_recalls_once(served: Served) -> None:
    packet = served.post("li-wei", "/v1/packets", "send", GROUP_PACKET).json()
    path = f"/v1/packets/{packet['id']}/recalls"
    challenged = same_answers(served.at_once(lambda: served.post("li-wei", path, "recall")))
    assert (challenged["state"], len(challenged["challenge_ids"])) == ("challenged", 1)
    (challenge_id,) = challenged["challenge_ids"]
    operator = OperatorContext("ops-demo", is_operator=True)
    code = served.context.services.identity.operator_reveal_code(challenge_id, operator)
    passed = served.post(
        "li-wei",
        f"/v1/challenges/{challenge_id}/answers",
        "answer",
        {"purpose": challenged["challenge_purpose"], "answer": code},
    )
    assert passed.json()["result"] == "passed"

    body = {"challenge_ids": [challenge_id]}
    done = same_answers(served.at_once(lambda: served.post("li-wei", path, "recall", body)))
    assert (done["state"], done["recalled"]["minor"]) == ("done", 30_00)
    assert served.balance("li-wei") == FUNDS
    status = served.context.services.recalls.status("recall")
    assert status.recall.refund_id == done["refund_id"]
    assert served.invariants_hold()


@pytest.mark.postgres
def test_one_claim_posted_by_many_threads_at_once_takes_one_share(served: Served) -> None:
    packet = served.post("li-wei", "/v1/packets", "send", GROUP_PACKET).json()
    path = f"/v1/packets/{packet['id']}/claims"
    before = served.balance("liu-yang")
    claimed = same_answers(served.at_once(lambda: served.post("liu-yang", path, "burst")))
    assert claimed["result"] == "claimed"
    assert served.balance("liu-yang") == before + claimed["amount"]["minor"]
    assert served.context.services.packets.packet(packet["id"]).claimed_count == 1
    assert served.invariants_hold()


@pytest.mark.postgres
def test_claims_of_many_callers_at_once_take_each_share_once(served: Served) -> None:
    """Claims committed in groups, from THREADS threads, three claimers, two shares."""
    body = {**GROUP_PACKET, "shares": 2}
    packet = served.post("li-wei", "/v1/packets", "send", body).json()
    path = f"/v1/packets/{packet['id']}/claims"
    claimers = ("li-wei", "liu-yang", "zhao-lei")
    turn = iter(range(THREADS))
    lock = threading.Lock()

    def claim() -> httpx.Response:
        with lock:
            index = next(turn)
        return served.post(claimers[index % len(claimers)], path, f"claim-{index}")

    answers = [answer.json() for answer in served.at_once(claim)]
    by_user: dict[str, set[str]] = {}
    for answer in answers:
        by_user.setdefault(answer["user_id"], set()).add(answer["result"])
    takers = [user for user, results in by_user.items() if "claimed" in results]
    assert len(takers) == 2
    assert all(results <= {"claimed", "already_claimed"} for results in map(by_user.get, takers))
    paid = {a["user_id"]: a["amount"]["minor"] for a in answers if a["result"] == "claimed"}
    assert sum(paid.values()) == 30_00
    loser = next(user for user in claimers if user not in takers)
    assert by_user[loser] == {"packet_empty"}
    assert served.invariants_hold()
