"""Operator commands: the server, accounts and API tokens, erasure and retention."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from whoknows.cli.app import app
from whoknows.cli.context import JsonOpt, derived_folder, open_as, settings
from whoknows.cli.output import done, err, out, print_json
from whoknows.settings import Settings


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
    routing_worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run the routing worker (notifications, escalation, learning) beside the server; --no-worker when "
            "`whoknows worker` runs elsewhere.",
        ),
    ] = True,
) -> None:
    """Run the web UI and HTTP API server (uvicorn) and, unless --no-worker, the routing worker; the OpenAPI spec
    is at /api/v1/openapi.json."""
    from whoknows.api.app import serve as run_server

    s = settings()
    err.print(f"whoknows on http://{host}:{port}/ (API: /api/v1, spec: /api/v1/openapi.json); Ctrl-C stops it")
    demo_logins = _demo_logins(s)
    if demo_logins is not None:
        first = demo_logins["logins"][0]["email"] if demo_logins.get("logins") else "a demo person's e-mail"
        err.print(f"demo org: log in as {first} with password {demo_logins['password']} (more in the file "
                  f"{demo_logins.get('path')})")  # fmt: skip
    if routing_worker:
        err.print("the routing worker runs beside the server (notifications, escalation, learning; --no-worker: off)")
    run_server(s, host=host, port=port, workers=workers, routing_worker=routing_worker)


def _demo_logins(s: Settings) -> dict[str, Any] | None:
    """The demo logins saved for the database ``serve`` opens (in its derived folder), if any."""
    from whoknows.demo.accounts import read_logins
    from whoknows.errors import WhoknowsError
    from whoknows.store import open_store

    try:
        with open_store(s, create=False) as store:
            return read_logins(derived_folder(s, store))
    except WhoknowsError:  # no database yet: the server creates it
        return None


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
    done(data, json_out, f"account {data['action']}: {data['name']} (#{data['person_id']}) as {data['role']}")


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
    done(issued.as_dict(), json_out, f"token #{issued.id} ({issued.role}): {issued.token}")


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
    result = erase_person(store, derived_folder(s, store), f"#{target.id}", policy=policy)  # type: ignore[arg-type]
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
    store = open_store(s, create=False)
    result = apply_retention(store, derived_folder(s, store), s, dry_run=dry_run)
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
