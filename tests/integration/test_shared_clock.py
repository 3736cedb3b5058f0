"""Processes on one PostgreSQL database judge deadlines by its clock, not by their own.

Each process here is a real one (a subprocess) whose wall clock is set minutes off; they read
the database's clock through ``open_services`` as every hongbao process does, so they make
the same decision about a card window that the database's clock says is still open.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from hongbao.bootstrap import Services, open_services
from hongbao.funding.sources import DebitCardSource, mask_card_number
from hongbao.identity.devices import Device, DeviceFingerprint, FormFactor, Platform, VendorSkin
from hongbao.identity.users import AccountTier, RealNameStatus, User, UserType
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import SendPacket
from hongbao.platform.clock import DatabaseClock, ManualClock, to_datetime
from hongbao.social.groups import Group, GroupMember, GroupType

pytestmark = pytest.mark.postgres

SKEW_SECONDS = 120
MINUTE_US = 60_000_000
PHONE = DeviceFingerprint("alice-phone", "alice-sim")
# A process whose wall clock is ``skew`` seconds off (SystemClock reads time.time_ns), asking
# about or recalling a packet through the services every hongbao process opens.
PROCESS = """
import json, sys, time
action, packet_id, skew = sys.argv[1], sys.argv[2], int(sys.argv[3])
wall = time.time_ns
time.time_ns = lambda: wall() + skew * 1_000_000_000
from hongbao.bootstrap import open_services
from hongbao.identity.devices import DeviceFingerprint
from hongbao.recall.service import RecallCommand
services = open_services()
device = DeviceFingerprint("alice-phone", "alice-sim")
if action == "eligibility":
    decision = services.recalls.eligibility(packet_id, "alice", device)
    route = None
else:
    outcome = services.recalls.recall(RecallCommand(f"k-{packet_id}", packet_id, "alice", device))
    decision, route = outcome.decision, outcome.recall.route
services.close()
print(json.dumps({
    "result": decision.result.value,
    "at_us": decision.evaluated_at_us,
    "rules": [[o.rule, o.verdict.value, o.reason and o.reason.value] for o in decision.outcomes],
    "route": route and route.value,
}))
"""


def database_now_us(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
        ).fetchone()
    assert row is not None
    return int(row[0])


def policy_without_sms_or_blackout(directory: Path, now_us: int) -> Path:
    """The default policy, with no SMS code for class I and the settlement blackout moved
    twelve hours away from now, so the test's recalls run at any hour."""
    default = Path(__file__).parents[2] / "src" / "hongbao" / "policy" / "default.toml"
    text = default.read_text()
    far = to_datetime(now_us) + timedelta(hours=8 + 12)  # Beijing time, twelve hours away
    text = text.replace('blackout_start = "23:50"', f'blackout_start = "{far:%H:%M}"')
    far_end = far + timedelta(minutes=1)
    text = text.replace('blackout_end = "00:10"', f'blackout_end = "{far_end:%H:%M}"')
    class_i = '[recall.tiers.class_i]\ndaily_count = 5\ndaily_amount = "5000.00"\n'
    text = text.replace(class_i + 'verification = ["sms_code"]', class_i + "verification = []")
    assert 'blackout_end = "00:10"' not in text
    assert class_i + "verification = []" in text
    path = directory / "policy.toml"
    path.write_text(text)
    return path


@pytest.fixture
def deployment(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Services]:
    """Alice, her phone, her debit card and her funded balance, in a group, on PostgreSQL."""
    now_us = database_now_us(postgres_url)
    monkeypatch.setenv("HONGBAO_DATABASE_URL", postgres_url)
    monkeypatch.setenv("HONGBAO_POLICY", str(policy_without_sms_or_blackout(tmp_path, now_us)))
    services = open_services()
    long_ago = now_us - 30 * 24 * 60 * MINUTE_US
    for name in ("alice", "bob"):
        user = User(
            name,
            name.title(),
            AccountTier.CLASS_I,
            UserType.NORMAL,
            long_ago,
            RealNameStatus.VERIFIED,
        )
        services.identity.register_user(user)
    services.identity.register_device(
        Device(
            PHONE.device_id,
            "alice",
            PHONE.sim_id,
            Platform.IOS,
            "17.1",
            VendorSkin.NONE,
            "iPhone 15",
            FormFactor.PHONE,
            long_ago,
        )
    )
    services.funding.add_funding_source(
        DebitCardSource("alice-debit", "alice", "ICBC", mask_card_number("4111111111111111"))
    )
    services.social.create_group(Group("friends", "Friends", GroupType.FAMILY, "alice", long_ago))
    services.social.add_member(GroupMember("friends", "bob", long_ago))
    services.ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    services.ledger.transfer(
        TransferRequest("top-up", 1, 500_00, "bank", "user:alice:balance", "CNY")
    )
    try:
        yield services
    finally:
        services.close()


def send(services: Services, packet_id: str, source: str) -> None:
    services.packets.send(
        SendPacket(
            packet_id,
            PacketType.GROUP_NORMAL,
            "alice",
            Money.of(30_00, "CNY"),
            3,
            source,
            group_id="friends",
            device=PHONE,
        )
    )


def in_a_process(action: str, packet_id: str, skew_seconds: int) -> dict[str, object]:
    done = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", PROCESS, action, packet_id, str(skew_seconds)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return answer


def test_open_services_on_postgresql_follow_the_database_clock(deployment: Services) -> None:
    clock = deployment.clock
    assert isinstance(clock, DatabaseClock)
    url = os.environ["HONGBAO_DATABASE_URL"]
    before = database_now_us(url)
    now = clock.now_us()
    after = database_now_us(url)
    bound = clock.error_bound_us()
    assert before - bound <= now <= after + bound
    assert 0 < clock.reading.round_trip_us < 1_000_000


def test_processes_with_clocks_minutes_apart_decide_a_card_window_alike(
    deployment: Services,
) -> None:
    """The card window closes 80 s from now by the database's clock. A process two minutes
    ahead would have found it closed (a refund, with its fee) and one two minutes behind open
    (a free void); on the database's clock both see it open and decide alike."""
    url = os.environ["HONGBAO_DATABASE_URL"]
    window_us = 15 * MINUTE_US
    sent_at = deployment.clock.now_us() - window_us + 80_000_000
    sender = open_services(clock=ManualClock(sent_at))
    try:
        send(sender, "p-card", "alice-debit")
    finally:
        sender.close()
    before = database_now_us(url)
    behind = in_a_process("eligibility", "p-card", -SKEW_SECONDS)
    ahead = in_a_process("eligibility", "p-card", SKEW_SECONDS)
    recalled = in_a_process("recall", "p-card", SKEW_SECONDS)
    after = database_now_us(url)
    assert behind["rules"] == ahead["rules"] == recalled["rules"]
    assert (behind["result"], recalled["result"]) == ("allow", "allow")
    assert recalled["route"] == "void_hold"
    for answer in (behind, ahead, recalled):
        at_us = answer["at_us"]
        assert isinstance(at_us, int)
        assert before - 50_000 <= at_us <= after + 50_000, answer  # the database's time


def test_a_process_behind_the_senders_clock_recalls_a_balance_packet_without_error(
    deployment: Services,
) -> None:
    send(deployment, "p-balance", "alice-balance")
    recalled = in_a_process("recall", "p-balance", -SKEW_SECONDS)
    assert (recalled["result"], recalled["route"]) == ("allow", "refund")
    assert deployment.ledger.account("user:alice:balance").credit_balance == 500_00
