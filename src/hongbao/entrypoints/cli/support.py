"""``hongbao support queue|show|answer|close``: the support desk's queue (R-U3), for operators.
Answers and closings are writes: each runs once under its ``--key`` and is kept on the case
as a note with the operator's name, the time and the text."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hongbao.entrypoints.cli.render import local_time
from hongbao.entrypoints.cli.session import DatabaseUrlOption, console, run
from hongbao.entrypoints.cli.writes import KeyOption, fresh_key, keyed, write
from hongbao.support.cases import Author, CaseState
from hongbao.support.service import MAX_QUEUE, CaseFile

support_app = typer.Typer(help="Support cases: the queue, answers (R-U3).", no_args_is_help=True)

OperatorOption = Annotated[str, typer.Option("--operator", help="who answers (recorded)")]
TextOption = Annotated[str, typer.Option("--text", help="the answer, or why it is closed")]


@support_app.command("queue")
def support_queue(
    state: CaseState = CaseState.OPEN,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_QUEUE)] = 50,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Cases in one state, oldest first (``open``: waiting for an answer)."""
    cases = run(database_url, lambda s: s.support.queue(state, limit))
    table = Table(title=f"{len(cases)} {state.value} support case(s)")
    for column in ("id", "user", "age band", "from", "packet", "opened", "question"):
        table.add_column(column, overflow="fold")
    for case in cases:
        table.add_row(
            case.id,
            case.user_id,
            case.age_band or "-",
            case.origin.value,
            case.packet_id or "-",
            local_time(case.opened_at_us),
            escape(case.question),
        )
    console.print(table)


@support_app.command("show")
def support_show(case_id: str, database_url: DatabaseUrlOption = None) -> None:
    """One case: its context (decision, packet, device, attempts) and its notes."""
    _print_file(run(database_url, lambda s: s.support.case(case_id)))


@support_app.command("answer")
def support_answer(
    case_id: str,
    operator: OperatorOption,
    text: TextOption,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Answer the person: they see it on their case in the console and the API."""
    write(
        database_url,
        keyed(
            "support.answer",
            key,
            fresh_key("support.answer"),
            {"case": case_id, "operator": operator, "text": text},
        ),
        lambda s: s.support.answer(case_id, operator, text),
        _print_file,
    )


@support_app.command("close")
def support_close(
    case_id: str,
    operator: OperatorOption,
    text: TextOption,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Close the case, saying why."""
    write(
        database_url,
        keyed(
            "support.close",
            key,
            fresh_key("support.close"),
            {"case": case_id, "operator": operator, "text": text},
        ),
        lambda s: s.support.close(case_id, (Author.OPERATOR, operator), text),
        _print_file,
    )


def _print_file(found: CaseFile) -> None:
    case = found.case
    console.print(f"[bold]{case.id}[/] {case.state.value}, from {case.origin.value}")
    console.print(
        f"  user {case.user_id} (age band {case.age_band or '-'}) on device {case.device_id}"
    )
    console.print(f"  packet {case.packet_id or '-'}, decision {case.decision_id or '-'}")
    for attempt in found.attempts:
        reasons = ", ".join(attempt.reasons) or "-"
        console.print(
            f"  attempt {attempt.decision_id} at {local_time(attempt.at_us)}: "
            f"{attempt.result} ({reasons})"
        )
    for note in found.notes:
        console.print(
            f"  {note.number}. {note.kind.value} by {note.author.value} {note.author_id} "
            f"at {local_time(note.at_us)}: {escape(note.text)}"
        )
