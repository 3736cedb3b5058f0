"""Commands that write go through the one pipeline: a repeat under a key prints the first
answer again and moves nothing, a refusal is kept like an answer, and a key names one command."""

from __future__ import annotations

from typer.testing import CliRunner

from hongbao.bootstrap import open_services
from hongbao.entrypoints.cli.main import app
from hongbao.entrypoints.population import load_population
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest

runner = CliRunner()
SENDER = "li-wei"


def run_cli(url: str, *arguments: str) -> tuple[int, str]:
    result = runner.invoke(
        app, [*arguments, "--database-url", url], env={"COLUMNS": "200"}, catch_exceptions=False
    )
    return result.exit_code, result.output


def funded(url: str, user: str, amount_minor: int) -> None:
    """The demo population, with ``amount_minor`` in ``user``'s balance."""
    services = open_services(url)
    try:
        load_population(services.identity, services.funding, services.social)
        services.ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
        services.ledger.transfer(
            TransferRequest("top-up", 1, amount_minor, "bank", f"user:{user}:balance", "CNY")
        )
    finally:
        services.close()


def balance_of(url: str, user: str) -> int:
    services = open_services(url)
    try:
        account = services.ledger.account(f"user:{user}:balance")
        return account.credit_balance
    finally:
        services.close()


def send(url: str, packet_id: str, amount: str, *more: str) -> tuple[int, str]:
    command = f"packets send {packet_id} --from {SENDER} --amount {amount} --shares 2"
    return run_cli(url, *command.split(), "--group", "li-family", *more)


def test_a_send_repeated_prints_the_first_answer_and_moves_the_money_once(
    sqlite_url: str,
) -> None:
    funded(sqlite_url, SENDER, 100_00)
    first = send(sqlite_url, "p-cli-once", "8.88")
    again = send(sqlite_url, "p-cli-once", "8.88")
    assert first[0] == 0, first[1]
    assert again == first
    assert balance_of(sqlite_url, SENDER) == 100_00 - 8_88


def test_a_key_reused_for_another_command_is_refused_and_changes_nothing(
    sqlite_url: str,
) -> None:
    funded(sqlite_url, SENDER, 100_00)
    assert send(sqlite_url, "p-cli-a", "5.00", "--key", "k-shared")[0] == 0
    code, output = send(sqlite_url, "p-cli-b", "6.00", "--key", "k-shared")
    assert code == 2
    assert "idempotency.key_reused" in output
    assert balance_of(sqlite_url, SENDER) == 100_00 - 5_00


def test_a_refusal_is_kept_under_a_key_the_operator_gave(sqlite_url: str) -> None:
    """Refused for want of money under --key: after a top-up the same key still answers the
    refusal, as a retry must never turn a refused request into a different one."""
    funded(sqlite_url, SENDER, 1_00)
    refused = send(sqlite_url, "p-cli-big", "50.00", "--key", "k-big")
    assert refused[0] == 2
    assert "insufficient" in refused[1]
    top_up(sqlite_url, 100_00)
    assert send(sqlite_url, "p-cli-big", "50.00", "--key", "k-big") == refused
    code, output = send(sqlite_url, "p-cli-big", "50.00", "--key", "k-after-top-up")
    assert code == 0, output
    assert balance_of(sqlite_url, SENDER) == 101_00 - 50_00


def test_under_its_default_key_a_refused_command_may_be_put_right(sqlite_url: str) -> None:
    """The id is the default key, and a refusal moved nothing: the same id, corrected (or once
    the money is there), runs."""
    funded(sqlite_url, SENDER, 1_00)
    refused = send(sqlite_url, "p-cli-later", "50.00")
    assert refused[0] == 2
    top_up(sqlite_url, 100_00)
    code, output = send(sqlite_url, "p-cli-later", "50.00")
    assert code == 0, output
    assert balance_of(sqlite_url, SENDER) == 101_00 - 50_00


def top_up(url: str, amount_minor: int) -> None:
    services = open_services(url)
    try:
        services.ledger.transfer(
            TransferRequest("more", 1, amount_minor, "bank", f"user:{SENDER}:balance", "CNY")
        )
    finally:
        services.close()


def test_commands_without_an_id_of_their_own_act_anew_each_run(sqlite_url: str) -> None:
    """Setting a status twice from the console acts twice (a fresh key per run), so a user
    frozen, released and frozen again ends frozen."""
    funded(sqlite_url, SENDER, 1_00)
    for status in ("frozen", "normal", "frozen"):
        reason = ["--reason", "review"] if status == "frozen" else []
        code, output = run_cli(sqlite_url, "users", "set-status", SENDER, status, *reason)
        assert code == 0, output
        assert f"{SENDER} is {status}" in output
