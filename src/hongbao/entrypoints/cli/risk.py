"""``hongbao risk queue|show|release|confirm|unlock``: the review queue of risk control."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from hongbao.entrypoints.cli.render import local_time
from hongbao.entrypoints.cli.session import DatabaseUrlOption, console, run
from hongbao.entrypoints.cli.writes import KeyOption, fresh_key, keyed, write
from hongbao.recall.review import DEFAULT_STATS_DAYS, MAX_QUEUE
from hongbao.risk.cases import CaseState, RiskCase
from hongbao.risk.stats import MAX_STATS_DAYS

risk_app = typer.Typer(help="Risk control: the review queue (R-K5).", no_args_is_help=True)

OperatorOption = Annotated[str, typer.Option("--operator", help="who decides (recorded)")]
NoteOption = Annotated[str, typer.Option("--note", help="why (recorded)")]


@risk_app.command("queue")
def risk_queue(
    state: CaseState = CaseState.OPEN,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_QUEUE)] = 50,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Held refunds and locked devices in one state, oldest first."""
    cases = run(database_url, lambda s: s.reviews.queue(state, limit))
    table = Table(title=f"{len(cases)} {state.value} case(s)")
    for column in ("id", "kind", "user", "level", "opened", "release at", "evidence"):
        table.add_column(column, overflow="fold")
    for case in cases:
        table.add_row(
            case.id,
            case.kind.value,
            case.user_id,
            str(case.level),
            local_time(case.opened_at_us),
            local_time(case.release_at_us),
            _evidence(case),
        )
    console.print(table)


@risk_app.command("stats")
def risk_stats(
    days: Annotated[int, typer.Option("--days", min=1, max=MAX_STATS_DAYS)] = DEFAULT_STATS_DAYS,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Detection quality (R-K6): the trigger rate and the precision of level >= 2. Read-only."""
    stats = run(database_url, lambda s: s.reviews.stats(days))
    if as_json:
        console.print_json(json.dumps(stats.as_json()))
        return
    table = Table(title=f"risk decisions and reviews, last {stats.days} day(s)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("decisions", str(stats.decisions))
    for level, count in enumerate(stats.decisions_at_level):
        table.add_row(f"  at level {level}", str(count))
    table.add_row("trigger rate (level >= 2)", _percent(stats.trigger_rate_bp))
    table.add_row("cases reviewed", str(stats.cases.reviewed))
    table.add_row("  confirmed", str(stats.cases.confirmed))
    table.add_row("cases open", str(stats.cases.open))
    table.add_row("released at release time", str(stats.cases.released_at_release_time))
    table.add_row("precision of level >= 2", _percent(stats.precision_bp))
    console.print(table)


def _percent(basis_points: int | None) -> str:
    if basis_points is None:
        return "-"
    return f"{basis_points // 100}.{basis_points % 100:02d} %"


@risk_app.command("show")
def risk_show(case_id: str, database_url: DatabaseUrlOption = None) -> None:
    """One case with its evidence and decision."""
    _print_case(run(database_url, lambda s: s.reviews.case(case_id)))


@risk_app.command("release")
def risk_release(
    case_id: str,
    operator: OperatorOption,
    note: NoteOption,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Release a held refund: its money moves on now."""
    write(
        database_url,
        keyed(
            "risk.release",
            key,
            fresh_key("risk.release"),
            {"case": case_id, "operator": operator, "note": note},
        ),
        lambda s: s.reviews.release(case_id, operator, note),
        _print_case,
    )


@risk_app.command("confirm")
def risk_confirm(
    case_id: str,
    operator: OperatorOption,
    note: NoteOption,
    escalate: Annotated[
        bool, typer.Option("--escalate", help="also freeze the account (level 4)")
    ] = False,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Confirm a hold as suspicious: the money stays held."""
    write(
        database_url,
        keyed(
            "risk.confirm",
            key,
            fresh_key("risk.confirm"),
            {"case": case_id, "operator": operator, "note": note, "escalate": escalate},
        ),
        lambda s: s.reviews.confirm(case_id, operator, note, escalate=escalate),
        _print_case,
    )


@risk_app.command("unlock")
def risk_unlock(
    case_id: str,
    operator: OperatorOption,
    note: NoteOption,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Unlock a device: it may send, claim and recall again."""
    write(
        database_url,
        keyed(
            "risk.unlock",
            key,
            fresh_key("risk.unlock"),
            {"case": case_id, "operator": operator, "note": note},
        ),
        lambda s: s.reviews.unlock(case_id, operator, note),
        _print_case,
    )


def _evidence(case: RiskCase) -> str:
    return "; ".join(
        f"{s['name']} {s['value']} >= {s['threshold']} in {s['window']}"
        + (f" (exempt: {s['exempted_by']})" if s["exempted_by"] else "")
        for s in json.loads(case.evidence)
    )


def _print_case(case: RiskCase) -> None:
    console.print(f"[bold]{case.id}[/] {case.kind.value}, {case.state.value}, level {case.level}")
    console.print(f"  user {case.user_id}; opened {local_time(case.opened_at_us)}")
    if case.refund_id is not None:
        console.print(f"  refund {case.refund_id}, released at {local_time(case.release_at_us)}")
    if case.device_id is not None:
        console.print(f"  device {case.device_id} / {case.sim_id}")
    console.print(f"  evidence: {_evidence(case) or '-'}")
    if case.decided_by is not None:
        console.print(
            f"  decided by {case.decided_by} at {local_time(case.decided_at_us)}: {case.note}"
        )
