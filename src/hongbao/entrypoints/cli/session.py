"""What every command runs with: the console, the database option, and the services opened
for one command (a hongbao error becomes its code and message, and exit status 2)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from hongbao.bootstrap import Services, open_services
from hongbao.platform.errors import HongbaoError

# Output into a pipe or a file has no terminal to measure: rich would assume 80 columns and cut
# ids and amounts in tables. Such output gets room enough for the widest table instead (an
# explicit COLUMNS still decides).
PIPED_WIDTH = 200
_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPED_WIDTH
console = Console(width=_WIDTH)
error_console = Console(stderr=True, width=_WIDTH)
Result = TypeVar("Result")

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Default: $HONGBAO_DATABASE_URL, else embedded SQLite."),
]


@contextmanager
def services(database_url: str | None) -> Iterator[Services]:
    """Open the services; a hongbao error becomes its code and message, and exit status 2."""
    opened: Services | None = None
    try:
        opened = open_services(database_url)
        yield opened
    except HongbaoError as error:
        error_console.print(f"[bold red]error[/] {escape(f'[{error.code}] {error.message}')}")
        raise typer.Exit(2) from error
    finally:
        if opened is not None:
            opened.close()


def run(database_url: str | None, action: Callable[[Services], Result]) -> Result:
    with services(database_url) as opened:
        return action(opened)
