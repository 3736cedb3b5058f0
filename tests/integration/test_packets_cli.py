"""``hongbao packets`` on a real SQLite file with the demo population."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hongbao.entrypoints.cli.main import app
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.service import Ledger
from hongbao.platform.clock import SystemClock
from hongbao.storage.factory import open_database

runner = CliRunner()


def run_cli(url: str, *arguments: str) -> tuple[int, str]:
    result = runner.invoke(
        app, [*arguments, "--database-url", url], env={"COLUMNS": "200"}, catch_exceptions=False
    )
    return result.exit_code, result.output


@pytest.fixture
def funded(sqlite_url: str) -> str:
    assert run_cli(sqlite_url, "population", "load")[0] == 0
    database = open_database(sqlite_url)
    ledger = Ledger(database, SystemClock())
    ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    ledger.transfer(TransferRequest("top-up", 1, 500_00, "bank", "user:li-wei:balance", "CNY"))
    database.close()
    return sqlite_url


def test_send_claim_show_and_history_through_the_commands(funded: str) -> None:
    send = ("send", "lucky-1", "--from", "li-wei", "--amount", "88.88", "--shares", "3")
    code, output = run_cli(funded, "packets", *send, "--group", "xinghe-team")
    assert (code, "88.88 in 3 share(s)" in output) == (0, True)
    code, claimed = run_cli(funded, "packets", "claim", "lucky-1", "liu-yang")
    assert claimed.startswith("claimed")
    code, again = run_cli(funded, "packets", "claim", "lucky-1", "liu-yang")
    assert again.replace("already_claimed", "claimed") == claimed
    code, output = run_cli(funded, "packets", "claim", "lucky-1", "wang-fang")
    assert output.strip() == "not_a_member"
    code, output = run_cli(funded, "packets", "show", "lucky-1", "--as", "li-wei")
    assert "1/3 claimed" in output
    assert "liu-yang" in output
    code, output = run_cli(funded, "packets", "show", "lucky-1", "--as", "wang-fang")
    assert "liu-yang" not in output  # claims are private to the sender and the claimers
    code, output = run_cli(funded, "packets", "history", "liu-yang")
    assert "lucky-1" in output


def test_bad_amounts_and_refusals_exit_2_with_their_code(funded: str) -> None:
    code, output = run_cli(funded, "packets", "send", "x", "--from", "li-wei", "--amount", "1.234")
    assert (code, "money.too_precise" in output) == (2, True)
    personal = ("send", "x", "--from", "chen-jie", "--amount", "5.00", "--type", "personal")
    code, output = run_cli(funded, "packets", *personal, "--to", "li-wei")
    assert (code, "packets.insufficient_funds" in output) == (2, True)


def test_a_card_funded_packet_shows_its_hold_and_verify_checks_packets(funded: str) -> None:
    send = (
        "send",
        "card-1",
        "--from",
        "li-wei",
        "--amount",
        "30.00",
        "--shares",
        "3",
        "--type",
        "group_normal",
    )
    code, output = run_cli(
        funded, "packets", *send, "--group", "xinghe-team", "--source", "li-wei-icbc"
    )
    assert code == 0, output
    assert run_cli(funded, "packets", "claim", "card-1", "liu-yang")[1].startswith("claimed")
    code, output = run_cli(funded, "packets", "show", "card-1", "--as", "li-wei")
    assert "card hold: 10.00 of 30.00 charged" in output, output
    code, output = run_cli(funded, "ledger", "verify")
    assert code == 0, output
    assert "every packet matches its escrow" in output
