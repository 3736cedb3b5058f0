"""``hongbao incidents list|show|resolve``: reconciliation incidents (R-X2) for operators."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hongbao.entrypoints.cli.render import local_time
from hongbao.entrypoints.cli.session import DatabaseUrlOption, console, run
from hongbao.entrypoints.cli.writes import KeyOption, fresh_key, keyed, write
from hongbao.recall.incidents import (
    MAX_LISTED,
    IncidentState,
    incident,
    list_incidents,
    resolve_incident,
)
from hongbao.recall.records import Incident

incidents_app = typer.Typer(
    help="Reconciliation incidents: a packet whose record and escrow disagree.",
    no_args_is_help=True,
)


@incidents_app.command("list")
def incidents_list(
    state: Annotated[
        IncidentState | None, typer.Option("--state", help="open or closed; default: both")
    ] = None,
    packet: Annotated[str | None, typer.Option("--packet", help="one packet's")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_LISTED)] = 100,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Incidents in id order, in one state or of one packet when asked."""
    found = run(
        database_url,
        lambda s: list_incidents(s.database, state=state, packet_id=packet, limit=limit),
    )
    table = Table(title=f"{len(found)} incident(s)")
    for column in ("incident", "packet", "state", "opened (Beijing)", "resolved by", "detail"):
        table.add_column(column)
    for item in found:
        table.add_row(
            item.id,
            item.packet_id,
            item.state,
            local_time(item.opened_at_us),
            item.resolved_by or "-",
            item.detail,
        )
    console.print(table)


@incidents_app.command("show")
def incidents_show(incident_id: str, database_url: DatabaseUrlOption = None) -> None:
    """One incident: what disagreed and, once resolved, who resolved it, when and how."""
    found = run(database_url, lambda s: incident(s.database, incident_id))
    _print(found)


@incidents_app.command("resolve")
def incidents_resolve(
    incident_id: str,
    by: Annotated[str, typer.Option("--by", help="the operator resolving it (recorded)")],
    note: Annotated[str, typer.Option("--note", help="how it was resolved (recorded)")],
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Operators: close an open incident with a note; who and when are recorded."""
    write(
        database_url,
        keyed(
            "incidents.resolve",
            key,
            fresh_key("incidents.resolve"),
            {"incident": incident_id, "by": by, "note": note},
        ),
        lambda s: resolve_incident(
            s.database, incident_id, resolved_by=by, resolution=note, now_us=s.clock.now_us()
        ),
        _print,
    )


def _print(item: Incident) -> None:
    table = Table(title=f"incident {item.id}", show_header=False)
    rows = [
        ("packet", item.packet_id),
        ("decision", item.decision_id),
        ("state", item.state),
        ("detail", item.detail),
        ("opened (Beijing time)", local_time(item.opened_at_us)),
        ("resolved (Beijing time)", local_time(item.closed_at_us)),
        ("resolved by", item.resolved_by or "-"),
        ("resolution", item.resolution or "-"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)
