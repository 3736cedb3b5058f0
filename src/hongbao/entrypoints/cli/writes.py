"""Commands that change state write through the one pipeline, like the API's requests.

A command names its key (``--key``; by default the id of what it creates, so running it again
is harmless, or a fresh key where each run is meant to act anew). The pipeline runs the
command, in one transaction with the key's record, and keeps what it printed as its answer: a
repeat under the key prints the first run's output again and changes nothing. A refusal is
kept under a key the operator gave, like the API's; under a default key it is not, so the
same id can be tried again once what was wrong is put right (a refusal moved nothing).
Keys of the command line are the console's own (principal ``cli``), apart from the API's.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, TypeVar

import typer
from rich.markup import escape

from hongbao.bootstrap import Services
from hongbao.entrypoints.cli.session import console, error_console, services
from hongbao.entrypoints.http.errors import refusal_of
from hongbao.platform.errors import HongbaoError
from hongbao.platform.idempotency import checked_key
from hongbao.platform.pipeline import Answer, Keyed, Prepared

Result = TypeVar("Result")

PRINCIPAL: Final = "cli"
OK: Final = 200

KeyOption = Annotated[
    str | None,
    typer.Option("--key", help="idempotency key: repeat the command with it to retry safely"),
]


@dataclass(frozen=True, slots=True)
class CliCommand:
    """A command as the pipeline sees it: its name, its key, and what it asks (no secrets:
    the arguments' fingerprint is stored with the key)."""

    name: str
    key: str
    arguments: Mapping[str, Any]
    # The service carries one operation forward under the key with changing arguments (a
    # recall repeated with the challenges it asked for): each distinct request is kept apart.
    continuable: bool = False
    # The operator gave the key (--key): a refusal is its answer too, repeated as given.
    keeps_refusals: bool = True
    # The service keeps its own answers under the key (a recall's record does): the pipeline
    # keeps none, and a challenged recall repeated as it was is carried forward.
    keeps_its_answers: bool = False

    def keyed(self) -> Keyed:
        fingerprint = self.fingerprint()
        principal = f"{PRINCIPAL}:{fingerprint[:24]}" if self.continuable else PRINCIPAL
        return Keyed(principal, checked_key(self.key), fingerprint)

    def fingerprint(self) -> str:
        canonical = json.dumps(
            {"command": self.name, "arguments": self.arguments}, sort_keys=True, default=str
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def natural_key(name: str, *ids: str) -> str:
    """The default key of a command that creates something with an id of its own."""
    return ":".join((name, *ids))


def keyed(name: str, given: str | None, default: str, arguments: Mapping[str, Any]) -> CliCommand:
    """``name``'s command under the key the operator ``given``, else under ``default``."""
    if given is not None:
        return CliCommand(name, given, arguments)
    return CliCommand(name, default, arguments, keeps_refusals=False)


def fresh_key(name: str) -> str:
    """The default key of a command each run of which is meant to act anew."""
    return f"{name}:{secrets.token_hex(12)}"


def write(
    database_url: str | None,
    command: CliCommand,
    action: Callable[[Services], Result],
    show: Callable[[Result], None],
    *,
    before: Callable[[Services], None] | None = None,
    status: Callable[[Result], int] = lambda _result: OK,
) -> None:
    """Run ``action`` once under ``command``'s key and ``show`` its result; a repeat shows the
    first run's output again. ``before`` runs outside the command's transaction (the embedded
    worker catching up with due work, which commits on its own). ``status``: the answer's
    status for a result that is kept but is no success (a send the guard stopped, with its
    recorded decision): its output is shown and the command exits with 2."""
    with services(database_url) as opened:
        if before is not None:
            before(opened)

        def step() -> Answer:
            result = action(opened)
            with console.capture() as printed:
                show(result)
            return Answer(status(result), {"output": printed.get()})

        refused = _refused if command.keeps_refusals else _never_kept
        answer = opened.pipeline.execute(
            command.keyed(),
            lambda _uow: Prepared(step, keeps_its_answers=command.keeps_its_answers),
            refused,
        )
    _print(answer)


def _refused(error: HongbaoError) -> Answer | None:
    """A refusal as the key's answer (its code and message); None for a fault."""
    refusal = refusal_of(error, "en")
    return None if refusal is None else Answer(refusal.status, refusal.body)


def _never_kept(_error: HongbaoError) -> Answer | None:
    """Under a default key nothing is kept for a refusal: it is raised and shown as it is."""
    return None


def _print(answer: Answer) -> None:
    if "output" in answer.body:
        console.file.write(answer.body["output"])
        console.file.flush()
        if answer.status == OK:
            return
        raise typer.Exit(2)
    code, message = answer.body["error"]["code"], answer.body["error"]["message"]
    error_console.print(f"[bold red]error[/] {escape(f'[{code}] {message}')}")
    raise typer.Exit(2)
