"""``hongbao budgets`` on a real SQLite file: open, allocate, show, tree and close a budget tree,
with refusals shown with their code."""

from __future__ import annotations

from typer.testing import CliRunner

from hongbao.bootstrap import open_services
from hongbao.entrypoints.cli.main import app
from hongbao.entrypoints.population import load_population
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest

runner = CliRunner()


def run_cli(url: str, *arguments: str) -> tuple[int, str]:
    result = runner.invoke(
        app, [*arguments, "--database-url", url], env={"COLUMNS": "200"}, catch_exceptions=False
    )
    return result.exit_code, result.output


def funded_enterprise(url: str) -> None:
    """The demo population, with 1,000.00 in the enterprise xinghe-tech's balance."""
    services = open_services(url)
    load_population(services.identity, services.funding, services.social)
    services.ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    services.ledger.transfer(
        TransferRequest("top-up", 1, 1_000_00, "bank", "user:xinghe-tech:balance", "CNY")
    )
    services.close()


def test_a_budget_tree_is_built_shown_and_closed_from_the_command_line(sqlite_url: str) -> None:
    funded_enterprise(sqlite_url)
    code, opened = run_cli(
        sqlite_url,
        "budgets",
        "open",
        "xh-2026",
        "--enterprise",
        "xinghe-tech",
        "--amount",
        "800.00",
    )
    assert code == 0, opened
    assert "xh-2026 (root, held by xinghe-tech): 800.00 CNY, open" in opened
    code, allocated = run_cli(
        sqlite_url,
        "budgets",
        "allocate",
        "xh-east",
        "--parent",
        "xh-2026",
        "--holder",
        "li-wei",
        "--amount",
        "300.00",
    )
    assert code == 0, allocated
    assert "--source budget:xh-east" in allocated
    run_cli(
        sqlite_url,
        "budgets",
        "allocate",
        "xh-east-1",
        "--parent",
        "xh-east",
        "--holder",
        "liu-yang",
        "--amount",
        "50.00",
    )

    code, shown = run_cli(sqlite_url, "budgets", "show", "xh-east")
    assert code == 0, shown
    for expected in ("li-wei", "xh-2026", "250.00 CNY", "budget:xh-east", "xh-east-1"):
        assert expected in shown
    code, tree = run_cli(sqlite_url, "budgets", "tree", "xh-2026")
    assert code == 0, tree
    assert (
        tree.index("xh-2026 (root")
        < tree.index("xh-east (level 1")
        < tree.index("xh-east-1 (level 2, held by liu-yang): 50.00 CNY, open")
    )

    code, refused = run_cli(sqlite_url, "budgets", "close", "xh-east")
    assert (code, "distribution.has_open_children" in refused) == (2, True)
    code, closed = run_cli(sqlite_url, "budgets", "close", "xh-east-1")
    assert code == 0, closed
    assert "its remainder went back to xh-east" in closed
    code, tree = run_cli(sqlite_url, "budgets", "tree", "xh-2026")
    assert "xh-east-1 (level 2, held by liu-yang): 0.00 CNY, closed" in tree
    assert "xh-east (level 1, held by li-wei): 300.00 CNY, open" in tree
    code, verified = run_cli(sqlite_url, "ledger", "verify")
    assert code == 0, verified


def test_refusals_are_shown_with_their_code(sqlite_url: str) -> None:
    funded_enterprise(sqlite_url)
    code, refused = run_cli(
        sqlite_url, "budgets", "open", "b", "--enterprise", "li-wei", "--amount", "1.00"
    )
    assert (code, "distribution.not_enterprise" in refused) == (2, True)
    code, missing = run_cli(sqlite_url, "budgets", "show", "nope")
    assert (code, "distribution.unknown_budget" in missing) == (2, True)
    code, malformed = run_cli(
        sqlite_url, "budgets", "open", "b", "--enterprise", "xinghe-tech", "--amount", "1.001"
    )
    assert (code, "money.too_precise" in malformed) == (2, True)
