"""``hongbao social show|group``: a user's standing and a group's senders from the command line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hongbao.bootstrap import open_services
from hongbao.entrypoints.cli.main import app
from hongbao.entrypoints.population import load_population
from hongbao.identity.devices import DeviceFingerprint
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import SendPacket
from hongbao.social.consequences import RecalledPacket
from hongbao.social.effects import apply_recall

runner = CliRunner()
PHONE = ("li-wei-iphone14pro", "sim-li-wei-1")


def run_cli(url: str, *arguments: str) -> tuple[int, str]:
    result = runner.invoke(
        app, [*arguments, "--database-url", url], env={"COLUMNS": "250"}, catch_exceptions=False
    )
    return result.exit_code, result.output


def test_social_show_lists_the_score_the_weights_and_the_changes(sqlite_url: str) -> None:
    services = open_services(sqlite_url)
    load_population(services.identity, services.funding, services.social)
    now_us = services.clock.now_us()
    for number in range(3):
        recalled = RecalledPacket(
            f"e-{number}", f"p-{number}", "li-wei", "zhao-lei", None, 5_00, now_us + number
        )
        services.database.transact(
            lambda uow, recalled=recalled: apply_recall(uow, recalled, services.policy, now_us)
        )
    services.close()
    code, output = run_cli(sqlite_url, "social", "show", "li-wei")
    assert code == 0, output
    assert "social payment score 790 of 1000" in output  # the third recall of the day: -10
    assert "daily_excess" in output
    assert "zhao-lei" in output
    assert "250" in output  # 1000 - 3 x 250 per mille
    assert "50.00" in output  # what one packet to zhao-lei may hold now
    code, output = run_cli(sqlite_url, "social", "group", "xinghe-team")
    assert code == 0, output
    assert "4 recalls within 24 h" in output


def test_social_show_of_an_unknown_user_exits_2(sqlite_url: str) -> None:
    code, output = run_cli(sqlite_url, "social", "show", "nobody")
    assert code == 2, output


def test_the_recall_button_warns_what_the_recall_would_cost(
    sqlite_url: str, blackout_away_from_now: Path
) -> None:
    del blackout_away_from_now  # the commands decide alike at any hour
    services = open_services(sqlite_url)
    load_population(services.identity, services.funding, services.social)
    services.ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    services.ledger.transfer(
        TransferRequest("top-up", 1, 500_00, "bank", "user:li-wei:balance", "CNY")
    )
    services.packets.send(
        SendPacket(
            "r-1",
            PacketType.PERSONAL,
            "li-wei",
            Money.of(5_00, "CNY"),
            1,
            "li-wei-balance",
            recipient_id="liu-yang",
            device=DeviceFingerprint(*PHONE),
        )
    )
    services.close()
    asked = ("recall", "eligibility", "r-1", "--as", "li-wei", "--device", PHONE[0])
    code, output = run_cli(sqlite_url, *asked, "--sim", PHONE[1], "--lang", "en")
    assert code == 0, output
    assert output.startswith("challenge")  # the decision is the same as without the warning
    assert "relationship weight with them drops to 750‰ (at most 150.00 per packet)" in output
    code, output = run_cli(sqlite_url, *asked, "--sim", PHONE[1])
    assert "亲密度将下降8点" in output
