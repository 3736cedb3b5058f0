"""The send-time guard on the command line (R-B1): a stopped send prints its reasons and exits
with 2 having moved nothing; ``--deliver-at`` schedules it under the same default key,
``cancel-scheduled`` releases it, ``guard-decision`` explains the decision. The policy's night
window is moved around the wall clock's now, so the commands decide alike at any hour."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hongbao.bootstrap import open_services
from tests.integration.test_cli_writes import balance_of, funded, run_cli

BEIJING = ZoneInfo("Asia/Shanghai")
SENDER = "li-wei"


@pytest.fixture
def night_around_now(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The default policy with its night window from an hour ago to an hour from now; returns
    now in Beijing time."""
    default = Path(__file__).parents[2] / "src" / "hongbao" / "policy" / "default.toml"
    now = datetime.now(tz=BEIJING)
    text = default.read_text()
    text = text.replace(
        'night_start = "22:00"', f'night_start = "{now - timedelta(hours=1):%H:%M}"'
    )
    text = text.replace('night_end = "06:00"', f'night_end = "{now + timedelta(hours=1):%H:%M}"')
    assert 'night_end = "06:00"' not in text, "test setup: the night window moved"
    path = tmp_path / "policy-night-now.toml"
    path.write_text(text)
    monkeypatch.setenv("HONGBAO_POLICY", str(path))
    return now


def reserved(url: str) -> int:
    """What the sender's balance holds back for delayed sends (pending transfers)."""
    services = open_services(url)
    try:
        return services.ledger.account(f"user:{SENDER}:balance").debits_pending
    finally:
        services.close()


def send(url: str, *more: str) -> tuple[int, str]:
    command = f"packets send p-late --from {SENDER} --amount 250.00 --type group_normal --shares 5"
    return run_cli(url, *command.split(), "--group", "xinghe-team", *more)


def test_a_stopped_send_is_delayed_and_cancelled_from_the_command_line(
    sqlite_url: str, night_around_now: datetime
) -> None:
    funded(sqlite_url, SENDER, 1_000_00)
    code, output = send(sqlite_url)
    assert code == 2, output
    assert "confirmation needed" in output
    assert "a large amount (250.00, at least 200.00)" in output
    assert balance_of(sqlite_url, SENDER) == 1_000_00
    assert send(sqlite_url) == (code, output)  # kept under the key: the same answer again

    decision_id = re.search(r"decision (guard-[0-9a-f]+)", output)
    assert decision_id is not None
    code, shown = run_cli(sqlite_url, "packets", "guard-decision", decision_id[1])
    assert code == 0, shown
    assert "confirmation_needed" in shown
    assert "regret score" in shown

    later = (night_around_now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    code, scheduled = send(sqlite_url, "--deliver-at", later)
    assert code == 0, scheduled
    assert "scheduled p-late" in scheduled
    assert reserved(sqlite_url) == 250_00
    code, cancelled = run_cli(sqlite_url, "packets", "cancel-scheduled", "p-late", "--as", SENDER)
    assert code == 0, cancelled
    assert "no fee" in cancelled
    assert (balance_of(sqlite_url, SENDER), reserved(sqlite_url)) == (1_000_00, 0)
