"""The identity commands on a real SQLite file: load, inspect, refuse bad input with codes."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hongbao.entrypoints.cli.main import app

runner = CliRunner()


def run_cli(url: str, *arguments: str) -> tuple[int, str]:
    result = runner.invoke(
        app, [*arguments, "--database-url", url], env={"COLUMNS": "250"}, catch_exceptions=False
    )
    return result.exit_code, result.output


@pytest.fixture
def loaded(sqlite_url: str) -> str:
    code, output = run_cli(sqlite_url, "population", "load")
    assert code == 0, output
    assert "11 users" in output
    return sqlite_url


def test_the_population_loads_in_one_command_and_only_once(loaded: str) -> None:
    code, output = run_cli(loaded, "population", "load")
    assert (code, "already loaded" in output) == (0, True)
    code, output = run_cli(loaded, "users", "list")
    assert code == 0
    assert "zhou-qiang" in output


def test_a_user_shows_devices_with_their_derived_capabilities(loaded: str) -> None:
    """Devices and funding sources, each source with what it holds (nothing yet)."""
    code, output = run_cli(loaded, "users", "show", "li-wei")
    assert code == 0, output
    assert "Apple Watch" in output
    assert "li-wei-lingqiantong" in output
    assert "0.00" in output


def test_unknown_ids_and_invalid_cards_exit_2_with_a_stable_code(loaded: str) -> None:
    code, output = run_cli(loaded, "users", "show", "nobody")
    assert (code, "identity.unknown_user" in output) == (2, True)
    code, output = run_cli(
        loaded,
        "funding",
        "add-card",
        "li-wei",
        "li-wei-new",
        "--kind",
        "debit",
        "--number",
        "4111111111111112",
        "--bank",
        "ICBC",
    )
    assert (code, "identity.card_invalid" in output) == (2, True)
    assert "4111111111111112" not in output
    code, output = run_cli(
        loaded,
        "devices",
        "add",
        "chen-jie",
        "li-wei-iphone14pro",
        "sim-x",
        "--platform",
        "ios",
        "--os-version",
        "17.0",
        "--model",
        "iPhone 14 Pro",
    )
    assert (code, "identity.device_taken" in output) == (2, True)
    code, output = run_cli(
        loaded,
        "devices",
        "add",
        "chen-jie",
        "chen-new",
        "sim-x",
        "--platform",
        "ios",
        "--os-version",
        "17..0",
        "--model",
        "iPhone",
    )
    assert (code, "identity.version_malformed" in output) == (2, True)


def test_an_sms_challenge_round_trip_through_the_commands(loaded: str) -> None:
    device = ("li-wei", "li-wei-iphone14pro", "sim-li-wei-1", "recall:p-1")
    code, output = run_cli(loaded, "challenges", "open", "ch-1", *device)
    assert code == 0, output
    code, revealed = run_cli(loaded, "challenges", "reveal", "ch-1", "--operator", "ops-1")
    assert code == 0
    sms_code = revealed.strip()
    assert len(sms_code) == 6
    code, output = run_cli(loaded, "challenges", "answer", "ch-1", *device, "--answer", sms_code)
    assert (code, output.split(",")[0].strip()) == (0, "passed")


def test_groups_relationships_exemptions_and_enterprises_register_and_show(loaded: str) -> None:
    steps = [
        ("groups", "add", "g-new", "--name", "New team", "--type", "work", "--owner", "li-wei"),
        ("groups", "add-member", "g-new", "wang-fang"),
        ("users", "relate", "li-wei", "chen-jie", "--chat-rank", "4", "--intimacy", "77"),
        ("users", "exempt", "vip-li", "--kind", "vip", "--subject", "li-wei", "--reason", "trial"),
        (
            "users",
            "enterprise",
            "acme",
            "--name",
            "Acme",
            "--owner",
            "zhao-lei",
            "--corporate-account",
            "6222020000001234",
        ),
    ]
    for step in steps:
        code, output = run_cli(loaded, *step)
        assert code == 0, output
    code, output = run_cli(loaded, "groups", "show", "g-new")
    assert "wang-fang" in output
    code, output = run_cli(loaded, "users", "show", "li-wei")
    assert "chen-jie" in output
    assert "vip-li" in output
    assert "open-ended" in output
    code, output = run_cli(
        loaded, "users", "exempt", "vip-x", "--kind", "vip", "--subject", "nobody", "--reason", "x"
    )
    assert (code, "identity.unknown_user" in output) == (2, True)


def test_a_token_lifetime_over_thirty_days_is_refused_like_over_the_api(loaded: str) -> None:
    month = str(30 * 24 * 3600)
    code, output = run_cli(loaded, "tokens", "issue", "ops-demo", "--operator", "--lifetime", month)
    assert (code, output.startswith("hb1.")) == (0, True), output
    code, output = run_cli(
        loaded, "tokens", "issue", "ops-demo", "--operator", "--lifetime", str(int(month) + 1)
    )
    assert code == 2
    assert "--lifetime" in output


def test_tables_are_not_cut_at_80_columns_when_piped(loaded: str) -> None:
    """Without a terminal (and without COLUMNS) every id and amount is printed whole."""
    result = runner.invoke(app, ["users", "show", "li-wei", "--database-url", loaded], env={})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    assert "li-wei-lingqiantong" in result.output
    assert "esim-li-wei-watch" in result.output


def test_a_user_token_defaults_to_the_devices_registered_sim(loaded: str) -> None:
    """--sim may be left out: the SIM registered with the device is the one bound."""
    result = runner.invoke(
        app,
        ["tokens", "issue", "li-wei", "--device", "li-wei-watch", "--database-url", loaded],
        env={"HONGBAO_TOKEN_SECRET": "x" * 40},
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("hb1.")
