"""The `report` command: collaboration analytics in the terminal, as JSON or as an offline HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from whoknows.access import Viewer
from whoknows.cli.app import app
from whoknows.cli.context import JsonOpt, settings, viewer_of
from whoknows.cli.output import out, print_json, stage_progress


@app.command()
def report(
    as_: Annotated[
        str | None,
        typer.Option("--as", help="Compute as this person: only spaces they may read; their own row is shown."),
    ] = None,
    admin: Annotated[
        bool, typer.Option("--admin", help="Compute over every space (operator run); no individual rows implied.")
    ] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write an HTML report (opens offline).")] = None,
    months: Annotated[int, typer.Option("--months", min=1, help="Length of the period, up to the newest data.")] = 6,
    performance: Annotated[
        Path | None, typer.Option("--performance", help="CSV of person,value (e.g. quota attainment).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Collaboration analytics: give and take, cross-department flows, silos, bus factors, top performers' know-how."""
    from whoknows.analytics import build_report, render_terminal, write_html
    from whoknows.store import open_store

    s = settings()
    store = open_store(s, create=False)
    person = store.find_person(as_, Viewer.system()) if as_ else None
    # The operator's shell: --admin counts every space (as the person, when --as names one: their labels only).
    viewer = viewer_of(store, person, "admin") if person else Viewer.system() if admin else store.viewer(None)
    with stage_progress(enabled=not json_out) as update:
        result = build_report(
            store, viewer, organisation=admin, months=months, performance_csv=performance, settings=s, progress=update
        )
    if html is not None:
        write_html(result, html)
    if json_out:
        print_json({**result.as_dict(), "html": str(html) if html else None})
        return
    render_terminal(result, out)
    if html is not None:
        out.print(f"HTML report written to {html}")
