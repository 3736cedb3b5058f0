"""``hongbao refunds show|list``: where a refund's money is, when it arrives, and why (R-F6)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hongbao.bootstrap import Services
from hongbao.cli_identity import DatabaseUrlOption, console, run
from hongbao.cli_render import local_time, money_text
from hongbao.platform.errors import InvalidInput
from hongbao.refunds.records import Refund, RefundState

refunds_app = typer.Typer(help="Refunds and where each one stands.", no_args_is_help=True)

MAX_LISTED = 1_000
StateOption = Annotated[RefundState, typer.Option("--state", help="which refunds")]
WHERE = {
    RefundState.IN_CLEARING: "in refund clearing, on its way",
    RefundState.FROZEN: "in refund clearing, frozen until the money-market confirmation",
    RefundState.SETTLED: "arrived",
    RefundState.RELEASED: "arrived (released from the freeze)",
}


@refunds_app.command("show")
def refunds_show(refund_id: str, database_url: DatabaseUrlOption = None) -> None:
    """One refund: its route, amounts, where the money is now, when it arrives, and why."""

    def find(s: Services) -> Refund:
        found = s.database.read(lambda uow: uow.recalls.refunds.get(refund_id))
        if found is None:
            raise InvalidInput(f"no refund {refund_id!r}", code="refunds.unknown_refund")
        return found

    refund = run(database_url, find)
    table = Table(title=f"refund {refund.id}", show_header=False)
    for label, value in _rows(refund):
        table.add_row(label, value)
    console.print(table)


@refunds_app.command("list")
def refunds_list(
    state: Annotated[
        RefundState, typer.Option("--state", help="which refunds")
    ] = RefundState.IN_CLEARING,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_LISTED)] = 100,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Operators: refunds in one state, oldest first."""

    def listed(s: Services) -> list[Refund]:
        return s.database.read(
            lambda uow: uow.recalls.refunds.where(
                "state", state, limit=limit, order_by="created_at_us"
            )
        )

    found = run(database_url, listed)
    table = Table(title=f"{len(found)} refund(s) {state.value}")
    for column in ("refund", "packet", "owner", "route", "amount", "arrives (Beijing time)"):
        table.add_column(column)
    for refund in found:
        table.add_row(refund.id, refund.packet_id, refund.owner_id, refund.route.value,
                      money_text(refund.amount_minor, refund.currency),
                      local_time(refund.arrives_at_us))  # fmt: skip
    console.print(table)


def _rows(refund: Refund) -> list[tuple[str, str]]:
    rows = [
        ("packet", refund.packet_id),
        ("owner", refund.owner_id),
        ("route", refund.route.value + (" (smart routing)" if refund.substituted else "")),
        ("amount", money_text(refund.amount_minor, refund.currency)),
        ("fee", money_text(refund.fee_minor, refund.currency)),
        ("arrives with", money_text(refund.net_minor, refund.currency)),
        ("to", refund.destination_account_id),
        ("now", WHERE[refund.state]),
        ("arrives at (Beijing time)", local_time(refund.arrives_at_us)),
        ("why this route", refund.reason),
    ]
    if refund.frozen_until_us is not None:
        rows.append(("frozen until (Beijing time)", local_time(refund.frozen_until_us)))
    if refund.calendar is not None:
        rows.append(("business days from", refund.calendar))
    if refund.settled_at_us is not None:
        rows.append(("arrived at (Beijing time)", local_time(refund.settled_at_us)))
    return rows
