"""A packet's hash chain on real databases (R-B2): ``hongbao packets verify-history`` finds a
row changed in the database, the daily root is recorded by the scheduled job and recomputed by
``hongbao ledger verify``, which finds a chain rewritten wholesale; on PostgreSQL many claims
at once on one packet extend its chain without a fork or a lost entry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from hongbao.bootstrap import Services, open_services
from hongbao.entrypoints.cli.main import app
from hongbao.entrypoints.population import load_population
from hongbao.entrypoints.worker import EmbeddedWorker, schedule_history_roots
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.money import Money
from hongbao.packets.history import read_chain, verify_chain
from hongbao.packets.history_roots import day_bounds, day_of, shifted, verify_roots
from hongbao.packets.model import PacketType
from hongbao.packets.service import ClaimOutcome, ClaimResult, SendPacket
from hongbao.platform.chain import (
    GENESIS,
    ChainEntry,
    StreamHead,
    day_root,
    entry_hash,
    payload_digest,
)
from hongbao.platform.clock import ManualClock, SystemClock
from hongbao.platform.invariants import present
from hongbao.storage.unit_of_work import Database
from tests.conftest import START_US
from tests.integration.test_packet_concurrency import build_world, claim_together, lucky
from tests.integration.test_verify_detects_tampering import execute

runner = CliRunner()
CLAIMERS = ("liu-yang", "zhao-lei")


def cli(*arguments: str) -> tuple[int, str]:
    result = runner.invoke(app, list(arguments), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def world(url: str) -> Iterator[tuple[Services, ManualClock]]:
    clock = ManualClock(START_US)
    services = open_services(url, clock=clock)
    load_population(services.identity, services.funding, services.social)
    services.ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    top_up = TransferRequest("top-up", 1, 100_00, "bank", "user:li-wei:balance", "CNY")
    assert services.ledger.transfer(top_up).succeeded
    yield services, clock
    services.close()


def sent_and_claimed(services: Services, packet_id: str) -> str:
    services.packets.send(
        SendPacket(
            packet_id,
            PacketType.GROUP_NORMAL,
            "li-wei",
            Money.of(30_00, "CNY"),
            3,
            "li-wei-balance",
            group_id="xinghe-team",
        )
    )
    for who in CLAIMERS:
        assert services.packets.claim(packet_id, who).result is ClaimResult.CLAIMED
    return packet_id


def test_verify_history_says_intact_then_names_the_row_changed_in_the_database(
    world: tuple[Services, ManualClock], url: str
) -> None:
    services, _clock = world
    packet = sent_and_claimed(services, "p-history")
    code, output = cli("packets", "verify-history", packet, "--database-url", url)
    assert code == 0, output
    assert "intact" in output
    assert "(3 entries)" in output
    execute(
        url,
        "UPDATE platform_outbox_events SET payload = REPLACE(payload, 'zhao-lei', 'wu-gang')"
        " WHERE id = 'packet:p-history#3'",
    )
    code, output = cli("packets", "verify-history", packet, "--database-url", url)
    assert code == 1, output
    assert "broken at entry 3: hash_mismatch" in " ".join(output.split())


def test_a_deleted_entry_is_a_gap_where_it_was(
    world: tuple[Services, ManualClock], url: str
) -> None:
    services, _clock = world
    packet = sent_and_claimed(services, "p-gap")
    execute(
        url,
        "DELETE FROM platform_outbox_deliveries WHERE event_id = 'packet:p-gap#2'",
        "DELETE FROM platform_outbox_events WHERE id = 'packet:p-gap#2'",
    )
    count, broken = services.database.read(lambda uow: verify_chain(uow, packet))
    assert count == 2
    assert broken is not None
    assert (broken.sequence, broken.reason.value) == (3, "sequence_gap")


def test_the_daily_root_is_recorded_by_its_job_and_a_wholesale_rewrite_is_detected(
    world: tuple[Services, ManualClock], url: str
) -> None:
    """The rewritten chain is consistent (verify-history calls it intact), yet the day's root
    recorded before the rewrite no longer recomputes."""
    services, clock = world
    day = day_of(clock.now_us())
    schedule_history_roots(services)
    first = sent_and_claimed(services, "p-day-1")
    sent_and_claimed(services, "p-day-2")
    clock.advance(microseconds=day_bounds(day)[1] + 11 * 60 * 1_000_000 - clock.now_us())
    EmbeddedWorker(services).drain()
    report = services.database.read(verify_roots)
    assert report.ok, report.mismatches
    latest = report.latest
    assert latest is not None
    assert (latest.day, latest.head_count, latest.previous_root) == (day, 2, GENESIS)
    heads = services.database.read(
        lambda uow: [read_chain(uow, p)[-1] for p in ("p-day-1", "p-day-2")]
    )
    expected, _count = day_root(day, GENESIS, [_head(entry) for entry in heads])
    assert latest.root == expected
    due = services.database.read(lambda uow: uow.scheduler.get(f"history-root:{shifted(day, 1)}"))
    assert due is not None  # the next day's root is scheduled by this day's job
    code, output = cli("ledger", "verify", "--database-url", url)
    assert code == 0, output
    assert f"latest root: {day} {latest.root} (2 packet chains)" in output

    _rewrite(url, services, first)
    code, output = cli("packets", "verify-history", first, "--database-url", url)
    assert code == 0, output  # every hash recomputed: the chain alone cannot tell
    code, output = cli("ledger", "verify", "--database-url", url)
    assert code == 1, output
    assert "root" in output
    assert day in output


def _head(entry: ChainEntry) -> StreamHead:
    return StreamHead(entry.stream, entry.sequence, present(entry.hash, "a chained entry"))


def _rewrite(url: str, services: Services, packet_id: str) -> None:
    """Give the first claim to someone else and recompute every hash of the chain after it."""
    entries = services.database.read(lambda uow: read_chain(uow, packet_id))
    previous = GENESIS
    statements = []
    for entry in entries:
        payload = entry.payload.replace("liu-yang", "wu-gang")
        own = entry_hash(
            entry.stream,
            entry.sequence,
            entry.event_type,
            entry.at_us,
            previous,
            payload_digest(payload),
        )
        statements.append(
            f"UPDATE platform_outbox_events SET payload = '{payload}', previous_hash = "
            f"'{previous}', entry_hash = '{own}' WHERE id = '{entry.stream}#{entry.sequence}'"
        )
        previous = own
    execute(url, *statements)


@pytest.mark.postgres
@pytest.mark.slow
def test_many_claims_at_once_on_one_packet_extend_its_chain_without_a_fork_or_a_gap(
    postgres_database: Database,
) -> None:
    """120 claimers on an 80-share packet: 1 send, 80 claims and the exhaustion, numbered 1 to
    82, each naming the one before, and every claim that was paid has its entry."""
    members = [f"member-{n:03d}" for n in range(120)]
    world = build_world(postgres_database, SystemClock(), members, funds=100_00)
    packet = world.packets.send(lucky("hot-chain", total=80_00, shares=80))
    outcomes = claim_together(world, packet.id, members)
    assert all(isinstance(outcome, ClaimOutcome) for outcome in outcomes), outcomes[:3]
    paid = {
        member
        for member, outcome in zip(members, outcomes, strict=True)
        if outcome.result is ClaimResult.CLAIMED
    }
    assert len(paid) == 80
    entries = postgres_database.read(lambda uow: read_chain(uow, packet.id))
    assert [entry.sequence for entry in entries] == list(range(1, 83))
    count, broken = postgres_database.read(lambda uow: verify_chain(uow, packet.id))
    assert (count, broken) == (82, None)
    claimed = {e.payload for e in entries if e.event_type == "PacketClaimed"}
    assert {member for member in paid if any(f'"{member}"' in p for p in claimed)} == paid
    assert entries[-1].event_type == "PacketExhausted"
    assert len({entry.previous_hash for entry in entries}) == 82  # no two entries share a parent
