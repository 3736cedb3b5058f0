"""``hongbao recall``, ``hongbao explain`` and ``hongbao decisions`` on a real SQLite file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hongbao.entrypoints.cli.main import app
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.service import Ledger
from hongbao.platform.clock import SystemClock
from hongbao.storage.factory import open_database

runner = CliRunner()
PHONE = ("--device", "li-wei-iphone14pro")


def run_cli(url: str, *arguments: str) -> tuple[int, str]:
    result = runner.invoke(
        app, [*arguments, "--database-url", url], env={"COLUMNS": "250"}, catch_exceptions=False
    )
    return result.exit_code, result.output


@pytest.fixture
def sent(sqlite_url: str, blackout_away_from_now: Path) -> str:
    """li-wei's packet r-1, with the commands' policy deciding alike at any hour."""
    del blackout_away_from_now
    assert run_cli(sqlite_url, "population", "load")[0] == 0
    database = open_database(sqlite_url)
    ledger = Ledger(database, SystemClock())
    ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    ledger.transfer(TransferRequest("top-up", 1, 500_00, "bank", "user:li-wei:balance", "CNY"))
    database.close()
    send = (
        "packets",
        "send",
        "r-1",
        "--from",
        "li-wei",
        "--amount",
        "30.00",
        "--shares",
        "3",
        "--type",
        "group_normal",
        "--group",
        "xinghe-team",
        *PHONE,
    )
    code, output = run_cli(sqlite_url, *send)
    assert code == 0, output
    return sqlite_url


def test_the_button_asks_for_an_sms_check_in_both_languages(sent: str) -> None:
    code, output = run_cli(
        sent, "recall", "eligibility", "r-1", "--as", "li-wei", *PHONE, "--lang", "en"
    )
    assert code == 0, output
    assert output.startswith("challenge")
    assert "SMS" in output
    assert "The unclaimed 30.00 yuan goes back to your balance, at once, no fee." in output
    code, output = run_cli(sent, "recall", "eligibility", "r-1", "--as", "li-wei", *PHONE)
    assert "短信" in output
    assert "未领取的 30.00 元将退回零钱" in output


def test_a_recall_through_the_commands_challenges_then_executes_after_the_code(sent: str) -> None:
    request = ("recall", "request", "r-1", "--as", "li-wei", *PHONE, "--key", "rk-1")
    code, output = run_cli(sent, *request, "--lang", "en")
    assert (code, "challenged" in output) == (0, True), output
    database = open_database(sent)
    recall = database.read(lambda uow: uow.recalls.recalls.get("rk-1"))
    database.close()
    (challenge_id,) = recall.challenge_ids
    code, revealed = run_cli(sent, "challenges", "reveal", challenge_id, "--operator", "ops")
    assert code == 0, revealed
    sms = re.findall(r"\b\d{6}\b", revealed)[-1]
    answer = runner.invoke(
        app,
        [
            "challenges",
            "answer",
            challenge_id,
            "li-wei",
            "li-wei-iphone14pro",
            "sim-li-wei-1",
            recall.challenge_purpose,
            "--answer",
            sms,
            "--database-url",
            sent,
        ],
        env={"COLUMNS": "250"},
        catch_exceptions=False,
    )
    assert answer.exit_code == 0, answer.output
    code, output = run_cli(sent, *request, "--lang", "en")
    assert "done, 30.00 CNY back (refund), refund recall:r-1" in output, output
    code, status = run_cli(sent, "recall", "status", "rk-1", "--lang", "en")
    assert "done" in status


def test_explain_prints_the_rule_trace_and_a_what_if_in_the_blackout(
    sent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HONGBAO_POLICY")  # the default blackout, 23:50 to 00:10, asked about
    explain = ("explain", "r-1", "--as", "li-wei", *PHONE, "--lang", "en")
    code, output = run_cli(sent, *explain)
    assert code == 0, output
    assert "outside_settlement_blackout" in output
    assert "from_the_sending_device" in output
    # The risk decision: its level, actions, exemptions and policy version (R-K1).
    for fact in ("level=0", "actions=none", "exemptions=none", "risk_policy="):
        assert fact in output, fact
    code, output = run_cli(sent, *explain, "--at", "2026-11-29T23:55")
    assert "time.settlement_blackout" in output
    assert "not recorded" in output


def test_a_recorded_decision_can_be_shown_again(sent: str) -> None:
    code, output = run_cli(
        sent, "recall", "eligibility", "r-1", "--as", "zhao-lei", *PHONE, "--sim", "sim-li-wei-1"
    )
    decision_id = re.findall(r"decision (d-[0-9a-f]+)", output)[-1]
    code, shown = run_cli(sent, "decisions", "show", decision_id, "--lang", "en")
    assert code == 0, shown
    assert "permission.not_sender" in shown
    assert decision_id in shown


def test_explain_calls_a_personal_packet_claimed_in_full_claimed_in_full(sent: str) -> None:
    """The same cause and step as the API and the console: not "partially claimed"."""
    send = ("packets", "send", "r-2", "--from", "li-wei", "--amount", "6.66", *PHONE)
    code, output = run_cli(sent, *send, "--type", "personal", "--to", "liu-yang")
    assert code == 0, output
    assert run_cli(sent, "packets", "claim", "r-2", "liu-yang")[0] == 0
    code, output = run_cli(sent, "explain", "r-2", "--as", "li-wei", *PHONE, "--lang", "en")
    assert code == 0, output
    assert "claimed in full" in output
    assert "transfer it back" in output
    assert "partially" not in output
    code, output = run_cli(sent, "explain", "r-2", "--as", "li-wei", *PHONE)
    assert "红包已被全部领完" in output


def test_explain_names_a_reported_device_condition_and_its_step(sent: str) -> None:
    """R-D6 from the command line: --condition reports what the device says about itself."""
    database = open_database(sent)
    Ledger(database, SystemClock()).transfer(
        TransferRequest("top-up-liu", 1, 100_00, "bank", "user:liu-yang:balance", "CNY")
    )
    database.close()
    xiaomi = ("--device", "liu-yang-xiaomi13u")
    send = ("packets", "send", "r-3", "--from", "liu-yang", "--amount", "6.00", *xiaomi)
    code, output = run_cli(sent, *send, "--shares", "2", "--group", "xinghe-team")
    assert code == 0, output
    explain = ("explain", "r-3", "--as", "liu-yang", *xiaomi, "--lang", "en")
    code, output = run_cli(sent, *explain, "--condition", "game_acceleration")
    assert code == 0, output
    assert "device_conditions_clear" in output
    assert "Turn game acceleration off" in output
    code, output = run_cli(sent, *explain)
    assert "Turn game acceleration off" not in output
    code, output = run_cli(sent, *explain, "--condition", "airplane_mode")
    assert code != 0
