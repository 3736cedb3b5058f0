"""``hongbao ledger verify`` on real databases: exit 0 after the demo, non-zero on tampering.

Each test corrupts the database the way a bug or an attacker with SQL access would, bypassing
the append-only triggers where needed, and checks that verification names the offending row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from hongbao.entrypoints.cli.main import app

runner = CliRunner()
Tamper = Callable[[str], None]


def run_cli(*arguments: str) -> tuple[int, str]:
    result = runner.invoke(app, list(arguments), catch_exceptions=False)
    return result.exit_code, result.output


def execute(url: str, *statements: str) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(Path(url.removeprefix("sqlite:///"))) as connection:
            for statement in statements:
                connection.execute(statement)
        return
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def unguarded(url: str, table: str, statement: str) -> list[str]:
    """Run ``statement`` with the table's append-only trigger out of the way."""
    if url.startswith("sqlite"):
        return [
            f"DROP TRIGGER {table}_no_update",
            f"DROP TRIGGER {table}_no_delete",
            statement,
        ]
    return [
        f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only",
        statement,
        f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only",
    ]


TAMPERING: dict[str, tuple[Callable[[str], list[str]], str]] = {
    "a balance edited": (
        lambda url: [
            "UPDATE ledger_accounts SET credits_posted = credits_posted + 100 "
            "WHERE id = (SELECT MIN(id) FROM ledger_accounts WHERE kind = 'user_balance')"
        ],
        "currency_balance",
    ),
    "a transfer amount edited": (
        lambda url: unguarded(
            url,
            "ledger_transfers",
            "UPDATE ledger_transfers SET amount = amount + 1 "
            "WHERE id = (SELECT MIN(id) FROM ledger_transfers WHERE kind = 'posted')",
        ),
        "transfer_digest",
    ),
    "a posting deleted": (
        lambda url: unguarded(
            url,
            "ledger_postings",
            "DELETE FROM ledger_postings WHERE account_id = (SELECT MIN(account_id) "
            "FROM ledger_postings) AND sequence = 1",
        ),
        "journal_chain",
    ),
    "a posting's hash rewritten": (
        lambda url: unguarded(
            url,
            "ledger_postings",
            "UPDATE ledger_postings SET hash = '" + "f" * 64 + "' WHERE sequence = 1 "
            "AND account_id = (SELECT MIN(account_id) FROM ledger_postings)",
        ),
        "journal_chain",
    ),
    "a pending transfer reopened": (
        lambda url: [
            "UPDATE ledger_pending SET state = 'pending', resolved_by = NULL, "
            "resolved_at_us = NULL WHERE state = 'voided'"
        ],
        "pending_totals",
    ),
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo_url(request: pytest.FixtureRequest) -> str:
    """A database on which `hongbao demo` has run once."""
    url: str = request.getfixturevalue(
        "sqlite_url" if request.param == "sqlite" else "postgres_url"
    )
    code, output = run_cli("demo", "--database-url", url)
    assert code == 0, output
    return url


def test_verify_passes_after_the_demo(demo_url: str) -> None:
    code, output = run_cli("ledger", "verify", "--database-url", demo_url)
    assert code == 0, output
    assert "every invariant holds" in output


@pytest.mark.parametrize("corruption", sorted(TAMPERING))
def test_verify_fails_and_names_the_check_on_a_corrupted_database(
    demo_url: str, corruption: str
) -> None:
    statements, check = TAMPERING[corruption]
    execute(demo_url, *statements(demo_url))
    code, output = run_cli("ledger", "verify", "--database-url", demo_url)
    assert code == 1, output
    assert check in output
    assert "FAILED" in output


def test_the_journal_tables_refuse_updates_and_deletes(demo_url: str) -> None:
    for statement in (
        "UPDATE ledger_transfers SET amount = 1",
        "DELETE FROM ledger_postings",
        "DELETE FROM ledger_rejections",
    ):
        with pytest.raises((sqlite3.IntegrityError, psycopg.errors.IntegrityConstraintViolation)):
            execute(demo_url, statement)


def test_the_database_refuses_a_negative_user_balance(demo_url: str) -> None:
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.CheckViolation)):
        execute(
            demo_url,
            "UPDATE ledger_accounts SET debits_posted = credits_posted + 1 "
            "WHERE kind = 'user_balance'",
        )


def test_verify_on_an_unusable_database_url_is_an_error_not_a_pass() -> None:
    code, output = run_cli("ledger", "verify", "--database-url", "mysql://nowhere/db")
    assert code == 2
    assert "config.database_url" in output


def test_verify_on_an_unreachable_server_is_an_error_not_a_pass() -> None:
    url = "postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=2"
    code, output = run_cli("ledger", "verify", "--database-url", url)
    assert code == 2
    assert "storage.unavailable" in output
