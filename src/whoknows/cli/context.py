"""What every command runs with: the global --db choice, the shared --json and --as options, and who acts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from whoknows.errors import WhoknowsError
from whoknows.settings import Settings

if TYPE_CHECKING:
    from whoknows.access import Viewer
    from whoknows.model import Person
    from whoknows.store import Store

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


def derived_folder(s: Settings, store: Store) -> Path:
    """Where everything derived from ``store``'s database lives in the data dir of ``s``: what commands pass to the
    core as its ``data_dir`` (:func:`whoknows.derive.derived_dir`)."""
    from whoknows.derive import derived_dir

    return derived_dir(s.data_dir, store)


def open_as(ref: str | None) -> tuple[Settings, Store, Person | None]:
    """Settings, the existing store, and the person a command acts as (``--as``), if any. The operator of the
    shell names anyone (the system viewer resolves the reference)."""
    from whoknows.access import Viewer
    from whoknows.store import open_store

    s = settings()
    store = open_store(s, create=False)
    return s, store, store.find_person(ref, Viewer.system()) if ref else None


def viewer_of(store: Store, person: Person | None, role: str = "member") -> Viewer:
    """What a command acting as ``person`` may read: their spaces (public spaces only without ``--as``)."""
    return store.viewer(person.id if person else None, role)


def need_person(ref: str | None) -> tuple[Settings, Store, int]:
    """Like :func:`open_as` for commands that must know who you are: the person's id, or an error without --as."""
    s, store, person = open_as(ref)
    if person is None or person.id is None:
        raise WhoknowsError("this command needs --as PERSON (who you are)", code="routing.no_person")
    return s, store, person.id
