"""The ``whoknows`` command line: a thin adapter that parses input, calls one core function, formats output.

The Typer ``app`` lives in :mod:`whoknows.cli.app`; each command module registers its commands on it when imported.
"""

from __future__ import annotations

import sys

import typer

from whoknows.cli.app import app
from whoknows.cli.output import err
from whoknows.errors import WhoknowsError

# Registration order is the order `whoknows --help` lists the commands in, so these imports are not sorted.
# isort: off
from whoknows.cli import data  # noqa: F401
from whoknows.cli import query  # noqa: F401
from whoknows.cli import routing  # noqa: F401
from whoknows.cli import admin  # noqa: F401
from whoknows.cli import people  # noqa: F401
from whoknows.cli import report  # noqa: F401

# isort: on

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: run the app; a user mistake prints one line and exits non-zero, never a traceback."""
    try:
        app(standalone_mode=False)
    except WhoknowsError as exc:
        err.print(f"[red]error:[/red] {exc.message}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except typer.Abort:
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: typer's (vendored) click exceptions
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            err.print(f"error: {exc}")
        sys.exit(getattr(exc, "exit_code", 2))
