"""Routing commands: send a question to experts, and the experts' side (inbox, answer, decline, forward), accept,
the background worker and routing preferences."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from whoknows.cli.app import app
from whoknows.cli.context import AsOpt, JsonOpt, derived_folder, need_person, settings
from whoknows.cli.output import done, err, out, print_json

AssignmentArg = Annotated[int, typer.Argument(help="The assignment id (from `whoknows inbox`).")]


@app.command()
def route(
    question: Annotated[str, typer.Argument(help="The question, in your own words.")],
    as_: AsOpt = None,
    always: Annotated[bool, typer.Option("--always", help="Route even if memory answers (it did not help).")] = False,
    k: Annotated[int, typer.Option("--k", min=1, max=20, help="How many experts to ask.")] = 3,
    urgency: Annotated[
        str,
        typer.Option(
            "--urgency",
            help="How long the question may wait for a better expert's working day: now, today, 'this week'.",
        ),
    ] = "today",
    json_out: JsonOpt = False,
) -> None:
    """Answer from memory first; when memory is not enough, ask the right experts (and say who and why)."""
    from whoknows.routing import ask_or_route

    s, store, asker_id = need_person(as_)
    result = ask_or_route(
        store,
        derived_folder(s, store),
        question,
        asker_id,
        route="always" if always else "auto",
        k=k,
        settings=s,
        urgency=urgency,  # type: ignore[arg-type]  # checked by the flow, with a clear error
    )
    if json_out:
        print_json(result.as_dict())
        return
    for w in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {w}")
    sols = result.memory.get("solutions", [])
    if sols:
        top = sols[0]
        solver = (top.get("solved_by") or {}).get("name") or "unknown"
        dept = (top.get("solved_by") or {}).get("department")
        out.print(f"[bold]From memory[/bold] (confidence {result.confidence:.2f}): {top['solution']}", highlight=False)
        out.print(
            f"   — {solver}{f', {dept}' if dept else ''}, {(top.get('asked_at') or '')[:10]} in {top.get('space')}",
            highlight=False,
        )
    if not result.routed:
        out.print(f"Not routed: {result.reason}", highlight=False)
        return
    out.print(f"[bold]Routed question #{result.question_id}[/bold]: {result.reason}", highlight=False)
    for a in result.asked:
        via = a.get("reaches", a["channel"])
        how = "the whoknows inbox only: no e-mail or Slack is set up" if via == "inbox" else f"{via} and the inbox"
        out.print(f"  asked {a['name']} (assignment {a['assignment_id']}, via {how})", highlight=False)
        for r in a["reasons"]:
            out.print(f"     - {r}", highlight=False)
    for sk in result.skipped:
        out.print(f"  not asked: {sk['name']}: {sk['why']}", highlight=False)


@app.command()
def inbox(as_: AsOpt = None, json_out: JsonOpt = False) -> None:
    """Routed questions waiting for your answer."""
    from whoknows.routing import inbox as load_inbox

    _s, store, me_id = need_person(as_)
    items = load_inbox(store, store.viewer(me_id))
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
    assignment_id: AssignmentArg,
    text: Annotated[str, typer.Argument(help="Your answer.")],
    as_: AsOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Answer a routed question; the answer goes to the asker and into memory, credited to you."""
    from whoknows.routing import answer as do_answer

    s, store, me_id = need_person(as_)
    data = do_answer(store, derived_folder(s, store), assignment_id, text, me_id, settings=s)
    done(data, json_out, f"answer #{data['answer_id']} recorded for question #{data['question_id']}; thank you")


@app.command()
def decline(
    assignment_id: AssignmentArg,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option("--reason", help="Why; 'not my area' teaches the ranker.")] = "not my area",
    json_out: JsonOpt = False,
) -> None:
    """Decline a routed question; the next expert is asked."""
    from whoknows.routing import decline as do_decline

    s, store, me_id = need_person(as_)
    data = do_decline(store, derived_folder(s, store), assignment_id, me_id, reason=reason, settings=s)
    done(data, json_out, f"declined; asked instead: {', '.join(data['next']) or 'nobody yet (the worker retries)'}")


@app.command()
def forward(
    assignment_id: AssignmentArg,
    colleague: Annotated[str, typer.Argument(help="E-mail, @handle, full name or #id of the colleague.")],
    as_: AsOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Forward a routed question to a colleague who knows better."""
    from whoknows.routing import forward as do_forward

    s, store, me_id = need_person(as_)
    other = store.find_person(colleague, store.viewer(me_id))
    assert other.id is not None
    data = do_forward(store, assignment_id, me_id, other.id, settings=s)
    done(data, json_out, f"forwarded to {data['forwarded_to']}")


@app.command()
def accept(
    question_id: Annotated[int, typer.Argument(help="The routed question id.")],
    as_: AsOpt = None,
    rating: Annotated[int | None, typer.Option("--rating", min=1, max=5, help="How good the answer was, 1-5.")] = None,
    share: Annotated[
        str,
        typer.Option(
            "--share",
            help="Who may find the answer in memory: topic (the people of the spaces the question's topic came "
            "from; organisation-wide when memory cited none), everyone, private.",
        ),
    ] = "topic",
    json_out: JsonOpt = False,
) -> None:
    """Accept (and rate) the answer to your routed question; the expertise model learns from it, and the next
    colleague asking finds it (see --share)."""
    from whoknows.routing import accept as do_accept

    s, store, me_id = need_person(as_)
    data = do_accept(store, derived_folder(s, store), question_id, me_id, rating=rating, share=share)
    shared = data["shared"]
    audience = ", ".join(shared["with"]) if shared["with"] else "nobody else (private)"
    done(
        data, json_out, f"answer #{data['answer_id']} accepted; question #{question_id} closed; shared with {audience}"
    )


@app.command()
def unshare(
    question_id: Annotated[int, typer.Argument(help="The routed question id.")],
    as_: AsOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Take back a shared answer you gave (or your accepted question): only the asker and the experts may read it."""
    from whoknows.routing import unshare as do_unshare

    _s, store, me_id = need_person(as_)
    data = do_unshare(store, question_id, me_id)
    done(data, json_out, f"question #{question_id} and its answers are private again")


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Process what is due now, then exit.")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.1, help="Seconds between idle rounds.")] = 5.0,
    parent: Annotated[
        int | None, typer.Option("--exit-with-parent", hidden=True, help="Stop when this process (the server) ends.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Send notifications, expire and escalate unanswered questions, learn from outcomes (runs until stopped)."""
    from whoknows.routing import run_forever, run_once
    from whoknows.store import open_store

    if parent is not None:
        from whoknows.api.worker_child import exit_with_parent

        exit_with_parent(parent)

    s = settings()
    store = open_store(s, create=False)
    if once:
        stats = run_once(store, s, derived_folder(s, store))
        done(stats.as_dict(), json_out, ", ".join(f"{k} {v}" for k, v in stats.as_dict().items() if k != "errors"))
        for e in stats.errors[:20]:
            err.print(f"[yellow]warning:[/yellow] {e}")
        return

    def report(stats: Any) -> None:
        if stats.busy() or stats.errors:
            err.print(", ".join(f"{k} {v}" for k, v in stats.as_dict().items() if k != "errors"))

    import contextlib

    with contextlib.suppress(KeyboardInterrupt):
        run_forever(store, s, derived_folder(s, store), interval=interval, on_round=report)


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

    _s, store, me_id = need_person(as_)
    ooo = None
    if ooo_until:
        try:
            ooo = datetime.fromisoformat(ooo_until).replace(tzinfo=UTC)
        except ValueError:
            raise InputError(
                f"--ooo-until: {ooo_until!r} is not a date (YYYY-MM-DD)", code="routing.bad_prefs"
            ) from None
    hidden = sorted(set(get_prefs(store, me_id).hidden_topics) | set(hide_topic)) if hide_topic else None
    p = set_prefs(
        store,
        me_id,
        weekly_budget=budget,
        ooo_until=ooo,
        digest=digest,
        channels=[channel] if channel else None,
        hidden_topics=hidden,
    )
    done(p.as_dict(), json_out, ", ".join(f"{k}: {v}" for k, v in p.as_dict().items() if k != "person_id"))
