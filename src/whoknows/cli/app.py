"""The Typer application, its global --db option and the `version` command; the other commands register on it."""

from __future__ import annotations

from typing import Annotated

import typer

from whoknows import __version__
from whoknows.cli.context import JsonOpt, state
from whoknows.cli.output import out, print_json

app = typer.Typer(
    name="whoknows",
    help="Find who knows what in your organisation, and answer questions from its corporate memory.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main_options(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="WHOKNOWS_DB",
            help="Database: a SQLite file path or postgresql://user@host/db (default: whoknows.db in the data dir).",
        ),
    ] = None,
) -> None:
    state.db = db


@app.command()
def version(json_out: JsonOpt = False) -> None:
    """Print the whoknows version."""
    if json_out:
        print_json({"version": __version__})
    else:
        out.print(f"whoknows {__version__}")
