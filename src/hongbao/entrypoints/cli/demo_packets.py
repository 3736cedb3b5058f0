"""The packet part of ``hongbao demo``: a day of red packets in a few seconds.

It runs in a sandbox database of its own (a temporary SQLite file) on a clock the tour moves
by hand, so advancing 15 minutes and 24 hours never writes future times into real data.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hongbao.bootstrap import Services, open_services
from hongbao.entrypoints.cli.render import local_time, money_text
from hongbao.entrypoints.population import load_population
from hongbao.entrypoints.worker import EmbeddedWorker
from hongbao.identity.verification import AnswerAttempt, OperatorContext
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import SendPacket
from hongbao.platform.clock import ManualClock, SystemClock
from hongbao.recall.calendar import local_day
from hongbao.recall.explanations import explain
from hongbao.recall.service import RecallCommand
from hongbao.refunds.verification import verify_refunds

SENDER = "li-wei"
PHONE = "li-wei-iphone14pro"
GROUP = "xinghe-team"
CLAIMERS = ("liu-yang", "zhao-lei", SENDER)
WATCHED = (
    "user:li-wei:balance",
    "card:li-wei-icbc",
    "user:liu-yang:balance",
    "user:zhao-lei:balance",
)


def run_packet_tour(console: Console) -> bool:
    """Send, claim from several users, capture a card hold, expire; True when verify is clean."""
    with tempfile.TemporaryDirectory(prefix="hongbao-demo-") as directory:
        # 10:00 Beijing time today: the tour never runs into the nightly settlement blackout.
        day_start, _ = local_day(SystemClock().now_us(), "Asia/Shanghai")
        clock = ManualClock(day_start + 10 * 3600 * 1_000_000)
        services = open_services(f"sqlite:///{Path(directory) / 'tour.db'}", clock=clock)
        try:
            return _tour(services, clock, console)
        finally:
            services.close()


def _tour(services: Services, clock: ManualClock, console: Console) -> bool:
    load_population(services.identity, services.funding, services.social)
    services.ledger.create_accounts([NewAccount("demo-bank", AccountKind.DEBIT_CARD, "CNY")])
    services.ledger.transfer(
        TransferRequest("demo-top-up", 1, 200_00, "demo-bank", f"user:{SENDER}:balance", "CNY")
    )
    worker = EmbeddedWorker(services)
    packets = services.packets
    lucky = packets.send(
        SendPacket(
            "tour-lucky",
            PacketType.GROUP_LUCKY,
            SENDER,
            Money.of(88_88, "CNY"),
            5,
            f"{SENDER}-balance",
            group_id=GROUP,
        )
    )
    card = packets.send(
        SendPacket(
            "tour-card",
            PacketType.GROUP_NORMAL,
            SENDER,
            Money.of(40_00, "CNY"),
            4,
            f"{SENDER}-icbc",
            group_id=GROUP,
        )
    )
    console.print("[bold]packet tour[/] (a sandbox database, a clock moved by hand)")
    console.print(f"{SENDER} sends {lucky.id}: 88.88 in 5 lucky shares from the balance")
    console.print(
        f"{SENDER} sends {card.id}: 40.00 in 4 equal shares from a debit card (a 15-minute hold)"
    )
    for claimer in CLAIMERS:
        for packet in (lucky, card):
            outcome = packets.claim(packet.id, claimer)
            amount = f" {outcome.amount.format()}" if outcome.amount else ""
            console.print(f"  {claimer} taps {packet.id}: {outcome.result.value}{amount}")
    console.print(
        f"  wang-fang taps {lucky.id}: {packets.claim(lucky.id, 'wang-fang').result.value}"
    )
    _recall_tour(services, console)
    console.print(
        f"  the card so far is charged for claimed shares only: {_charged(services, card.id)}"
    )
    clock.advance(seconds=15 * 60)
    worker.drain()
    console.print(
        f"+15 min: the window closes and the hold is captured: {_charged(services, card.id)}"
    )
    clock.advance(seconds=24 * 3600)
    worker.drain()
    for packet_id in (lucky.id, card.id):
        _print_refund(services, console, "+24 h", packet_id)
    clock.advance(seconds=2 * 3600)
    worker.drain()
    _print_refund(services, console, "+26 h", card.id)
    _print_balances(services, console)
    ledger_ok, packets_ok = services.ledger.verify().ok, packets.verify().ok
    refunds_ok = services.database.read(verify_refunds).ok
    verdict = (
        "[bold green]OK[/]" if ledger_ok and packets_ok and refunds_ok else "[bold red]FAILED[/]"
    )
    console.print(f"{verdict} ledger, packet and refund invariants after the tour\n")
    return ledger_ok and packets_ok and refunds_ok


def _print_refund(services: Services, console: Console, when: str, packet_id: str) -> None:
    """Where an expired packet's unclaimed money is: the route back to its source (R-F1)."""
    closed = services.packets.packet(packet_id)
    line = f"{when}: {packet_id} {closed.state.value}"
    for refund in services.refunds.of_packet(packet_id):
        amount = money_text(refund.amount_minor, refund.currency)
        route = refund.route.value.replace("_", " ")
        arrives = local_time(refund.arrives_at_us)
        line += f", refund of {amount} to the {route}: {refund.state.value}, arrives {arrives}"
    console.print(line)


def _recall_tour(services: Services, console: Console) -> None:
    """A card packet recalled inside its window: an SMS check, then the hold is voided."""
    phone = next(
        d.fingerprint for d in services.identity.devices_of(SENDER) if d.device_id == PHONE
    )
    services.packets.send(
        SendPacket(
            "tour-recall",
            PacketType.GROUP_NORMAL,
            SENDER,
            Money.of(30_00, "CNY"),
            3,
            f"{SENDER}-icbc",
            group_id=GROUP,
            device=phone,
        )
    )
    services.packets.claim("tour-recall", "liu-yang")
    console.print(
        f"{SENDER} sends tour-recall (30.00, debit card, from {PHONE}); liu-yang claims 10.00"
    )
    stranger = services.recalls.recall(
        RecallCommand("tour-recall-zhao", "tour-recall", "zhao-lei", phone)
    )
    for language in ("zh", "en"):
        told = explain(stranger.decision, language)
        why = told.reasons[0] if told.reasons else told.headline
        console.print(f"  zhao-lei tries to recall it: {why}")
    command = RecallCommand("tour-recall-1", "tour-recall", SENDER, phone)
    asked = services.recalls.recall(command)
    console.print(f"  {SENDER} recalls it: {explain(asked.decision, 'en').headline}")
    for challenge_id in asked.recall.challenge_ids:
        code = services.identity.operator_reveal_code(challenge_id, OperatorContext("demo", True))
        purpose = asked.recall.challenge_purpose or ""
        services.identity.answer_challenge(
            challenge_id, AnswerAttempt(SENDER, phone, purpose, code)
        )
        console.print(f"  {SENDER} enters the SMS code of {challenge_id}")
    done = services.recalls.recall(command)
    console.print(
        f"  recalled: {done.recall.state.value}, route {done.recall.route}, card charged "
        f"{_charged(services, 'tour-recall')} (only the claimed share, no fee)"
    )


def _charged(services: Services, packet_id: str) -> str:
    hold = services.packets.authorization(packet_id)
    if hold is None:
        return "-"
    charged = money_text(hold.charged_minor, hold.charge_currency)
    return f"{charged} of {money_text(hold.authorized_minor, hold.charge_currency)}"


def _print_balances(services: Services, console: Console) -> None:
    accounts = services.ledger.accounts(list(WATCHED))
    table = Table(title="after the tour")
    for column in ("account", "balance", "posted debits", "posted credits"):
        table.add_column(column)
    for account_id in WATCHED:
        account = accounts[account_id]
        table.add_row(
            account_id,
            money_text(account.credit_balance, account.currency),
            money_text(account.debits_posted, account.currency),
            money_text(account.credits_posted, account.currency),
        )
    console.print(table)
