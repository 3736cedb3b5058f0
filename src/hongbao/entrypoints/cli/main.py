"""The ``hongbao`` command: thin entry points that parse, call a service and render."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hongbao.entrypoints.cli import budgets as cli_distribution
from hongbao.entrypoints.cli import identity as cli_identity
from hongbao.entrypoints.cli import incidents as cli_incidents
from hongbao.entrypoints.cli import packets as cli_packets
from hongbao.entrypoints.cli import recall as cli_recall
from hongbao.entrypoints.cli import refunds as cli_refunds
from hongbao.entrypoints.cli import risk as cli_risk
from hongbao.entrypoints.cli import serve as cli_serve
from hongbao.entrypoints.cli import social as cli_social
from hongbao.entrypoints.cli import support as cli_support
from hongbao.entrypoints.cli.writes import KeyOption, fresh_key, keyed, write
from hongbao.ledger.verification import VerificationReport
from hongbao.packets.history_roots import RootReport
from hongbao.packets.verification import PacketReport
from hongbao.platform.errors import HongbaoError
from hongbao.refunds.verification import RefundReport

app = typer.Typer(
    help="hongbao: red-packet (红包) payments with a safe, explainable recall.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
ledger_app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ledger_app, name="ledger")

console = Console()
error_console = Console(stderr=True)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///path or postgresql://user@host/db; default $HONGBAO_DATABASE_URL, "
        "else the embedded SQLite file.",
        show_default=False,
    ),
]

EXIT_VIOLATIONS = 1
EXIT_ERROR = 2


def _fail(error: HongbaoError) -> typer.Exit:
    error_console.print(f"[bold red]error[/] {escape(f'[{error.code}] {error.message}')}")
    return typer.Exit(EXIT_ERROR)


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrlOption = None) -> None:
    """Apply every pending schema migration (safe to run from several processes at once)."""
    from hongbao.storage import migrate  # noqa: PLC0415 - keep `hongbao --help` fast
    from hongbao.storage.urls import configured_url, parse_url  # noqa: PLC0415

    try:
        database = parse_url(configured_url(database_url))
        revision = migrate.upgrade(database)
    except HongbaoError as error:
        raise _fail(error) from error
    console.print(f"{database.redacted} is at schema [bold]{revision}[/]")


@ledger_app.command("verify")
def ledger_verify(database_url: DatabaseUrlOption = None) -> None:
    """Check every invariant of R-M2, the ledger's, the packets' and the refunds' against it,
    on one snapshot. Exit 0 when all hold, 1 with the offending rows, 2 when it cannot run."""
    from hongbao.ledger.service import verify_ledger  # noqa: PLC0415
    from hongbao.packets.history_roots import verify_roots  # noqa: PLC0415
    from hongbao.packets.verification import verify_packets  # noqa: PLC0415
    from hongbao.refunds.verification import verify_refunds  # noqa: PLC0415
    from hongbao.storage.factory import open_database  # noqa: PLC0415

    try:
        database = open_database(database_url)
        try:
            report, packets, refunds, roots = database.read(
                lambda uow: (
                    verify_ledger(uow),
                    verify_packets(uow),
                    verify_refunds(uow),
                    verify_roots(uow),
                )
            )
        finally:
            database.close()
    except HongbaoError as error:
        raise _fail(error) from error
    render_report(report, database.url)
    render_packet_report(packets)
    render_refund_report(refunds)
    render_root_report(roots)
    if not (report.ok and packets.ok and refunds.ok and roots.ok):
        raise typer.Exit(EXIT_VIOLATIONS)


def render_report(report: VerificationReport, url: str) -> None:
    summary = Table(title=f"ledger verify — {url}", show_header=False)
    summary.add_row("accounts", str(report.accounts))
    summary.add_row("transfers", str(report.transfers))
    summary.add_row("journal postings", str(report.postings))
    summary.add_row("open pending transfers", str(report.open_pending))
    summary.add_row("ledger root digest", report.root_digest)
    console.print(summary)
    totals = Table(title="per currency (minor units)")
    for column in (
        "currency",
        "posted debits",
        "posted credits",
        "pending debits",
        "pending credits",
    ):
        totals.add_column(column, justify="right")
    for currency, value in sorted(report.currencies.items()):
        totals.add_row(
            currency,
            str(value.debits_posted),
            str(value.credits_posted),
            str(value.debits_pending),
            str(value.credits_pending),
        )
    console.print(totals)
    if report.ok:
        console.print("[bold green]OK[/] every invariant holds")
        return
    violations = Table(title=f"{report.violation_count} violation(s)")
    for column in ("check", "row", "detail"):
        violations.add_column(column)
    for violation in report.violations:
        violations.add_row(violation.check, violation.subject, violation.detail)
    console.print(violations)
    if report.violation_count > len(report.violations):
        console.print(f"… and {report.violation_count - len(report.violations)} more")
    console.print("[bold red]FAILED[/] the ledger breaks its invariants")


def render_packet_report(report: PacketReport) -> None:
    summary = Table(title="packets", show_header=False)
    summary.add_row("packets", str(report.packets))
    summary.add_row("shares", str(report.shares))
    summary.add_row("open card holds", str(report.open_card_holds))
    console.print(summary)
    if report.ok:
        console.print("[bold green]OK[/] every packet matches its escrow and its claims")
        return
    rows = [(problem.check, problem.packet_id, problem.detail) for problem in report.problems]
    _render_problems(report.problem_count, "packet", rows)


def render_refund_report(report: RefundReport) -> None:
    summary = Table(title="refunds", show_header=False)
    summary.add_row("refunds", str(report.refunds))
    summary.add_row("on their way (in clearing)", str(report.in_flight))
    console.print(summary)
    if report.ok:
        console.print("[bold green]OK[/] every refund matches its packet and refund clearing")
        return
    rows = [(problem.check, problem.refund_id, problem.detail) for problem in report.problems]
    _render_problems(report.problem_count, "refund", rows)


def render_root_report(report: RootReport) -> None:
    summary = Table(title="packet history roots (daily, UTC)", show_header=False)
    summary.add_row("days recorded", str(report.checked))
    console.print(summary)
    if report.latest is not None:
        latest = report.latest
        # Unwrapped, on a line of its own: the root is what operators copy and publish.
        typer.echo(f"latest root: {latest.day} {latest.root} ({latest.head_count} packet chains)")
    if report.ok:
        console.print("[bold green]OK[/] every recorded root recomputes from the packet chains")
        return
    rows = [
        (mismatch.reason, mismatch.day, f"expected {mismatch.expected}, found {mismatch.found}")
        for mismatch in report.mismatches
    ]
    _render_problems(len(rows), "day", rows)


def _render_problems(count: int, what: str, rows: list[tuple[str, str, str]]) -> None:
    problems = Table(title=f"{count} {what} problem(s)")
    for column in ("check", what, "detail"):
        problems.add_column(column)
    for row in rows:
        problems.add_row(*row)
    console.print(problems)
    console.print(f"[bold red]FAILED[/] {what}s disagree with the ledger")


@app.command()
def demo(database_url: DatabaseUrlOption = None) -> None:
    """Load the demo population, run a short tour of the ledger, then a day of red packets in
    a sandbox (send, claims, a card hold captured, expiry), and print what happened."""
    from hongbao.bootstrap import open_services  # noqa: PLC0415
    from hongbao.entrypoints.cli.demo_ledger import run_demo  # noqa: PLC0415
    from hongbao.entrypoints.cli.demo_packets import run_packet_tour  # noqa: PLC0415
    from hongbao.entrypoints.population import load_population  # noqa: PLC0415

    try:
        services = open_services(database_url)
        try:
            report = load_population(services.identity, services.funding, services.social)
            if report.already_loaded:
                console.print("demo population: already loaded")
            else:
                loaded = ", ".join(f"{count} {what}" for what, count in report.created.items())
                console.print(f"demo population loaded: {loaded}")
            console.print("see it with `hongbao users list` and `hongbao users show li-wei`\n")
            ok = run_demo(services.ledger, console)
        finally:
            services.close()
        ok = run_packet_tour(console) and ok
    except HongbaoError as error:
        raise _fail(error) from error
    if not ok:
        raise typer.Exit(EXIT_VIOLATIONS)


@app.command()
def worker(
    database_url: DatabaseUrlOption = None,
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit (for cron)")] = False,
    poll_seconds: Annotated[
        float | None,
        typer.Option(
            "--poll-seconds",
            min=0.05,
            max=60.0,
            help="the sleep after a pass that found nothing (default: the worker's 0.2 s)",
        ),
    ] = None,
) -> None:
    """Run due work and release expired ledger holds until SIGINT or SIGTERM."""
    from hongbao.bootstrap import open_services  # noqa: PLC0415
    from hongbao.entrypoints.worker import DEFAULT_POLL_SECONDS, run_until_stopped  # noqa: PLC0415

    # The worker's own default, not one of the command line's: outbox delivery waits on it.
    poll_seconds = DEFAULT_POLL_SECONDS if poll_seconds is None else poll_seconds

    try:
        services = open_services(database_url)
        try:
            console.print(f"hongbao worker on {services.database.url}")
            total = run_until_stopped(services, poll_seconds=poll_seconds, once=once)
        finally:
            services.close()
    except HongbaoError as error:
        raise _fail(error) from error
    console.print(
        f"worker stopped: {total.work_done} done, {total.work_failed} failed, "
        f"{total.holds_expired} holds expired, {total.events_delivered} events delivered, "
        f"{total.deliveries_failed} deliveries failed"
    )


scheduler_app = typer.Typer(help="Due work: inspect and replay.", no_args_is_help=True)
app.add_typer(scheduler_app, name="scheduler")


@scheduler_app.command("list")
def scheduler_list(
    database_url: DatabaseUrlOption = None,
    state: Annotated[str, typer.Option("--state", help="pending, done or dead")] = "dead",
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
) -> None:
    """Count due work by state and list the rows in one state (dead ones by default)."""
    from hongbao.bootstrap import open_services  # noqa: PLC0415
    from hongbao.platform.scheduler import DueWorkState  # noqa: PLC0415

    try:
        wanted = DueWorkState(state)
    except ValueError as error:
        raise typer.BadParameter("state is pending, done or dead") from error
    try:
        services = open_services(database_url)
        try:
            counts, rows = services.database.read(
                lambda uow: (
                    uow.scheduler.count_by_state(),
                    uow.scheduler.list_state(wanted, limit),
                )
            )
        finally:
            services.close()
    except HongbaoError as error:
        raise _fail(error) from error
    console.print(", ".join(f"{key.value}: {value}" for key, value in counts.items()))
    table = Table(title=f"{wanted.value} work")
    for column in ("id", "kind", "due (µs)", "attempts", "last error"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.id, row.kind, str(row.due_at_us), str(row.attempts), row.last_error or "")
    console.print(table)


@scheduler_app.command("replay")
def scheduler_replay(
    work_id: str, key: KeyOption = None, database_url: DatabaseUrlOption = None
) -> None:
    """Put a dead row back to pending, due now (operator action after fixing the cause)."""
    from hongbao.entrypoints.worker import build_scheduler  # noqa: PLC0415

    write(
        database_url,
        keyed("scheduler.replay", key, fresh_key("scheduler.replay"), {"work": work_id}),
        lambda services: build_scheduler(services).replay(work_id),
        lambda revived: console.print(f"{revived.id} is pending again"),
    )


outbox_app = typer.Typer(help="Outbox deliveries: dead letters and replay.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("dead")
def outbox_dead(
    database_url: DatabaseUrlOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
) -> None:
    """Deliveries that gave up, with their last error (they hold back their stream)."""
    from hongbao.bootstrap import open_services  # noqa: PLC0415
    from hongbao.platform.outbox import DeliveryState  # noqa: PLC0415

    try:
        services = open_services(database_url)
        try:
            rows = services.database.read(
                lambda uow: uow.outbox.deliveries_in_state(DeliveryState.DEAD, limit)
            )
        finally:
            services.close()
    except HongbaoError as error:
        raise _fail(error) from error
    table = Table(title=f"{len(rows)} dead deliveries")
    for column in ("consumer", "event", "attempts", "last error"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.consumer, row.event_id, str(row.attempts), row.last_error or "")
    console.print(table)


@outbox_app.command("replay")
def outbox_replay(
    consumer: str, event_id: str, key: KeyOption = None, database_url: DatabaseUrlOption = None
) -> None:
    """Make a dead delivery pending again (after fixing its consumer)."""
    from hongbao.entrypoints.worker import build_relay  # noqa: PLC0415

    write(
        database_url,
        keyed(
            "outbox.replay",
            key,
            fresh_key("outbox.replay"),
            {"consumer": consumer, "event": event_id},
        ),
        lambda services: build_relay(services).replay(consumer, event_id),
        lambda _replayed: console.print(f"{event_id} to {consumer} is pending again"),
    )


cli_identity.register(app)
app.add_typer(cli_packets.packets_app, name="packets")
app.add_typer(cli_recall.recall_app, name="recall")
app.add_typer(cli_recall.decisions_app, name="decisions")
app.add_typer(cli_refunds.refunds_app, name="refunds")
app.add_typer(cli_incidents.incidents_app, name="incidents")
app.add_typer(cli_risk.risk_app, name="risk")
app.add_typer(cli_support.support_app, name="support")
app.add_typer(cli_serve.tokens_app, name="tokens")
app.command("serve")(cli_serve.serve)
app.add_typer(cli_distribution.budgets_app, name="budgets")
app.command("explain")(cli_recall.explain_command)
app.add_typer(cli_social.social_app, name="social")


def main() -> None:
    app()
