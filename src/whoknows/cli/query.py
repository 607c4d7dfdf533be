"""Commands that answer from the corporate memory and find people: ask, experts, profile."""

from __future__ import annotations

from typing import Annotated

import typer

from whoknows.cli.app import app
from whoknows.cli.context import AsOpt, JsonOpt, derived_folder, open_as, viewer_of
from whoknows.cli.output import err, out, print_json


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
        from whoknows.cli.routing import route  # not at the top: it would register `route` before `ask`

        route(question, as_=as_, always=False, k=3, json_out=json_out)
        return
    from whoknows.memory.ask import ask as ask_memory

    s, store, asker = open_as(as_)
    result = ask_memory(store, derived_folder(s, store), question, viewer_of(store, asker), k=k)
    if json_out:
        print_json(result.as_dict())
        return
    for line in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {line}")
    who = f"as {asker.name}" if asker else "public spaces only (use --as to include your private spaces)"
    took = f"; {result.took_ms:.0f} ms" if result.took_ms is not None else ""
    out.print(f"[bold]{question}[/bold]  [dim]({who}{took})[/dim]")
    if result.reason:
        out.print(f"  {result.reason}")
    elif result.solutions:
        words = result.verdict[0].upper() + result.verdict[1:]
        out.print(f"  [bold]{words}[/bold] (confidence {result.confidence:.2f})")
        for sentence in result.answer:
            out.print(f"  • {sentence.text} [dim][{sentence.card}][/dim]", highlight=False)
    for i, hit in enumerate(result.solutions, 1):
        solver = hit.solved_by.name if hit.solved_by else "unknown"
        dept = f", {hit.solved_by.department}" if hit.solved_by and hit.solved_by.department else ""
        said = f"  [dim](said {len(hit.duplicates) + 1} times)[/dim]" if hit.duplicates else ""
        out.print(f"\n[bold]{i}. {hit.question}[/bold]{said}", highlight=False)
        out.print(f"   [green]{hit.solution}[/green]", highlight=False)
        out.print(
            f"   — {solver}{dept}, {(hit.asked_at or '')[:10]} in {hit.space}; {hit.verdict} ({hit.confidence:.2f})",
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
    result = find_experts(store, question, viewer_of(store, asker), k=k, path=expertise_path(derived_folder(s, store)))
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
            f"\n[bold]{e.rank}. {e.name}[/bold] ({e.position() or 'no department'}) score {e.score:.2f}",
            highlight=False,
        )
        if e.reason:
            out.print(f"   why: {e.reason}", highlight=False)
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
    result = profile(store, person, viewer_of(store, viewer), path=expertise_path(derived_folder(s, store)))
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
        out.print(f"  • [bold]{t.label or t.term}[/bold] ({t.messages} messages)", highlight=False)
        for ev in t.evidence[:2]:
            out.print(f"      {ev.snippet[:140]} [dim]({'; '.join(ev.why)})[/dim]", highlight=False)
