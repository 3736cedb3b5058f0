"""``hongbao support queue|show|answer|close`` on a real SQLite file: an operator finds the
case a person opened about their packet, answers it and closes it; each write acts once per
key and is kept on the case with the operator's name."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hongbao.bootstrap import open_services
from hongbao.entrypoints.cli.main import app
from hongbao.support.cases import CaseOrigin
from hongbao.support.service import CaseRequest
from tests.integration.test_recall_cli import sent

runner = CliRunner()
__all__ = ["sent"]  # the fixture: li-wei's packet r-1, sent through the commands


def run_cli(url: str, *arguments: str) -> tuple[int, str]:
    result = runner.invoke(
        app, [*arguments, "--database-url", url], env={"COLUMNS": "250"}, catch_exceptions=False
    )
    return result.exit_code, result.output


@pytest.fixture
def case(sent: str) -> tuple[str, str]:
    """li-wei asks support about r-1 from the help page."""
    services = open_services(sent)
    try:
        opened = services.support.open(
            CaseRequest(
                "li-wei", "li-wei-iphone14pro", CaseOrigin.HELP, "Where is my money?", None, "r-1"
            )
        )
    finally:
        services.close()
    return sent, opened.case.id


def test_an_operator_answers_and_closes_a_case_once(case: tuple[str, str]) -> None:
    url, case_id = case
    code, output = run_cli(url, "support", "queue")
    assert code == 0, output
    assert (case_id in output, "1 open support case(s)" in output) == (True, True)
    answer = ("support", "answer", case_id, "--operator", "ops-zhang", "--text", "On its way")
    code, output = run_cli(url, *answer, "--key", "answer-1")
    assert code == 0, output
    assert "answered by operator ops-zhang" in output
    again = run_cli(url, *answer, "--key", "answer-1")
    assert again == (code, output), "a repeated key prints the first answer and writes nothing"
    code, output = run_cli(url, "support", "show", case_id)
    assert output.count("answered by operator") == 1
    assert "age band 26-35" in output
    code, output = run_cli(
        url, "support", "close", case_id, "--operator", "ops-zhang", "--text", "arrived"
    )
    assert code == 0, output
    assert "closed" in output
    code, output = run_cli(url, "support", "answer", case_id, "--operator", "ops-li", "--text", "x")
    assert (code, "support.case_closed" in output) == (2, True)
