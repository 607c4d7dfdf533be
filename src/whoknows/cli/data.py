"""Commands that fill the database and build what is derived from it: demo, status, import, reindex."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from whoknows.cli.app import app
from whoknows.cli.context import JsonOpt, derived_folder, settings
from whoknows.cli.output import err, out, print_derived, print_json, print_table, progress_bar, stage_progress


@app.command()
def demo(
    messages: Annotated[int, typer.Option(min=100, help="How many messages to generate.")] = 20_000,
    people: Annotated[
        int | None,
        typer.Option(min=20, help="How many people (default: about one per 100 messages, at least 300)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same organisation.")] = 7,
    truth: Annotated[
        Path | None,
        typer.Option(help="Where to write the planted ground truth (JSON). Default: next to the database."),
    ] = None,
    index: Annotated[bool, typer.Option(help="Extract the corporate memory and build its index afterwards.")] = True,
    accounts: Annotated[
        bool,
        typer.Option(help="Give every demo person a web login (one shared random password, in demo-logins.json)."),
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """Generate the demo sales organisation, load it, build its corporate memory and index, and create logins."""
    from whoknows.demo import DemoConfig, load_demo
    from whoknows.store import open_store

    config = DemoConfig(messages=messages, people=people, seed=seed)
    s = settings()
    store = open_store(s)
    folder = derived_folder(s, store)
    started = time.perf_counter()
    with progress_bar("generating + loading demo org", config.messages, enabled=not json_out) as advance:
        result = load_demo(
            store,
            config,
            truth_path=truth,
            data_dir=folder,
            batch_size=s.batch_size,
            progress=lambda batch, _stats: advance(len(batch.messages)),
        )
    elapsed = time.perf_counter() - started
    summary = {
        **result.as_dict(),
        "seconds": round(elapsed, 2),
        "messages_per_second": round(result.messages / elapsed) if elapsed else None,
    }
    derived = None
    if index:
        from whoknows.derive import reindex as derive_all

        with stage_progress(enabled=not json_out) as update:
            derived = derive_all(store, folder, progress=update)
        summary["derived"] = derived.as_dict()
    logins = None
    if accounts:
        from whoknows.demo.accounts import create_demo_accounts

        logins = create_demo_accounts(store, folder, result.truth_path)
        summary["logins"] = logins.as_dict()
    if json_out:
        print_json(summary)
        return
    out.print(f"[bold]Demo organisation[/bold] {result.org_name} loaded into {store.status().database}")
    out.print(
        f"  {result.people} people in {len(result.departments)} departments, {result.spaces} spaces, "
        f"{result.threads} threads, {result.messages} messages ({result.topics} topics)"
    )
    out.print(f"  planted ground truth: {result.truth_path}")
    out.print(f"  took {elapsed:.1f} s ({summary['messages_per_second']} messages/s)")
    if derived is not None:
        print_derived(derived.as_dict())
    if logins is not None:
        _print_logins(logins.as_dict())
    out.print(
        'Next: [bold]whoknows serve[/bold] (web UI), [bold]whoknows ask "can we sign a BAA for HIPAA?"[/bold], '
        "[bold]whoknows status[/bold]"
    )


def _print_logins(data: dict[str, Any]) -> None:
    out.print(f"  web logins: password [bold]{data['password']}[/bold] for every demo person (saved in {data['path']})")
    for login in data["logins"]:
        out.print(f"    {login['role']:<8} {login['email']}  ({login['why']})", highlight=False, soft_wrap=True)


@app.command()
def status(
    top: Annotated[int, typer.Option(min=1, max=1000, help="Rows per table.")] = 10,
    json_out: JsonOpt = False,
) -> None:
    """Show what the database holds: counts per source, space and person, and the memory's questions and solutions."""
    from dataclasses import asdict

    from whoknows.store import open_store

    report = open_store(settings(), create=False).status(top=top)
    if json_out:
        print_json(asdict(report))
        return
    out.print(f"[bold]{report.database}[/bold] (schema v{report.schema_version})")
    out.print("  " + ", ".join(f"{v:,} {k}" for k, v in report.totals.items()))
    mem = report.memory
    out.print(
        f"  memory: {mem['questions']:,} questions, {mem['solved']:,} with a solution ({_pct(mem['solved_share'])})"
    )
    sources = [{**row, "share": _pct(row["solved_share"])} for row in report.sources]
    print_table("Sources", ["source", "messages", "questions", "solved", "share", "first", "last"], sources)
    print_table("Spaces", ["name", "kind", "visibility", "messages", "members"], report.spaces)
    print_table("People (most messages)", ["name", "department", "messages"], report.people)
    print_table("Recent imports", ["id", "kind", "source", "status", "finished_at"], report.imports)
    for run in report.imports:
        if run["status"] == "interrupted":
            out.print(f"  import {run['id']} {run['error']}", highlight=False, soft_wrap=True)


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


@app.command("import")
def import_(
    source: Annotated[str, typer.Argument(help="Format: slack, slack-chats, stackexchange, email, tickets, crm.")],
    path: Annotated[Path, typer.Argument(help="The export: a file, folder or zip.")],
    space_name: Annotated[str | None, typer.Option(help="Name for the space the export becomes.")] = None,
    index: Annotated[
        bool, typer.Option(help="Update the corporate memory and its index for what was imported.")
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """Import an export (Slack, Stack Exchange, e-mail, tickets, CRM notes) into the database."""
    from whoknows.importers import reader_for
    from whoknows.ingest import ingest
    from whoknows.store import open_store

    s = settings()
    reader = reader_for(source, path, space_name=space_name, batch_size=s.batch_size)
    store = open_store(s)
    with progress_bar(f"importing {path.name}", reader.total_hint(), enabled=not json_out) as advance:
        result = ingest(
            store,
            reader.kind,
            reader.source,
            reader.batches(),
            location=str(path),
            progress=lambda batch, _stats: advance(len(batch.messages)),
        )
    issues = [str(i) for i in reader.issues] + result.warnings
    data: dict[str, Any] = {**result.as_dict(), "warnings": issues[:100], "warnings_total": len(issues)}
    if index:
        from whoknows.derive import refresh_after_import

        data["derived"] = refresh_after_import(store, derived_folder(s, store), result.import_id).as_dict()
    if json_out:
        print_json(data)
        return
    rows = [{"records": k, **v} for k, v in result.stats.counts.items()]
    print_table(
        f"Imported {path} ({reader.kind}, {reader.source})",
        ["records", "new", "updated", "skipped", "rejected"],
        rows,
    )
    for line in issues[:20]:
        err.print(f"[yellow]warning:[/yellow] {line}")
    if len(issues) > 20:
        err.print(f"[yellow]… {len(issues) - 20} more warnings (use --json to see 100)[/yellow]")
    if "derived" in data:
        print_derived(data["derived"])


@app.command()
def reindex(
    json_out: JsonOpt = False,
    embedder: Annotated[
        str | None,
        typer.Option(
            help="Vectors of the memory index: auto (PPMI-SVD trained on your public text once memory is large "
            "enough), none, ppmi-svd, wordllama, minilm-numpy or e5 (packaged models; see docs/search.md for "
            "quality and cost). Kept for later rebuilds; default: the last choice."
        ),
    ] = None,
) -> None:
    """Rebuild everything derived from the store: Q&A extraction (corporate memory) and its search index."""
    from whoknows.derive import reindex as derive_all
    from whoknows.memory.memory_index import EMBEDDER_CHOICES
    from whoknows.store import open_store

    if embedder is not None and embedder not in EMBEDDER_CHOICES:
        raise typer.BadParameter(f"choose one of {', '.join(EMBEDDER_CHOICES)}", param_hint="--embedder")
    s = settings()
    store = open_store(s, create=False)
    with stage_progress(enabled=not json_out) as update:
        stats = derive_all(store, derived_folder(s, store), progress=update, embedder=embedder)
    if json_out:
        print_json(stats.as_dict())
    else:
        print_derived(stats.as_dict())
