"""The store: the single source of truth, one interface over SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, case, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from whoknows.access import Viewer, role_of
from whoknows.access import _make as make_viewer
from whoknows.errors import NotFoundError, StoreError, WhoknowsError
from whoknows.model import AliasKind, Batch, Person, Visibility, WriteStats, normalize_alias
from whoknows.settings import Settings
from whoknows.store import import_runs, migrations, schema
from whoknows.store.directory import visible_people
from whoknows.store.engine import (
    WRITE_OPTION,
    create_postgres_engine,
    create_sqlite_engine,
    describe_db_failure,
    enable_wal,
    sqlite_path,
)
from whoknows.store.urls import normalize_db_url, redact
from whoknows.store.writer import BatchWriter


@dataclass
class StatusReport:
    """Counts for ``whoknows status``: totals, the memory, and per source, space and person.

    ``memory`` is the corporate memory in total (questions, those with a solution, their share); every
    ``sources`` row carries the same three counts for the questions asked in that source's spaces.
    """

    database: str
    schema_version: int
    totals: dict[str, int]
    memory: dict[str, Any] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    spaces: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    imports: list[dict[str, Any]] = field(default_factory=list)


class Store:
    """Access to one whoknows database. Create with :func:`open_store`."""

    def __init__(self, engine: Engine, url: str):
        self.engine = engine
        self.url = url
        self.backend = make_url(url).get_backend_name()
        self._database_id: str | None = None

    # -- transactions -------------------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (a consistent snapshot)."""
        with self._guard(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: ``BEGIN IMMEDIATE`` on SQLite, committed on success, rolled back on error."""
        with self._guard(), self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except WhoknowsError:
            raise
        except DBAPIError as exc:
            raise describe_db_failure(self.url, exc) from exc

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------------------------
    def schema_version(self) -> int:
        with self.read() as conn:
            return migrations.current_version(conn)

    def migrate(self) -> list[str]:
        """Bring the schema up to date in one transaction. Returns the names of the applied migrations."""
        with self.write() as conn:
            version = migrations.current_version(conn)
            migrations.check_version(version, redact(self.url))
            applied = migrations.apply(conn, migrations.pending(version))
        return [f"{m.version:04d}_{m.name}" for m in applied]

    @property
    def database_id(self) -> str:
        """This database's identity (a random id made once by migration 0007): what everything derived from it is
        filed under and records (:func:`whoknows.derive.derived_dir`). Read once, then cached."""
        if self._database_id is None:
            with self.read() as conn:
                found = conn.execute(select(schema.database_identity.c.database_id)).scalar()
            if not found:
                raise StoreError(
                    f"the database {redact(self.url)} has no identity row (database_identity); it was not made by "
                    "this version's migrations",
                    code="store.no_identity",
                )
            self._database_id = str(found)
        return self._database_id

    # -- imports ------------------------------------------------------------------------------------------
    def begin_import(self, kind: str, source: str, location: str | None = None) -> int:
        with self.write() as conn:
            return int(
                conn.execute(
                    insert(schema.imports)
                    .values(
                        kind=kind,
                        source=source,
                        location=location,
                        started_at=datetime.now(UTC),
                        status="running",
                        stats={},
                    )
                    .returning(schema.imports.c.id)
                ).scalar_one()
            )

    def finish_import(self, import_id: int, stats: WriteStats, *, error: str | None = None) -> None:
        with self.write() as conn:
            conn.execute(
                update(schema.imports)
                .where(schema.imports.c.id == import_id)
                .values(
                    finished_at=datetime.now(UTC),
                    status="failed" if error else "done",
                    stats=stats.counts,
                    error=error,
                )
            )

    def writer(self, import_id: int | None) -> BatchWriter:
        return BatchWriter(import_id)

    def write_batch(
        self, writer: BatchWriter, batch: Batch, then: Callable[[Connection, WriteStats], None] | None = None
    ) -> WriteStats:
        """Write ``batch`` in one transaction: all of it or (on any error) none of it. ``then`` runs in the same
        transaction after the rows (an import's progress record, so it never lags what was committed)."""
        try:
            with self.write() as conn:
                stats = writer.write(conn, batch)
                if then is not None:
                    then(conn, stats)
        except BaseException:
            writer.rollback()
            raise
        writer.commit()
        return stats

    # -- reads --------------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        with self.read() as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for name, table in (
                    ("people", schema.people),
                    ("spaces", schema.spaces),
                    ("threads", schema.threads),
                    ("messages", schema.messages),
                    ("imports", schema.imports),
                )
            }

    def status(self, *, top: int = 10) -> StatusReport:
        m, s, p = schema.messages, schema.spaces, schema.people
        with self.read() as conn:
            version = migrations.current_version(conn)
            totals = {
                name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for name, table in (
                    ("people", p),
                    ("spaces", s),
                    ("threads", schema.threads),
                    ("messages", m),
                )
            }
            sources = [
                {"source": src, "messages": int(n), "first": _iso(first), "last": _iso(last)}
                for src, n, first, last in conn.execute(
                    select(m.c.source, func.count(), func.min(m.c.created_at), func.max(m.c.created_at))
                    .group_by(m.c.source)
                    .order_by(func.count().desc())
                )
            ]
            memory = _memory_counts(conn, sources)
            per_space = select(m.c.space_id, func.count().label("n")).group_by(m.c.space_id).subquery()
            members = (
                select(schema.space_members.c.space_id, func.count().label("members"))
                .group_by(schema.space_members.c.space_id)
                .subquery()
            )
            spaces = [
                {
                    "id": sid,
                    "name": name,
                    "kind": kind,
                    "visibility": vis,
                    "source": src,
                    "messages": int(n or 0),
                    "members": int(nm or 0),
                }
                for sid, name, kind, vis, src, n, nm in conn.execute(
                    select(
                        s.c.id,
                        s.c.name,
                        s.c.kind,
                        s.c.visibility,
                        s.c.source,
                        per_space.c.n,
                        members.c.members,
                    )
                    .outerjoin(per_space, per_space.c.space_id == s.c.id)
                    .outerjoin(members, members.c.space_id == s.c.id)
                    .order_by(per_space.c.n.desc().nulls_last(), s.c.id)
                    .limit(top)
                )
            ]
            per_person = (
                select(m.c.author_id, func.count().label("n"))
                .where(m.c.author_id.is_not(None))
                .group_by(m.c.author_id)
                .order_by(func.count().desc())
                .limit(top)
                .subquery()
            )
            people = [
                {"id": pid, "name": name, "department": dept, "messages": int(n)}
                for pid, name, dept, n in conn.execute(
                    select(p.c.id, p.c.name, p.c.department, per_person.c.n)
                    .join(per_person, per_person.c.author_id == p.c.id)
                    .order_by(per_person.c.n.desc(), p.c.id)
                )
            ]
            imports = []
            for i in conn.execute(select(schema.imports).order_by(schema.imports.c.id.desc()).limit(top)).mappings():
                status, error, stats = import_runs.shown(i)  # a killed run shows as interrupted, not running
                imports.append(
                    {
                        "id": i["id"],
                        "kind": i["kind"],
                        "source": i["source"],
                        "status": status,
                        "started_at": _iso(i["started_at"]),
                        "finished_at": _iso(i["finished_at"]),
                        "stats": stats,
                        "error": error,
                    }
                )
        return StatusReport(
            database=redact(self.url),
            schema_version=version,
            totals=totals,
            memory=memory,
            sources=sources,
            spaces=spaces,
            people=people,
            imports=imports,
        )

    def get_person(self, person_id: int) -> Person:
        with self.read() as conn:
            row = conn.execute(select(schema.people).where(schema.people.c.id == person_id)).mappings().first()
            if row is None:
                raise NotFoundError(f"no person with id {person_id}", code="person.not_found")
            aliases = conn.execute(
                select(schema.person_aliases.c.kind, schema.person_aliases.c.value).where(
                    schema.person_aliases.c.person_id == person_id
                )
            ).all()
        return _person(row, aliases)

    def find_person(self, ref: str, viewer: Viewer) -> Person:
        """A person by id (``#12`` or ``12``), e-mail, handle or exact name (case-insensitive), among the people
        ``viewer`` may see (:func:`whoknows.store.directory.visible_people`). Someone the viewer may not see gets
        exactly the answer of someone who does not exist."""
        ref = ref.strip()
        if not ref:
            raise NotFoundError("empty person reference", code="person.not_found")
        digits = ref.lstrip("#")
        with self.read() as conn:
            if digits.isascii() and digits.isdigit():  # not "²" (isdigit, but int() refuses it)
                if int(digits) >= 2**63:  # no such row, and too large for the database driver
                    raise NotFoundError(f"no person #{digits}", code="person.not_found")
                if not visible_people(conn, [int(digits)], viewer):
                    raise NotFoundError(f"no person with id {int(digits)}", code="person.not_found")
                return self.get_person(int(digits))
            pid = _resolve_person(conn, ref, viewer)
        if pid is None:
            raise NotFoundError(
                f"no person matches {ref!r} (try an e-mail, @handle, full name or #id)",
                code="person.not_found",
            )
        return self.get_person(int(pid))

    def viewer(self, person_id: int | None, role: str | None = "member") -> Viewer:
        """The :class:`~whoknows.access.Viewer` of ``person_id`` with an account ``role``: what they may read
        (every public space, and private spaces they are a member of). ``None`` is an anonymous reader, who
        sees public spaces only. The one place a person's viewer is built."""
        with self.read() as conn:
            return viewer_in(conn, person_id, role)


def viewer_in(conn: Connection, person_id: int | None, role: str | None = "member") -> Viewer:
    """:meth:`Store.viewer` inside a transaction the caller already holds (the same one rule)."""
    ids = set(conn.execute(_PUBLIC_SPACES).scalars())
    if person_id is not None:
        ids |= set(conn.execute(_MEMBER_SPACES, {"person": person_id}).scalars())
    return make_viewer(person_id, role_of(role, person_id), frozenset(int(i) for i in ids))


def _resolve_person(conn: Connection, ref: str, viewer: Viewer) -> int | None:
    """The one person ``ref`` (e-mail, handle, name) names among those ``viewer`` may see; several: an error."""
    a = schema.person_aliases
    for kind, value in ((AliasKind.EMAIL, ref), (AliasKind.HANDLE, ref.lstrip("@")), (AliasKind.NAME, ref)):
        found = conn.execute(
            select(a.c.person_id).where(a.c.kind == kind.value, a.c.value == normalize_alias(kind, value)).limit(50)
        ).scalars()
        seen = visible_people(conn, {int(i) for i in found}, viewer)
        if len(seen) > 1:
            listed = ", ".join(f"#{i}" for i in sorted(seen)[:10])
            raise NotFoundError(
                f"{ref!r} matches several people ({listed}); use an id or e-mail", code="person.ambiguous"
            )
        if seen:
            return seen.pop()
    named = conn.execute(select(schema.people.c.id).where(func.lower(schema.people.c.name) == ref.lower()).limit(50))
    ids = visible_people(conn, {int(i) for i in named.scalars()}, viewer)
    if len(ids) > 1:
        raise NotFoundError(f"{ref!r} matches several people; use an id or e-mail", code="person.ambiguous")
    return ids.pop() if ids else None


# Built once: every question reads them.
_PUBLIC_SPACES = select(schema.spaces.c.id).where(schema.spaces.c.visibility == Visibility.PUBLIC.value)
_MEMBER_SPACES = select(schema.space_members.c.space_id).where(schema.space_members.c.person_id == bindparam("person"))


def _memory_counts(conn: Connection, sources: list[dict[str, Any]]) -> dict[str, Any]:
    """Questions in the memory and those with a solution, per source (of the question's space) and in total.

    One grouped query over ``qa_pairs``; adds ``questions``/``solved``/``solved_share`` to every ``sources`` row
    (a source whose messages hold no question shows 0) and returns the totals.
    """
    q, s = schema.qa_pairs, schema.spaces
    solved = func.sum(case((q.c.solutions > 0, 1), else_=0))
    counts = {
        src: (int(n), int(k or 0))
        for src, n, k in conn.execute(
            select(s.c.source, func.count(), solved).join(s, s.c.id == q.c.space_id).group_by(s.c.source)
        )
    }
    by_source = {row["source"]: row for row in sources}
    for src in counts.keys() - by_source.keys():  # questions whose space's source differs from its messages'
        sources.append({"source": src, "messages": 0, "first": None, "last": None})
        by_source[src] = sources[-1]
    for src, row in by_source.items():
        n, k = counts.get(src, (0, 0))
        row.update(questions=n, solved=k, solved_share=_share(k, n))
    n = sum(c[0] for c in counts.values())
    k = sum(c[1] for c in counts.values())
    return {"questions": n, "solved": k, "solved_share": _share(k, n)}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _person(row: Any, aliases: Sequence[Any]) -> Person:
    from whoknows.model import Alias

    return Person(
        id=row["id"],
        source=row["source"],
        external_id=row["external_id"],
        name=row["name"],
        department=row["department"],
        team=row["team"],
        role=row["role"],
        timezone=row["timezone"],
        opted_out=bool(row["opted_out"]),
        is_bot=bool(row["is_bot"]),
        meta=row["meta"] or {},
        aliases=[Alias(AliasKind(k), v) for k, v in aliases],
    )


def open_store(
    db: str | os.PathLike[str] | Settings | None = None, *, create: bool = True, migrate: bool = True
) -> Store:
    """Open (and by default create and migrate) the database named by ``db``.

    ``db`` is a file path, a URL, or a :class:`Settings`; ``None`` uses the default settings. A database with
    a newer schema than this code, a read-only file that needs migrating, or an unreachable server raise
    :class:`StoreError` with a one-line message, and nothing in the database is changed.
    """
    if isinstance(db, os.PathLike):
        db = os.fspath(db)
    settings = db if isinstance(db, Settings) else Settings(db=db) if db is not None else Settings()
    url = settings.database_url() if isinstance(db, Settings) or db is None else normalize_db_url(db)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = create_sqlite_engine(url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, create=create)
    else:
        engine = create_postgres_engine(url)
    store = Store(engine, url)
    try:
        with store.read() as conn:
            version = migrations.current_version(conn)
        migrations.check_version(version, redact(url))
        if backend == "sqlite" and sqlite_path(url) is not None:
            enable_wal(engine)
        if migrate and migrations.pending(version):
            store.migrate()
    except WhoknowsError:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        raise describe_db_failure(url, exc) from None
    except OSError as exc:
        engine.dispose()
        raise StoreError(f"cannot open database {redact(url)}: {exc}", code="store.cannot_open") from None
    return store
