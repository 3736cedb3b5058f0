"""``hongbao budgets open|allocate|top-up|close|show|tree``: distribution budgets (多级分销)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from hongbao.bootstrap import Services
from hongbao.distribution.model import Budget
from hongbao.distribution.service import DistributionService
from hongbao.entrypoints.cli.render import local_time
from hongbao.entrypoints.cli.session import DatabaseUrlOption, console, run
from hongbao.entrypoints.cli.writes import (
    CliCommand,
    KeyOption,
    fresh_key,
    keyed,
    natural_key,
    write,
)
from hongbao.money import Money

budgets_app = typer.Typer(
    help="Distribution budgets (多级分销): open, allocate, close, inspect.", no_args_is_help=True
)

AmountOption = Annotated[str, typer.Option("--amount", help='e.g. "1000.00" (CNY)')]


def _service(services: Services) -> DistributionService:
    return DistributionService(services.database, services.clock)


def _summary(budget: Budget, balance: Money) -> str:
    level = "root" if budget.is_root else f"level {budget.level}"
    return f"{budget.id} ({level}, held by {budget.holder_id}): {balance.format()} CNY, " + (
        budget.state.value
    )


@budgets_app.command("open")
def budgets_open(
    budget_id: str,
    enterprise: Annotated[str, typer.Option("--enterprise", help="an enterprise user id")],
    amount: AmountOption,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Fund a root budget from an enterprise's balance (the id is the default key)."""

    def work(s: Services) -> tuple[Budget, Money]:
        # Parsed inside run(): a malformed amount is reported with its code, like any refusal.
        service = _service(s)
        budget = service.open_root(budget_id, enterprise, Money.parse(amount, "CNY"))
        return budget, service.balance(budget.id)

    command = keyed(
        "budgets.open",
        key,
        natural_key("budgets.open", budget_id),
        {"budget": budget_id, "enterprise": enterprise, "amount": amount},
    )
    write(database_url, command, work, lambda opened: console.print("opened " + _summary(*opened)))


@budgets_app.command("allocate")
def budgets_allocate(
    budget_id: str,
    parent: Annotated[str, typer.Option("--parent", help="the budget the money comes from")],
    holder: Annotated[str, typer.Option("--holder", help="the distributor's user id")],
    amount: AmountOption,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Allocate a child budget to a distributor (the id is the default key); the holder
    can then send packets with ``--source budget:BUDGET_ID``."""

    def work(s: Services) -> tuple[Budget, Money]:
        service = _service(s)
        budget = service.allocate(budget_id, parent, holder, Money.parse(amount, "CNY"))
        return budget, service.balance(budget.id)

    def show(allocated: tuple[Budget, Money]) -> None:
        budget, balance = allocated
        console.print(
            f"allocated {_summary(budget, balance)}; send from it with --source {budget.source_id}"
        )

    command = keyed(
        "budgets.allocate",
        key,
        natural_key("budgets.allocate", budget_id),
        {"budget": budget_id, "parent": parent, "holder": holder, "amount": amount},
    )
    write(database_url, command, work, show)


@budgets_app.command("top-up")
def budgets_top_up(
    budget_id: str,
    key: Annotated[str, typer.Option("--key", help="idempotency key of this top-up")],
    amount: AmountOption,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Move more money into an open budget from its parent (the enterprise for the root)."""
    write(
        database_url,
        CliCommand("budgets.top-up", key, {"budget": budget_id, "amount": amount}),
        lambda s: _service(s).top_up(key, budget_id, Money.parse(amount, "CNY")),
        lambda balance: console.print(f"{budget_id} now holds {balance.format()} CNY"),
    )


@budgets_app.command("close")
def budgets_close(
    budget_id: str, key: KeyOption = None, database_url: DatabaseUrlOption = None
) -> None:
    """Close a budget without open children; what it holds goes back one level up. Closing
    it again is refused by the budget itself (it is closed)."""

    def show(budget: Budget) -> None:
        back_to = budget.parent_id or f"the balance of {budget.enterprise_id}"
        console.print(
            f"closed {budget.id} at {local_time(budget.closed_at_us)}; "
            f"its remainder went back to {back_to}"
        )

    command = keyed("budgets.close", key, fresh_key("budgets.close"), {"budget": budget_id})
    write(database_url, command, lambda s: _service(s).close(budget_id), show)


@budgets_app.command("show")
def budgets_show(budget_id: str, database_url: DatabaseUrlOption = None) -> None:
    """One budget: who holds it, where it sits in the tree, what it holds, its children."""

    def gather(s: Services) -> tuple[Budget, Money, list[Budget]]:
        service = _service(s)
        return service.budget(budget_id), service.balance(budget_id), service.children(budget_id)

    budget, balance, children = run(database_url, gather)
    table = Table(title=f"budget {budget.id}", show_header=False)
    rows = [
        ("enterprise", budget.enterprise_id),
        ("holder", budget.holder_id),
        ("parent", budget.parent_id or "- (root)"),
        ("level", str(budget.level)),
        ("state", budget.state.value),
        ("balance", f"{balance.format()} {balance.currency}"),
        ("ledger account", budget.account_id),
        ("funding source", budget.source_id),
        ("opened (Beijing time)", local_time(budget.created_at_us)),
        ("closed (Beijing time)", local_time(budget.closed_at_us)),
        ("children", ", ".join(child.id for child in children) or "-"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)


@budgets_app.command("tree")
def budgets_tree(budget_id: str, database_url: DatabaseUrlOption = None) -> None:
    """A budget and everything allocated below it, with balances and states."""
    found = run(database_url, lambda s: _service(s).tree(budget_id))
    nodes: dict[str, Tree] = {}
    root: Tree | None = None
    for budget, balance in found:
        label = escape(_summary(budget, balance))
        parent = nodes.get(budget.parent_id or "")
        node = parent.add(label) if parent is not None else Tree(label)
        if root is None:
            root = node
        nodes[budget.id] = node
    console.print(root)
