"""``hongbao incidents list|show|resolve`` on a real SQLite file: an operator finds the open
reconciliation incident (R-X2), resolves it with a note, and the resolution is recorded."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hongbao.entrypoints.cli.main import app
from hongbao.recall.records import Incident
from hongbao.storage.factory import open_database
from tests.integration.test_recall_cli import sent

runner = CliRunner()
__all__ = ["sent"]  # the fixture: li-wei's packet r-1, sent through the commands


def run_cli(url: str, *arguments: str) -> tuple[int, str]:
    result = runner.invoke(
        app, [*arguments, "--database-url", url], env={"COLUMNS": "250"}, catch_exceptions=False
    )
    return result.exit_code, result.output


@pytest.fixture
def incident(sent: str) -> str:
    database = open_database(sent)
    try:
        database.transact(
            lambda uow: uow.recalls.incidents.insert(
                Incident("escrow:r-1", "r-1", "d-1", "open", "escrow=0; remainder=3000", 1, None)
            )
        )
    finally:
        database.close()
    return sent


def test_an_operator_lists_shows_and_resolves_an_incident_once(incident: str) -> None:
    code, output = run_cli(incident, "incidents", "list", "--state", "open")
    assert code == 0, output
    assert "escrow:r-1" in output
    assert "1 incident(s)" in output
    code, output = run_cli(
        incident, "incidents", "resolve", "escrow:r-1", "--by", "ops-zhang", "--note", "reviewed"
    )
    assert code == 0, output
    assert "ops-zhang" in output
    code, output = run_cli(incident, "incidents", "show", "escrow:r-1")
    assert code == 0, output
    assert "closed" in output
    assert "reviewed" in output
    assert "ops-zhang" in output
    code, output = run_cli(incident, "incidents", "list", "--state", "open")
    assert "0 incident(s)" in output
    code, output = run_cli(
        incident, "incidents", "resolve", "escrow:r-1", "--by", "ops-li", "--note", "again"
    )
    assert (code, "recalls.incident_closed" in output) == (2, True)


def test_an_unknown_incident_or_a_blank_note_exits_2_with_its_code(incident: str) -> None:
    code, output = run_cli(incident, "incidents", "show", "escrow:nothing")
    assert (code, "recalls.unknown_incident" in output) == (2, True)
    code, output = run_cli(
        incident, "incidents", "resolve", "escrow:r-1", "--by", "ops-zhang", "--note", "  "
    )
    assert (code, "recalls.resolution_invalid" in output) == (2, True)
