"""The `people` commands: identity resolution (explain, merge, undo, opt-out, mapping file, suggestions)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from whoknows.cli.app import app
from whoknows.cli.context import JsonOpt, settings
from whoknows.cli.output import done, err, out, print_json, print_table

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
    print_table(
        "Identities",
        ["identity", "rule", "aliases"],
        [{**i, "aliases": ", ".join(i["aliases"])} for i in data["identities"]],
    )
    print_table("Merges", ["id", "rule", "absorbed", "created_at", "undone_at"], data["merges"])
    print_table(
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
    done(data, json_out, f"{data['name']} (#{data['id']}) is {'opted out' if data['opted_out'] else 'opted in'}")


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
        print_table(f"Mapping {path}", ["alias", "person", "action"], result.applied)
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
    print_table(
        "Possible duplicates (merge with: whoknows people merge A B)",
        ["people", "name", "sources"],
        [{**p, "people": " & ".join(f"#{i}" for i in p["people"]), "sources": ", ".join(p["sources"])} for p in pairs],
    )
    if not pairs:
        out.print("no likely duplicates found")
