"""``hongbao packets send|claim|show|history|verify-history``: red packets from the command
line."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer
from rich.table import Table

from hongbao.bootstrap import Services
from hongbao.entrypoints.cli.guard import (
    guard_status,
    parse_local_time,
    show_guard_decision,
    show_guard_stop,
)
from hongbao.entrypoints.cli.recall import fingerprint
from hongbao.entrypoints.cli.render import local_time, money_text
from hongbao.entrypoints.cli.session import DatabaseUrlOption, console, run
from hongbao.entrypoints.cli.writes import KeyOption, keyed, natural_key, write
from hongbao.entrypoints.worker import EmbeddedWorker
from hongbao.money import Money
from hongbao.packets.authorization import CardAuthorization
from hongbao.packets.claims import ClaimOutcome
from hongbao.packets.guarding import GuardStop
from hongbao.packets.history import verify_chain
from hongbao.packets.model import Packet, PacketPurpose, PacketType, Share
from hongbao.packets.service import PacketService, SendPacket
from hongbao.platform.chain import ChainBreak

packets_app = typer.Typer(help="Red packets: send, claim, inspect.", no_args_is_help=True)


def _catch_up(services: Services) -> None:
    """On the embedded database, the worker catches up with whatever fell due (captures,
    expiries) while no process was running, so answers never lag behind the clock."""
    if services.database.dialect == "sqlite":
        EmbeddedWorker(services).drain()


def _service(services: Services) -> PacketService:
    """The packet service, after the embedded worker has caught up."""
    _catch_up(services)
    return services.packets


@packets_app.command("send")
def packets_send(
    packet_id: str,
    sender: Annotated[str, typer.Option("--from")],
    amount: Annotated[str, typer.Option("--amount", help='e.g. "88.88" (CNY)')],
    packet_type: Annotated[PacketType, typer.Option("--type")] = PacketType.GROUP_LUCKY,
    shares: Annotated[int, typer.Option("--shares")] = 1,
    source: Annotated[str | None, typer.Option("--source", help="default: the balance")] = None,
    to: Annotated[str | None, typer.Option("--to", help="recipient of a personal packet")] = None,
    group: Annotated[str | None, typer.Option("--group")] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="the sending device (a recall must use it)")
    ] = None,
    purpose: Annotated[
        PacketPurpose,
        typer.Option("--purpose", help="tuition: a tuition payment to an education group"),
    ] = PacketPurpose.GIFT,
    confirm: Annotated[
        bool, typer.Option("--confirm", help="send although the send-time guard asks to confirm")
    ] = False,
    deliver_at: Annotated[
        str | None,
        typer.Option(
            "--deliver-at",
            help="a delayed send, e.g. 2026-12-06T08:00 (Beijing time unless an offset is given)",
        ),
    ] = None,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Send a packet (the packet id is the default key: sending again is harmless). A risky
    send (R-B1) prints the guard's reasons and exits with 2, having moved nothing: run it again
    with --confirm, or --deliver-at for a delayed send (cancel it with cancel-scheduled)."""

    def send(s: Services) -> Packet | GuardStop:
        # Parsed inside run(): a malformed amount is reported with its code, like any refusal.
        sending = fingerprint(s, sender, device, None) if device else None
        command = SendPacket(
            packet_id,
            packet_type,
            sender,
            Money.parse(amount, "CNY"),
            shares,
            source or f"{sender}-balance",
            recipient_id=to,
            group_id=group,
            device=sending,
            purpose=purpose,
            confirm=confirm,
            deliver_at_us=None if deliver_at is None else parse_local_time(deliver_at),
        )
        return s.packets.send_guarded(command)

    def show(outcome: Packet | GuardStop) -> None:
        if isinstance(outcome, GuardStop):
            show_guard_stop(outcome)
            return
        packet = outcome
        total = money_text(packet.total_minor, packet.currency)
        if packet.deliver_at_us is not None:
            console.print(
                f"scheduled {packet.id}: {total} in {packet.share_count} share(s), delivered at "
                f"{local_time(packet.deliver_at_us)} (cancel-scheduled until then, free)"
            )
            return
        console.print(
            f"sent {packet.id}: {total} in "
            f"{packet.share_count} share(s), open until {local_time(packet.expires_at_us)}"
        )

    arguments: dict[str, object] = {"packet": packet_id, "from": sender, "amount": amount}
    arguments |= {"type": packet_type, "shares": shares, "source": source, "to": to}
    arguments |= {"group": group, "device": device, "purpose": purpose}
    command = keyed("packets.send", key, natural_key("packets.send", packet_id), arguments)
    if confirm or deliver_at is not None:
        # The guard's answer is kept under the key; the confirmed repeat is a request apart.
        arguments |= {"confirm": confirm, "deliver_at": deliver_at}
        command = replace(command, arguments=arguments, continuable=True)
    write(database_url, command, send, show, before=_catch_up, status=guard_status)


@packets_app.command("cancel-scheduled")
def packets_cancel_scheduled(
    packet_id: str,
    sender: Annotated[str, typer.Option("--as", help="the sender (only they cancel)")],
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Cancel a delayed send before its delivery: the reserved money is released, no fee."""

    def show(packet: Packet) -> None:
        console.print(
            f"cancelled {packet.id}: {money_text(packet.total_minor, packet.currency)} "
            "released to its source, no fee"
        )

    command = keyed(
        "packets.cancel",
        key,
        natural_key("packets.cancel", packet_id),
        {"packet": packet_id, "as": sender},
    )
    write(
        database_url,
        command,
        lambda s: s.packets.cancel_scheduled(packet_id, sender),
        show,
        before=_catch_up,
    )


@packets_app.command("guard-decision")
def packets_guard_decision(decision_id: str, database_url: DatabaseUrlOption = None) -> None:
    """A send-time guard decision: its policy version, checks, regret terms and reasons."""
    decision = run(database_url, lambda s: s.packets.guard_decision(decision_id))
    show_guard_decision(decision)


@packets_app.command("claim")
def packets_claim(
    packet_id: str, user: str, key: KeyOption = None, database_url: DatabaseUrlOption = None
) -> None:
    """Claim a share for a user (the packet and the user are the default key: a retry
    returns the same share)."""

    def show(outcome: ClaimOutcome) -> None:
        amount = f" {outcome.amount.format()} {outcome.amount.currency}" if outcome.amount else ""
        console.print(f"{outcome.result.value}{amount}")

    command = keyed(
        "packets.claim",
        key,
        natural_key("packets.claim", packet_id, user),
        {"packet": packet_id, "user": user},
    )
    write(
        database_url,
        command,
        lambda s: s.packets.claim(packet_id, user),
        show,
        before=_catch_up,
    )


@packets_app.command("show")
def packets_show(
    packet_id: str,
    viewer: Annotated[str, typer.Option("--as", help="whose view (claims are private)")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """A packet's state and remainder, and the claims the viewer may see."""

    def gather(s: Services) -> tuple[Packet, list[Share], CardAuthorization | None]:
        service = _service(s)
        found = service.packet(packet_id)
        hold = service.authorization(packet_id) if viewer == found.sender_id else None
        return found, service.claims_seen_by(packet_id, viewer), hold

    packet, claims, hold = run(database_url, gather)
    console.print(
        f"{packet.id} ({packet.packet_type.value}) from {packet.sender_id}: "
        f"{packet.state.value}, {packet.claimed_count}/{packet.share_count} claimed, "
        f"{money_text(packet.remainder_minor, packet.currency)} left"
    )
    if hold is not None:
        console.print(_hold_text(hold))
    table = Table(title="claims")
    for column in ("claimer", "amount", "at (Beijing time)"):
        table.add_column(column)
    for share in claims:
        claimer = share.claimed_by or ""
        amount = money_text(share.amount_minor, packet.currency)
        table.add_row(claimer, amount, local_time(share.claimed_at_us))
    console.print(table)


def _hold_text(hold: CardAuthorization) -> str:
    charged = money_text(hold.charged_minor, hold.charge_currency)
    authorized = money_text(hold.authorized_minor, hold.charge_currency)
    rate = (
        f" at 1 {hold.packet_currency} = {hold.fx_rate} {hold.charge_currency}"
        if hold.fx_rate
        else ""
    )
    if hold.is_held:
        return (
            f"card hold: {charged} of {authorized} charged{rate}; "
            f"the rest is captured at {local_time(hold.window_ends_at_us)}"
        )
    return f"card {hold.state.value}: {charged} charged{rate}"


@packets_app.command("history")
def packets_history(user: str, database_url: DatabaseUrlOption = None) -> None:
    """What a user sent and received."""

    def gather(s: Services) -> tuple[list[Packet], list[Share]]:
        service = _service(s)
        return service.sent_by(user), service.received_by(user)

    sent, received = run(database_url, gather)
    table = Table(title=f"{user}: sent")
    for column in ("packet", "type", "total", "state"):
        table.add_column(column)
    for packet in sent:
        table.add_row(
            packet.id,
            packet.packet_type.value,
            money_text(packet.total_minor, packet.currency),
            packet.state.value,
        )
    console.print(table)
    got = Table(title=f"{user}: received")
    for column in ("packet", "amount (CNY)", "at (Beijing time)"):
        got.add_column(column)
    for share in received:
        amount = money_text(share.amount_minor, "CNY")
        got.add_row(share.packet_id, amount, local_time(share.claimed_at_us))
    console.print(got)


@packets_app.command("verify-history")
def packets_verify_history(packet_id: str, database_url: DatabaseUrlOption = None) -> None:
    """Recompute a packet's hash chain from the rows stored in the database (R-B2): "intact",
    or the first entry where it breaks and why (exit 1)."""

    def check(s: Services) -> tuple[int, ChainBreak | None, str]:
        packet = s.packets.packet(packet_id)
        count, broken = s.database.read(lambda uow: verify_chain(uow, packet.id))
        return count, broken, packet.id

    count, broken, found = run(database_url, check)
    if broken is None:
        console.print(f"packet {found}: [bold green]intact[/] ({count} entries)")
        return
    console.print(
        f"packet {found}: [bold red]broken[/] at entry {broken.sequence}: "
        f"{broken.reason.value} (expected {broken.expected}, found {broken.found})"
    )
    raise typer.Exit(1)
