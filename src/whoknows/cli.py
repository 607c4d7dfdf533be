"""The ``whoknows`` command line: a thin adapter that parses input, calls one core function, formats output."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from whoknows import __version__
from whoknows.errors import WhoknowsError
from whoknows.settings import Settings

if TYPE_CHECKING:
    from whoknows.model import Person
    from whoknows.store import Store

app = typer.Typer(
    name="whoknows",
    help="Find who knows what in your organisation, and answer questions from its corporate memory.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]
AsOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Act as this person (e-mail, @handle, full name or #id): what they may read is used, their private "
        "spaces included. Without it: public spaces only.",
    ),
]


class State:
    db: str | None = None


state = State()


def settings() -> Settings:
    return Settings(db=state.db) if state.db else Settings()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


@contextmanager
def progress_bar(description: str, total: int | None, *, enabled: bool = True) -> Iterator[Any]:
    """A progress bar on stderr (hidden with --json or when stderr is not a terminal and ``enabled`` is off)."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not enabled,
        transient=False,
    )
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


@contextmanager
def stage_progress(*, enabled: bool = True) -> Iterator[Any]:
    """A progress bar for multi-stage work: the callback takes (stage, done, total)."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not enabled,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int | None) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    with progress:
        yield update


def open_as(ref: str | None) -> tuple[Settings, Store, Person | None]:
    """Settings, the existing store, and the person a command acts as (``--as``), if any."""
    from whoknows.store import open_store

    s = settings()
    store = open_store(s, create=False)
    return s, store, store.find_person(ref) if ref else None


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
    started = time.perf_counter()
    with progress_bar("generating + loading demo org", config.messages, enabled=not json_out) as advance:
        result = load_demo(
            store,
            config,
            truth_path=truth,
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
            derived = derive_all(store, s.data_dir, progress=update)
        summary["derived"] = derived.as_dict()
    logins = None
    if accounts:
        from whoknows.demo.accounts import create_demo_accounts

        logins = create_demo_accounts(store, s.data_dir, result.truth_path)
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
        _print_derived(derived.as_dict())
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
    """Show what the database holds: counts per source, space and person."""
    from dataclasses import asdict

    from whoknows.store import open_store

    report = open_store(settings(), create=False).status(top=top)
    if json_out:
        print_json(asdict(report))
        return
    out.print(f"[bold]{report.database}[/bold] (schema v{report.schema_version})")
    out.print("  " + ", ".join(f"{v:,} {k}" for k, v in report.totals.items()))
    _table("Sources", ["source", "messages", "first", "last"], report.sources)
    _table("Spaces", ["name", "kind", "visibility", "messages", "members"], report.spaces)
    _table("People (most messages)", ["name", "department", "messages"], report.people)
    _table("Recent imports", ["id", "kind", "source", "status", "finished_at"], report.imports)


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

        data["derived"] = refresh_after_import(store, s.data_dir, result.import_id).as_dict()
    if json_out:
        print_json(data)
        return
    rows = [{"records": k, **v} for k, v in result.stats.counts.items()]
    _table(
        f"Imported {path} ({reader.kind}, {reader.source})",
        ["records", "new", "updated", "skipped", "rejected"],
        rows,
    )
    for line in issues[:20]:
        err.print(f"[yellow]warning:[/yellow] {line}")
    if len(issues) > 20:
        err.print(f"[yellow]… {len(issues) - 20} more warnings (use --json to see 100)[/yellow]")
    if "derived" in data:
        _print_derived(data["derived"])


@app.command()
def reindex(json_out: JsonOpt = False) -> None:
    """Rebuild everything derived from the store: Q&A extraction (corporate memory) and its search index."""
    from whoknows.derive import reindex as derive_all
    from whoknows.store import open_store

    s = settings()
    store = open_store(s, create=False)
    with stage_progress(enabled=not json_out) as update:
        stats = derive_all(store, s.data_dir, progress=update)
    if json_out:
        print_json(stats.as_dict())
    else:
        _print_derived(stats.as_dict())


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in your own words.")],
    as_: AsOpt = None,
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="How many solutions and similar questions.")] = 5,
    route_: Annotated[
        bool,
        typer.Option(
            "--route", help="When memory is not enough (low confidence), route the question to experts (needs --as)."
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Answer a question from the corporate memory: past solutions with citations, and similar questions."""
    if route_:  # the same flow as `whoknows route`: memory first, experts when it is not enough
        route(question, as_=as_, always=False, k=3, json_out=json_out)
        return
    from whoknows.memory.ask import ask as ask_memory

    s, store, asker = open_as(as_)
    result = ask_memory(store, s.data_dir, question, asker_id=asker.id if asker else None, k=k)
    if json_out:
        print_json(result.as_dict())
        return
    for line in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {line}")
    who = f"as {asker.name}" if asker else "public spaces only (use --as to include your private spaces)"
    out.print(f"[bold]{question}[/bold]  [dim]({who}; {result.took_ms:.0f} ms)[/dim]")
    if result.reason:
        out.print(f"  {result.reason}")
    for i, hit in enumerate(result.solutions, 1):
        solver = hit.solved_by.name if hit.solved_by else "unknown"
        dept = f", {hit.solved_by.department}" if hit.solved_by and hit.solved_by.department else ""
        out.print(f"\n[bold]{i}. {hit.question}[/bold]", highlight=False)
        out.print(f"   [green]{hit.solution}[/green]", highlight=False)
        out.print(
            f"   — {solver}{dept}, {(hit.asked_at or '')[:10]} in {hit.space}; confidence {hit.confidence:.2f}"
            f"{f'; {len(hit.duplicates)} similar folded' if hit.duplicates else ''}",
            highlight=False,
        )
        if hit.link:
            out.print(f"   {hit.link}", highlight=False)
    if result.similar:
        out.print("\n[bold]Similar questions without a recorded solution[/bold]")
        for hit in result.similar:
            asker_name = hit.asked_by.name if hit.asked_by else "unknown"
            out.print(f"   • {hit.question} ({asker_name}, {(hit.asked_at or '')[:10]}, {hit.space})", highlight=False)


@app.command()
def experts(
    question: Annotated[str, typer.Argument(help="The question, in your own words.")],
    as_: AsOpt = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="How many people.")] = 10,
    json_out: JsonOpt = False,
) -> None:
    """Rank the colleagues most likely to answer a question well, each with the evidence why."""
    from whoknows.derive import expertise_path
    from whoknows.expertise import find_experts

    s, store, asker = open_as(as_)
    result = find_experts(store, question, asker_id=asker.id if asker else None, k=k, path=expertise_path(s.data_dir))
    if json_out:
        print_json(result.as_dict())
        return
    if result.stale:
        err.print("[yellow]warning:[/yellow] the expertise model is older than the database; run `whoknows reindex`")
    out.print(f"[bold]{question}[/bold]  [dim]({f'as {asker.name}' if asker else 'public spaces only'})[/dim]")
    if not result.experts:
        out.print(f"  nobody found: {result.reason}")
    for e in result.experts:
        out.print(
            f"\n[bold]{e.rank}. {e.name}[/bold] ({e.department or 'no department'}) score {e.score:.2f}",
            highlight=False,
        )
        top = ", ".join(f"{name} {value:+.2f}" for name, value in list(e.signals.items())[:3])
        if top:
            out.print(f"   why: {top}", highlight=False)
        for ev in e.evidence[:3]:
            out.print(
                f"   • {ev.snippet[:160]} [dim]({'; '.join(ev.why)}{', ' + ev.url if ev.url else ''})[/dim]",
                highlight=False,
            )


@app.command("profile")
def profile_cmd(
    person: Annotated[str, typer.Argument(help="E-mail, @handle, full name or #id.")],
    as_: AsOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What whoknows thinks a person knows, with the evidence, as the viewer may see it."""
    from whoknows.derive import expertise_path
    from whoknows.expertise import profile

    s, store, viewer = open_as(as_)
    result = profile(store, person, viewer_id=viewer.id if viewer else None, path=expertise_path(s.data_dir))
    if json_out:
        print_json(result.as_dict())
        return
    out.print(f"[bold]#{result.person_id} {result.name}[/bold] ({result.department or 'no department'})")
    if result.reason:
        out.print(f"  {result.reason}")
    stats = ", ".join(f"{k}: {v}" for k, v in result.stats.items() if not isinstance(v, dict | list))
    if stats:
        out.print(f"  {stats}", highlight=False)
    for t in result.topics:
        out.print(f"  • [bold]{t.term}[/bold] ({t.messages} messages)", highlight=False)
        for ev in t.evidence[:2]:
            out.print(f"      {ev.snippet[:140]} [dim]({'; '.join(ev.why)})[/dim]", highlight=False)


def _need_person(ref: str | None) -> tuple[Settings, Store, Person]:
    s, store, person = open_as(ref)
    if person is None or person.id is None:
        raise WhoknowsError("this command needs --as PERSON (who you are)", code="routing.no_person")
    return s, store, person


def _done(data: dict[str, Any], json_out: bool, line: str) -> None:
    if json_out:
        print_json(data)
    else:
        out.print(line, highlight=False)


@app.command()
def route(
    question: Annotated[str, typer.Argument(help="The question, in your own words.")],
    as_: AsOpt = None,
    always: Annotated[bool, typer.Option("--always", help="Route even if memory answers (it did not help).")] = False,
    k: Annotated[int, typer.Option("--k", min=1, max=20, help="How many experts to ask.")] = 3,
    json_out: JsonOpt = False,
) -> None:
    """Answer from memory first; when memory is not enough, ask the right experts (and say who and why)."""
    from whoknows.routing import ask_or_route

    s, store, asker = _need_person(as_)
    assert asker.id is not None
    result = ask_or_route(store, s.data_dir, question, asker.id, route="always" if always else "auto", k=k, settings=s)
    if json_out:
        print_json(result.as_dict())
        return
    for w in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {w}")
    sols = result.memory.get("solutions", [])
    if sols:
        out.print(
            f"[bold]From memory[/bold] (confidence {result.confidence:.2f}): {sols[0]['solution']}", highlight=False
        )
    if not result.routed:
        out.print(f"Not routed: {result.reason}", highlight=False)
        return
    out.print(f"[bold]Routed question #{result.question_id}[/bold]: {result.reason}", highlight=False)
    for a in result.asked:
        out.print(f"  asked {a['name']} (assignment {a['assignment_id']}, via {a['channel']})", highlight=False)
        for r in a["reasons"]:
            out.print(f"     - {r}", highlight=False)
    for sk in result.skipped:
        out.print(f"  not asked: {sk['name']}: {sk['why']}", highlight=False)


@app.command()
def inbox(as_: AsOpt = None, json_out: JsonOpt = False) -> None:
    """Routed questions waiting for your answer."""
    from whoknows.routing import inbox as load_inbox

    _s, store, me = _need_person(as_)
    assert me.id is not None
    items = load_inbox(store, me.id)
    if json_out:
        print_json(items)
        return
    if not items:
        out.print("Nothing waiting for you.")
    for i in items:
        out.print(f"[bold]{i['assignment_id']}[/bold] from {i['asker']}: {i['question']}", highlight=False)
        out.print(f"   why you: {'; '.join(i['reasons'][:2])}; due {(i['due_at'] or '')[:16]}", highlight=False)


@app.command()
def answer(
    assignment_id: Annotated[int, typer.Argument(help="The assignment id (from `whoknows inbox`).")],
    text: Annotated[str, typer.Argument(help="Your answer.")],
    as_: AsOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Answer a routed question; the answer goes to the asker and into memory, credited to you."""
    from whoknows.routing import answer as do_answer

    s, store, me = _need_person(as_)
    assert me.id is not None
    data = do_answer(store, s.data_dir, assignment_id, text, me.id, settings=s)
    _done(data, json_out, f"answer #{data['answer_id']} recorded for question #{data['question_id']}; thank you")


@app.command()
def decline(
    assignment_id: Annotated[int, typer.Argument(help="The assignment id (from `whoknows inbox`).")],
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option("--reason", help="Why; 'not my area' teaches the ranker.")] = "not my area",
    json_out: JsonOpt = False,
) -> None:
    """Decline a routed question; the next expert is asked."""
    from whoknows.routing import decline as do_decline

    s, store, me = _need_person(as_)
    assert me.id is not None
    data = do_decline(store, s.data_dir, assignment_id, me.id, reason=reason, settings=s)
    _done(data, json_out, f"declined; asked instead: {', '.join(data['next']) or 'nobody yet (the worker retries)'}")


@app.command()
def forward(
    assignment_id: Annotated[int, typer.Argument(help="The assignment id (from `whoknows inbox`).")],
    colleague: Annotated[str, typer.Argument(help="E-mail, @handle, full name or #id of the colleague.")],
    as_: AsOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Forward a routed question to a colleague who knows better."""
    from whoknows.routing import forward as do_forward

    s, store, me = _need_person(as_)
    assert me.id is not None
    other = store.find_person(colleague)
    assert other.id is not None
    data = do_forward(store, assignment_id, me.id, other.id, settings=s)
    _done(data, json_out, f"forwarded to {data['forwarded_to']}")


@app.command()
def accept(
    question_id: Annotated[int, typer.Argument(help="The routed question id.")],
    as_: AsOpt = None,
    rating: Annotated[int | None, typer.Option("--rating", min=1, max=5, help="How good the answer was, 1-5.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Accept (and rate) the answer to your routed question; the expertise model learns from it."""
    from whoknows.routing import accept as do_accept

    s, store, me = _need_person(as_)
    assert me.id is not None
    data = do_accept(store, s.data_dir, question_id, me.id, rating=rating)
    _done(data, json_out, f"answer #{data['answer_id']} accepted; question #{question_id} closed")


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Process what is due now, then exit.")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.1, help="Seconds between idle rounds.")] = 5.0,
    json_out: JsonOpt = False,
) -> None:
    """Send notifications, expire and escalate unanswered questions, learn from outcomes (runs until stopped)."""
    from whoknows.routing import run_forever, run_once
    from whoknows.store import open_store

    s = settings()
    store = open_store(s, create=False)
    if once:
        stats = run_once(store, s, s.data_dir)
        _done(stats.as_dict(), json_out, ", ".join(f"{k} {v}" for k, v in stats.as_dict().items() if k != "errors"))
        for e in stats.errors[:20]:
            err.print(f"[yellow]warning:[/yellow] {e}")
        return

    def report(stats: Any) -> None:
        if stats.busy() or stats.errors:
            err.print(", ".join(f"{k} {v}" for k, v in stats.as_dict().items() if k != "errors"))

    import contextlib

    with contextlib.suppress(KeyboardInterrupt):
        run_forever(store, s, s.data_dir, interval=interval, on_round=report)


@app.command()
def prefs(
    as_: AsOpt = None,
    budget: Annotated[int | None, typer.Option("--budget", min=0, help="Routed questions per week at most.")] = None,
    ooo_until: Annotated[
        str | None, typer.Option("--ooo-until", help="Out of office until this date (YYYY-MM-DD).")
    ] = None,
    digest: Annotated[str | None, typer.Option("--digest", help="immediate or daily.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="email, slack or webhook.")] = None,
    hide_topic: Annotated[
        list[str] | None, typer.Option("--hide-topic", help="Never route questions about this topic (repeatable).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Show or change your routing preferences."""
    from datetime import UTC, datetime

    from whoknows.errors import InputError
    from whoknows.routing import get_prefs, set_prefs

    _s, store, me = _need_person(as_)
    assert me.id is not None
    ooo = None
    if ooo_until:
        try:
            ooo = datetime.fromisoformat(ooo_until).replace(tzinfo=UTC)
        except ValueError:
            raise InputError(
                f"--ooo-until: {ooo_until!r} is not a date (YYYY-MM-DD)", code="routing.bad_prefs"
            ) from None
    hidden = sorted(set(get_prefs(store, me.id).hidden_topics) | set(hide_topic)) if hide_topic else None
    p = set_prefs(
        store,
        me.id,
        weekly_budget=budget,
        ooo_until=ooo,
        digest=digest,
        channels=[channel] if channel else None,
        hidden_topics=hidden,
    )
    _done(p.as_dict(), json_out, ", ".join(f"{k}: {v}" for k, v in p.as_dict().items() if k != "person_id"))


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Server processes (one per core suits a busy server; live import progress is per process).",
        ),
    ] = 1,
) -> None:
    """Run the web UI and HTTP API server (uvicorn); the OpenAPI spec is at /api/v1/openapi.json."""
    from whoknows.api.app import serve as run_server
    from whoknows.demo.accounts import read_logins

    s = settings()
    err.print(f"whoknows on http://{host}:{port}/ (API: /api/v1, spec: /api/v1/openapi.json); Ctrl-C stops it")
    demo_logins = read_logins(s.data_dir)
    if demo_logins is not None:
        first = demo_logins["logins"][0]["email"] if demo_logins.get("logins") else "a demo person's e-mail"
        err.print(f"demo org: log in as {first} with password {demo_logins['password']} (more in the file "
                  f"{demo_logins.get('path')})")  # fmt: skip
    run_server(s, host=host, port=port, workers=workers)


accounts_app = typer.Typer(help="Accounts that may log in to the server, and their roles.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
tokens_app = typer.Typer(help="API tokens for integrations (only their hash is stored).", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@accounts_app.command("add")
def accounts_add(
    person: Annotated[str, typer.Argument(help="The person: e-mail, @handle, full name or #id.")],
    role: Annotated[str, typer.Option("--role", help="member, analyst or admin.")] = "member",
    password: Annotated[
        str,
        typer.Option(
            "--password",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="WHOKNOWS_NEW_PASSWORD",
            help="The password (asked for when not given; or from WHOKNOWS_NEW_PASSWORD).",
        ),
    ] = "",
    json_out: JsonOpt = False,
) -> None:
    """Create a person's account (or change its role and password)."""
    from whoknows.api.accounts import add_account
    from whoknows.store import open_store

    data = add_account(open_store(settings(), create=False), person, role=role, password=password)
    _done(data, json_out, f"account {data['action']}: {data['name']} (#{data['person_id']}) as {data['role']}")


@tokens_app.command("create")
def tokens_create(
    person: Annotated[str, typer.Argument(help="The account's person: e-mail, @handle, full name or #id.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "cli",
    role: Annotated[str | None, typer.Option("--role", help="Scope; default: the account's role.")] = None,
    days: Annotated[
        float | None, typer.Option("--days", min=0.001, help="Expires after N days; default: never.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create an API token (printed once) for `Authorization: Bearer …`."""
    from datetime import timedelta

    from whoknows.api.accounts import account_of, issue_token
    from whoknows.store import open_store

    store = open_store(settings(), create=False)
    ttl = timedelta(days=days) if days is not None else None
    issued = issue_token(store, account_of(store, person), kind="api", name=name, role=role, ttl=ttl)
    _done(issued.as_dict(), json_out, f"token #{issued.id} ({issued.role}): {issued.token}")


def _print_derived(data: dict[str, Any]) -> None:
    memory, index = data.get("memory", {}), data.get("index", {})
    expertise = data.get("expertise", {})
    if memory:
        out.print(
            f"  memory: {memory.get('questions', 0):,} questions, {memory.get('solved', 0):,} with a solution, "
            f"from {memory.get('threads', 0):,} threads"
        )
    if index:
        if "documents" in index:
            vec = "BM25 + vectors" if index.get("vectors") else "BM25"
            out.print(f"  index: {index['documents']:,} documents ({vec}) at {index['path']}")
        else:
            out.print(f"  index: {index.get('added', 0):,} documents added, {index.get('deleted', 0):,} removed")
    if expertise:
        out.print(
            f"  expertise: {expertise.get('people', 0):,} people, fitted on "
            f"{expertise.get('training_questions', 0):,} past questions at {expertise.get('path')}"
        )


@app.command()
def erase(
    person: Annotated[str, typer.Argument(help="E-mail, @handle, full name or #id of the person to erase.")],
    policy: Annotated[
        str,
        typer.Option(
            "--policy", help="delete: remove their messages; anonymise: keep the messages without their name."
        ),
    ] = "delete",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Erase a person: identity, messages (or their name on them) and everything derived from them."""
    from whoknows.erasure import erase_person

    s, store, target = open_as(person)
    assert target is not None
    if not yes and not typer.confirm(f"Erase #{target.id} {target.name} ({policy})? This cannot be undone"):
        raise typer.Exit(1)
    result = erase_person(store, s.data_dir, f"#{target.id}", policy=policy)  # type: ignore[arg-type]
    if json_out:
        print_json(result.as_dict())
    else:
        out.print(
            f"erased #{result.person_id} {result.name}: {result.messages} messages ({policy}), "
            f"{result.threads_touched} threads re-derived in {result.seconds:.1f} s"
        )


@app.command()
def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be deleted.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Delete raw messages older than WHOKNOWS_RETENTION_DAYS (keeping their Q&A knowledge de-identified)."""
    from whoknows.retention import apply_retention
    from whoknows.store import open_store

    s = settings()
    result = apply_retention(open_store(s, create=False), s.data_dir, s, dry_run=dry_run)
    if json_out:
        print_json(result.as_dict())
    elif result.days <= 0:
        out.print("retention is off (WHOKNOWS_RETENTION_DAYS=0): nothing is deleted")
    else:
        verb = "would delete" if dry_run else "deleted"
        out.print(
            f"{verb} {result.messages_deleted} messages older than {result.cutoff} ({result.days} days), "
            f"{result.threads_deleted} threads, {result.qa_pairs_deleted} Q&A pairs, "
            f"{result.routed_questions_deleted} routed questions; "
            f"{result.qa_pairs_kept} Q&A pairs kept de-identified ({result.messages_kept_deidentified} messages)"
        )


people_app = typer.Typer(
    help="Identity resolution: explain, merge, undo, mapping file, suggestions.", no_args_is_help=True
)
app.add_typer(people_app, name="people")


@people_app.command("show")
def people_show(
    person: Annotated[str, typer.Argument(help="E-mail, @handle, full name or #id.")],
    json_out: JsonOpt = False,
) -> None:
    """Explain a person: the source identities merged into them and the rule behind each."""
    from whoknows.identity import explain
    from whoknows.store import open_store

    data = explain(open_store(settings(), create=False), person)
    if json_out:
        print_json(data)
        return
    p = data["person"]
    out.print(
        f"[bold]#{p['id']} {p['name']}[/bold] {p['role'] or ''} {p['department'] or ''}"
        f"{' (opted out)' if p['opted_out'] else ''}"
    )
    _table(
        "Identities",
        ["identity", "rule", "aliases"],
        [{**i, "aliases": ", ".join(i["aliases"])} for i in data["identities"]],
    )
    _table("Merges", ["id", "rule", "absorbed", "created_at", "undone_at"], data["merges"])
    _table(
        "Messages",
        ["source", "messages"],
        [{"source": k, "messages": v} for k, v in data["messages_by_source"].items()],
    )


@people_app.command("merge")
def people_merge(
    survivor: Annotated[str, typer.Argument(help="The person who stays.")],
    other: Annotated[str, typer.Argument(help="The person merged into the survivor.")],
    json_out: JsonOpt = False,
) -> None:
    """Merge two people (reversible with `people unmerge`)."""
    from whoknows.identity import merge
    from whoknows.store import open_store

    merge_id = merge(open_store(settings(), create=False), survivor, other)
    if json_out:
        print_json({"merge_id": merge_id})
    else:
        out.print(f"merged {other!r} into {survivor!r} (merge {merge_id}; undo: whoknows people unmerge {merge_id})")


@people_app.command("unmerge")
def people_unmerge(
    merge_id: Annotated[int, typer.Argument(help="Merge id, from `people show`.")],
    json_out: JsonOpt = False,
) -> None:
    """Undo a merge: the absorbed person or source identity becomes a person of its own again."""
    from whoknows.identity import unmerge
    from whoknows.store import open_store

    pid = unmerge(open_store(settings(), create=False), merge_id)
    if json_out:
        print_json({"merge_id": merge_id, "person_id": pid})
    else:
        out.print(f"merge {merge_id} undone; person #{pid} is separate again")


@people_app.command("opt-out")
def people_opt_out(
    person: Annotated[str, typer.Argument(help="The person: e-mail, @handle, full name or #id.")],
    undo: Annotated[bool, typer.Option("--undo", help="Opt the person back in.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Opt a person out of whoknows altogether: no expert rankings, no routing, not named in answers or analytics."""
    from whoknows.identity import set_opt_out
    from whoknows.store import open_store

    data = set_opt_out(open_store(settings(), create=False), person, not undo)
    _done(data, json_out, f"{data['name']} (#{data['id']}) is {'opted out' if data['opted_out'] else 'opted in'}")


@people_app.command("map")
def people_map(
    path: Annotated[Path, typer.Argument(help="CSV with columns person,alias (alias as kind:value).")],
    json_out: JsonOpt = False,
) -> None:
    """Apply an explicit identity mapping file."""
    from whoknows.identity import apply_mapping
    from whoknows.store import open_store

    result = apply_mapping(open_store(settings(), create=False), path)
    if json_out:
        print_json(result.as_dict())
    else:
        _table(f"Mapping {path}", ["alias", "person", "action"], result.applied)
        for line in result.errors:
            err.print(f"[yellow]skipped:[/yellow] {line}")
    if result.errors:
        raise typer.Exit(1)


@people_app.command("suggest")
def people_suggest(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many pairs.")] = 100,
    json_out: JsonOpt = False,
) -> None:
    """List likely duplicates (same full name in two sources) for review; nothing is merged."""
    from whoknows.identity import suggest
    from whoknows.store import open_store

    pairs = suggest(open_store(settings(), create=False), limit=limit)
    if json_out:
        print_json(pairs)
        return
    _table(
        "Possible duplicates (merge with: whoknows people merge A B)",
        ["people", "name", "sources"],
        [{**p, "people": " & ".join(f"#{i}" for i in p["people"]), "sources": ", ".join(p["sources"])} for p in pairs],
    )
    if not pairs:
        out.print("no likely duplicates found")


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
    result = build_report(store, viewer=as_, admin=admin, months=months, performance_csv=performance, settings=s)
    if html is not None:
        write_html(result, html)
    if json_out:
        print_json({**result.as_dict(), "html": str(html) if html else None})
        return
    render_terminal(result, out)
    if html is not None:
        out.print(f"HTML report written to {html}")


def _table(title: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col, justify="right" if isinstance(rows[0].get(col), int) else "left")
    for row in rows:
        table.add_row(
            *(
                "" if row.get(c) is None else f"{row[c]:,}" if isinstance(row.get(c), int) else str(row[c])
                for c in columns
            )
        )
    out.print(table)


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
