"""``hongbao refunds show|list|credit``: where a refund's money is, when it arrives, and why
(R-F6); operators list refunds by state and credit failed payouts to the balance."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hongbao.entrypoints.cli.render import local_time, money_text
from hongbao.entrypoints.cli.session import DatabaseUrlOption, console, run
from hongbao.entrypoints.cli.writes import KeyOption, fresh_key, keyed, write
from hongbao.refunds.desk import MAX_LISTED
from hongbao.refunds.records import WHERE_THE_MONEY_IS, Refund, RefundState

refunds_app = typer.Typer(help="Refunds and where each one stands.", no_args_is_help=True)

WHERE = WHERE_THE_MONEY_IS


@refunds_app.command("show")
def refunds_show(refund_id: str, database_url: DatabaseUrlOption = None) -> None:
    """One refund: its route, amounts, where the money is now, when it arrives, why, and
    every ledger transfer it made on the way."""
    refund = run(database_url, lambda s: s.refunds.refund(refund_id))
    table = Table(title=f"refund {refund.id}", show_header=False)
    for label, value in _rows(refund):
        table.add_row(label, value)
    console.print(table)
    trace = Table(title="path of the money")
    for column in ("#", "transfer", "from", "to", "amount", "why"):
        trace.add_column(column)
    for number, hop in enumerate(refund.hops, start=1):
        amount = f"{money_text(hop.amount_minor, hop.currency)} {hop.currency}"
        trace.add_row(
            str(number), hop.transfer_id, hop.from_account_id, hop.to_account_id, amount, hop.note
        )
    console.print(trace)


@refunds_app.command("list")
def refunds_list(
    state: Annotated[
        RefundState | None, typer.Option("--state", help="which refunds (operators)")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="one sender's refunds")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_LISTED)] = 100,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Refunds in one state (operators, default: in clearing) or of one sender, oldest first."""
    if owner is not None and state is not None:
        raise typer.BadParameter("give --state or --owner, not both")
    wanted = state or RefundState.IN_CLEARING
    found = run(
        database_url,
        lambda s: s.refunds.of_owner(owner, limit) if owner else s.refunds.in_state(wanted, limit),
    )
    title = f"{len(found)} refund(s) of {owner}" if owner else f"{len(found)} refund(s) {wanted}"
    table = Table(title=title)
    for column in ("refund", "packet", "owner", "route", "amount", "state", "next (Beijing)"):
        table.add_column(column)
    for refund in found:
        table.add_row(
            refund.id,
            refund.packet_id,
            refund.owner_id,
            refund.route.value,
            money_text(refund.amount_minor, refund.currency),
            refund.state.value,
            local_time(_next_moment(refund)),
        )
    console.print(table)


@refunds_app.command("credit")
def refunds_credit(
    refund_id: str,
    operator: Annotated[str, typer.Option("--operator", help="who credits (recorded)")],
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Operators: credit a failed refund's whole amount to the sender's balance; a credited
    refund is not failed any more, so a second credit is refused and moves nothing."""

    def show(refund: Refund) -> None:
        console.print(
            f"refund {refund.id}: {WHERE[refund.state]}, "
            f"{money_text(refund.amount_minor, refund.currency)} {refund.currency} "
            f"to {refund.destination_account_id}"
        )

    command = keyed(
        "refunds.credit",
        key,
        fresh_key("refunds.credit"),
        {"refund": refund_id, "operator": operator},
    )
    write(database_url, command, lambda s: s.refunds.credit_to_balance(refund_id, operator), show)


def _next_moment(refund: Refund) -> int:
    """When something next happens to it (or happened last, once arrived)."""
    if refund.settled_at_us is not None:
        return refund.settled_at_us
    if refund.state is RefundState.FROZEN and refund.frozen_until_us is not None:
        return refund.frozen_until_us
    return refund.next_attempt_at_us or refund.arrives_at_us


def _rows(refund: Refund) -> list[tuple[str, str]]:
    rows = [
        ("packet", refund.packet_id),
        ("owner", refund.owner_id),
        ("because of", refund.trigger.value),
        ("route", refund.route.value + (" (smart routing)" if refund.substituted else "")),
        ("amount", money_text(refund.amount_minor, refund.currency)),
        ("fee", money_text(refund.fee_minor, refund.currency)),
        ("arrives with", money_text(refund.net_minor, refund.currency)),
        ("to", refund.destination_account_id),
        ("now", WHERE[refund.state]),
        ("arrives at (Beijing time)", local_time(refund.arrives_at_us)),
        ("why", refund.reason),
    ]
    if refund.card_currency is not None and refund.card_amount_minor is not None:
        card = refund.card_currency
        rows += [
            ("to the card", f"{money_text(refund.card_amount_minor, card)} {card}"),
            ("rate now / at send", f"{refund.rate_at_refund} / {refund.rate_at_send}"),
            (
                "rate source",
                f"{refund.rate_source} as of {local_time(refund.rate_at_refund_as_of_us or 0)}",
            ),
            (
                "FX difference",
                f"{money_text(refund.fx_difference_minor or 0, card)} {card} "
                "(kept by the FX position when positive)",
            ),
        ]
    if refund.frozen_until_us is not None:
        rows.append(("frozen until (Beijing time)", local_time(refund.frozen_until_us)))
    if refund.calendar is not None:
        rows.append(("business days from", refund.calendar))
    if refund.attempts or refund.last_error:
        rows.append(("declined payouts", f"{refund.attempts}, last: {refund.last_error}"))
    if refund.next_attempt_at_us is not None:
        rows.append(("next attempt (Beijing time)", local_time(refund.next_attempt_at_us)))
    if refund.settled_at_us is not None:
        rows.append(("arrived at (Beijing time)", local_time(refund.settled_at_us)))
    return rows
