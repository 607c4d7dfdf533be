"""Writing batches of domain objects: resolve external references, insert what is new, update what changed.

One :class:`BatchWriter` serves one import run. It keeps ``external id -> id`` caches so that a long import
does not look up the same rows again, and writes each batch in one transaction: a batch is either fully
written or not at all (the caches are only updated after the commit).

People are resolved through aliases (see :mod:`whoknows.store.people_writer`): every person record gets an
implicit alias ``external: <source>#<external_id>``, plus the aliases the importer found. A record whose *strong*
alias (e-mail, Slack or Stack Exchange id) matches an existing person joins that person, and the merge is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, func, insert, select, text, update

from whoknows.model import AliasKind, Batch, Message, Person, Space, Thread, WriteStats
from whoknows.store import schema
from whoknows.store.chunking import in_chunks
from whoknows.store.people_writer import identity_of, write_people


def external_alias(source: str, external_id: str) -> tuple[str, str]:
    return (AliasKind.EXTERNAL.value, identity_of(source, external_id))


def to_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def allocate_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """Reserve ``n`` primary keys of ``table`` so that rows (and references to them) can be written in one
    ``executemany``. SQLite: above the current maximum (safe: writes hold the database lock from BEGIN
    IMMEDIATE). PostgreSQL: from the table's sequence, safe with concurrent writers."""
    if n <= 0:
        return []
    if conn.dialect.name == "postgresql":
        sql = text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :n)")
        return [int(v) for v in conn.execute(sql, {"n": n}).scalars()]
    start = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
    return list(range(start, start + n))


def _sqlite_value(value: Any) -> Any:
    """A Python value as SQLAlchemy's SQLite dialect stores it (naive UTC datetimes, JSON text, 0/1)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dict | list):
        return json.dumps(value) if value else ("{}" if isinstance(value, dict) else "[]")
    return value


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows. On SQLite the driver's executemany is called directly (the rows are converted the way
    SQLAlchemy would store them), which is about twice as fast as going through SQLAlchemy's per-row binding;
    other databases use a Core insert."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows)
        return
    columns = list(rows[0])
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    conn.exec_driver_sql(sql, [tuple(_sqlite_value(row[c]) for c in columns) for row in rows])


class BatchWriter:
    """Writes :class:`Batch` objects of one import into the store."""

    def __init__(self, import_id: int | None):
        self.import_id = import_id
        # (source, external_id) -> id
        self.people: dict[tuple[str, str], int] = {}
        self.spaces: dict[tuple[str, str], int] = {}
        self.threads: dict[tuple[str, str], tuple[int, int]] = {}  # -> (thread id, space id)
        self.messages: dict[tuple[str, str], int] = {}
        self.warnings: list[str] = []

    # -- public -------------------------------------------------------------------------------------------
    def write(self, conn: Connection, batch: Batch) -> WriteStats:
        """Write one batch inside the caller's transaction. Caches are staged and committed by :meth:`commit`."""
        stats = WriteStats()
        self._staged: dict[str, dict[tuple[str, str], Any]] = {
            "people": {},
            "spaces": {},
            "threads": {},
            "messages": {},
        }
        self._write_people(conn, batch.people, stats)
        self._write_spaces(conn, batch.spaces, stats)
        self._write_threads(conn, batch.threads, stats)
        self._write_messages(conn, batch.messages, stats)
        return stats

    def commit(self) -> None:
        """Call after the transaction committed: make the batch's ids visible to later batches."""
        staged = getattr(self, "_staged", None)
        if not staged:
            return
        self.people.update(staged["people"])
        self.spaces.update(staged["spaces"])
        self.threads.update(staged["threads"])
        self.messages.update(staged["messages"])
        self._staged = {}

    def rollback(self) -> None:
        self._staged = {}

    # -- lookups ------------------------------------------------------------------------------------------
    def _lookup(
        self, conn: Connection, table: Table, keys: list[tuple[str, str]], extra: Sequence[Any] = ()
    ) -> dict[tuple[str, str], Any]:
        """Rows of ``table`` for the given (source, external_id) keys: key -> id (or (id, *extra))."""
        found: dict[tuple[str, str], Any] = {}
        by_source: dict[str, list[str]] = {}
        for source, ext in keys:
            by_source.setdefault(source, []).append(ext)
        for source, exts in by_source.items():
            for part in in_chunks(list(dict.fromkeys(exts))):
                cols = [table.c.id, table.c.external_id, *extra]
                rows = conn.execute(select(*cols).where(and_(table.c.source == source, table.c.external_id.in_(part))))
                for row in rows:
                    key = (source, row[1])
                    found[key] = row[0] if not extra else (row[0], *row[2:])
        return found

    def _resolve(
        self,
        conn: Connection,
        cache_name: str,
        table: Table,
        keys: set[tuple[str, str]],
        extra: Sequence[Any] = (),
    ) -> dict[tuple[str, str], Any]:
        cache: dict[tuple[str, str], Any] = getattr(self, cache_name)
        staged = self._staged[cache_name]
        out = {k: staged.get(k, cache.get(k)) for k in keys}
        missing = [k for k, v in out.items() if v is None]
        if missing:
            found = self._lookup(conn, table, missing, extra)
            staged.update(found)
            out.update(found)
        return {k: v for k, v in out.items() if v is not None}

    def person_ids(self, conn: Connection, refs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Resolve (source, external_id) person references through the implicit external alias."""
        out: dict[tuple[str, str], int] = {}
        missing: list[tuple[str, str]] = []
        for key in refs:
            pid = self._staged["people"].get(key) or self.people.get(key)
            if pid is None:
                missing.append(key)
            else:
                out[key] = pid
        if missing:
            wanted = {external_alias(*k)[1]: k for k in missing}
            for part in in_chunks(list(wanted)):
                rows = conn.execute(
                    select(schema.person_aliases.c.value, schema.person_aliases.c.person_id).where(
                        schema.person_aliases.c.kind == AliasKind.EXTERNAL.value,
                        schema.person_aliases.c.value.in_(part),
                    )
                )
                for value, pid in rows:
                    out[wanted[value]] = pid
                    self._staged["people"][wanted[value]] = pid
        return out

    # -- people -------------------------------------------------------------------------------------------
    def _write_people(self, conn: Connection, records: list[Person], stats: WriteStats) -> None:
        if records:
            resolved = write_people(
                conn, records, import_id=self.import_id, allocate=allocate_ids, stats=stats, warnings=self.warnings
            )
            self._staged["people"].update(resolved)

    # -- spaces -------------------------------------------------------------------------------------------
    def _write_spaces(self, conn: Connection, records: list[Space], stats: WriteStats) -> None:
        if not records:
            return
        existing = self._lookup(
            conn,
            schema.spaces,
            [(s.source, s.external_id) for s in records],
            extra=[
                schema.spaces.c.name,
                schema.spaces.c.visibility,
                schema.spaces.c.description,
                schema.spaces.c.kind,
            ],
        )
        member_refs = {(s.source, m) for s in records for m in s.member_refs}
        members = self.person_ids(conn, member_refs)
        for s in records:
            key = (s.source, s.external_id)
            if key in existing:
                sid, name, visibility, description, kind = existing[key]
                changes = {
                    k: v
                    for k, v in (
                        ("name", s.name),
                        ("visibility", str(s.visibility)),
                        ("description", s.description),
                        ("kind", str(s.kind)),
                    )
                    if v is not None
                    and v != {"name": name, "visibility": visibility, "description": description, "kind": kind}[k]
                }
                if changes:
                    conn.execute(
                        update(schema.spaces)
                        .where(schema.spaces.c.id == sid)
                        .values(import_id=self.import_id, **changes)
                    )
                stats.add("spaces", "updated" if changes else "skipped")
            else:
                sid = conn.execute(
                    insert(schema.spaces)
                    .values(
                        source=s.source,
                        external_id=s.external_id,
                        import_id=self.import_id,
                        kind=str(s.kind),
                        name=s.name,
                        visibility=str(s.visibility),
                        description=s.description,
                        meta=s.meta,
                    )
                    .returning(schema.spaces.c.id)
                ).scalar_one()
                stats.add("spaces", "new")
            self._staged["spaces"][key] = sid
            wanted = {members[(s.source, m)] for m in s.member_refs if (s.source, m) in members}
            unknown = [m for m in s.member_refs if (s.source, m) not in members]
            if unknown:
                self.warnings.append(f"space {s.name!r}: {len(unknown)} member(s) not found, e.g. {unknown[0]!r}")
            self._set_members(conn, sid, wanted, exact=s.members_complete)

    def _set_members(self, conn: Connection, sid: int, wanted: set[int], *, exact: bool) -> None:
        """Add ``wanted`` to the space's members; with ``exact`` also remove everybody else."""
        current = set(
            conn.execute(
                select(schema.space_members.c.person_id).where(schema.space_members.c.space_id == sid)
            ).scalars()
        )
        gone = current - wanted if exact else set()
        if gone:
            for part in in_chunks(sorted(gone)):
                conn.execute(
                    delete(schema.space_members).where(
                        schema.space_members.c.space_id == sid, schema.space_members.c.person_id.in_(part)
                    )
                )
        added = sorted(wanted - current)
        if added:
            conn.execute(
                insert(schema.space_members),
                [{"space_id": sid, "person_id": pid, "import_id": self.import_id} for pid in added],
            )

    # -- threads ------------------------------------------------------------------------------------------
    def _write_threads(self, conn: Connection, records: list[Thread], stats: WriteStats) -> None:
        if not records:
            return
        spaces = self._resolve(conn, "spaces", schema.spaces, {(t.source, t.space_ref) for t in records})
        existing = self._resolve(
            conn,
            "threads",
            schema.threads,
            {(t.source, t.external_id) for t in records},
            extra=[schema.threads.c.space_id],
        )
        rows: list[dict[str, Any]] = []
        changed: list[tuple[int, Thread]] = []
        for t in records:
            key = (t.source, t.external_id)
            sid = spaces.get((t.source, t.space_ref))
            if sid is None:
                stats.add("threads", "rejected")
                self.warnings.append(f"thread {t.external_id!r}: unknown space {t.space_ref!r}; skipped")
                continue
            if key in existing:
                if existing[key][0] > 0:
                    if existing[key][1] != sid:  # moved to another space (e.g. into a private channel or queue)
                        self._move_thread(conn, existing[key][0], sid)
                        existing[key] = self._staged["threads"][key] = (existing[key][0], sid)
                    changed.append((existing[key][0], t))
                else:
                    stats.add("threads", "skipped")
                continue
            existing[key] = (-1, sid)  # guards against duplicates inside one batch
            rows.append(
                {
                    "source": t.source,
                    "external_id": t.external_id,
                    "import_id": self.import_id,
                    "space_id": sid,
                    "title": t.title,
                    "created_at": to_utc(t.created_at),
                    "url": t.url,
                    "meta": t.meta,
                }
            )
        ids = allocate_ids(conn, schema.threads, len(rows))
        for row, tid in zip(rows, ids, strict=True):
            row["id"] = tid
            self._staged["threads"][(row["source"], row["external_id"])] = (tid, row["space_id"])
        if rows:
            bulk_insert(conn, schema.threads, rows)
            stats.add("threads", "new", len(rows))
        if changed:
            self._update_threads(conn, changed, stats)

    def _move_thread(self, conn: Connection, thread_id: int, space_id: int) -> None:
        """The thread and its messages now live in ``space_id``: they are readable under that space's rules only."""
        conn.execute(
            update(schema.threads)
            .where(schema.threads.c.id == thread_id)
            .values(space_id=space_id, import_id=self.import_id)
        )
        conn.execute(update(schema.messages).where(schema.messages.c.thread_id == thread_id).values(space_id=space_id))

    def _update_threads(self, conn: Connection, records: list[tuple[int, Thread]], stats: WriteStats) -> None:
        """A newer export may retitle a thread or change its metadata (tags, links, status)."""
        cols = schema.threads.c
        current: dict[int, Any] = {}
        for part in in_chunks(sorted(tid for tid, _ in records)):
            for found in conn.execute(select(cols.id, cols.title, cols.url, cols.meta).where(cols.id.in_(part))):
                current[found.id] = found
        for tid, t in records:
            row = current[tid]
            changes = {
                k: v
                for k, v in (("title", t.title), ("url", t.url), ("meta", t.meta))
                if v != (getattr(row, k) or ({} if k == "meta" else None))
            }
            if changes:
                conn.execute(update(schema.threads).where(cols.id == tid).values(import_id=self.import_id, **changes))
                stats.add("threads", "updated")
            else:
                stats.add("threads", "skipped")

    # -- messages -----------------------------------------------------------------------------------------
    def _write_messages(self, conn: Connection, records: list[Message], stats: WriteStats) -> None:
        if not records:
            return
        threads = self._resolve(
            conn,
            "threads",
            schema.threads,
            {(m.source, m.thread_ref) for m in records},
            extra=[schema.threads.c.space_id],
        )
        authors = self.person_ids(conn, {(m.source, m.author_ref) for m in records if m.author_ref})
        keys = {(m.source, m.external_id) for m in records}
        existing = self._resolve(conn, "messages", schema.messages, keys)
        reply_refs = {(m.source, m.reply_to_ref) for m in records if m.reply_to_ref}
        replies = self._resolve(conn, "messages", schema.messages, reply_refs - keys) if reply_refs else {}

        pending: list[tuple[Message, dict[str, Any]]] = []
        changed: list[Message] = []
        seen: set[tuple[str, str]] = set()
        for m in records:
            key = (m.source, m.external_id)
            if key in existing:
                changed.append(m)
                continue
            if key in seen:
                stats.add("messages", "skipped")
                continue
            seen.add(key)
            thread = threads.get((m.source, m.thread_ref))
            if thread is None:
                stats.add("messages", "rejected")
                self.warnings.append(f"message {m.external_id!r}: unknown thread {m.thread_ref!r}; skipped")
                continue
            author_id = authors.get((m.source, m.author_ref)) if m.author_ref else None
            if m.author_ref and author_id is None:
                self.warnings.append(f"message {m.external_id!r}: unknown author {m.author_ref!r}; kept without author")
            pending.append(
                (
                    m,
                    {
                        "source": m.source,
                        "external_id": m.external_id,
                        "import_id": self.import_id,
                        "thread_id": thread[0],
                        "space_id": thread[1],
                        "author_id": author_id,
                        "author_ref": m.author_ref,
                        "reply_to_id": None,
                        "created_at": to_utc(m.created_at),
                        "edited_at": to_utc(m.edited_at),
                        "kind": str(m.kind),
                        "text": m.text,
                        "score": m.score,
                        "reactions": m.reactions,
                        "accepted": m.accepted,
                        "url": m.url,
                        "meta": m.meta,
                    },
                )
            )
        self._insert_messages(conn, pending, replies, stats)
        if changed:
            self._update_messages(conn, changed, existing, stats)

    def _insert_messages(
        self,
        conn: Connection,
        pending: list[tuple[Message, dict[str, Any]]],
        known: dict[tuple[str, str], int],
        stats: WriteStats,
    ) -> None:
        """Insert new messages with pre-allocated ids, parents before replies (so foreign keys hold per row)."""
        if not pending:
            return
        staged = self._staged["messages"]
        position = {(m.source, m.external_id): i for i, (m, _) in enumerate(pending)}
        depth: dict[int, int] = {}
        for i in range(len(pending)):
            chain: list[int] = []
            j: int | None = i
            while j is not None and j not in depth:
                if j in chain:  # a reply cycle inside the batch: cut it here
                    m, row = pending[j]
                    row["meta"] = {**row["meta"], "reply_to_missing": m.reply_to_ref}
                    m.reply_to_ref = None
                    break
                chain.append(j)
                m = pending[j][0]
                j = position.get((m.source, m.reply_to_ref)) if m.reply_to_ref else None
            base = depth.get(j, -1) if j is not None else -1
            for k in reversed(chain):
                base += 1
                depth[k] = base
        ordered = sorted(range(len(pending)), key=depth.__getitem__)
        ids = allocate_ids(conn, schema.messages, len(pending))
        for idx, mid in zip(ordered, ids, strict=True):
            m, row = pending[idx]
            row["id"] = mid
            staged[(m.source, m.external_id)] = mid
        rows: list[dict[str, Any]] = []
        for idx in ordered:
            m, row = pending[idx]
            if m.reply_to_ref:
                ref = (m.source, m.reply_to_ref)
                target = staged.get(ref) or known.get(ref) or self.messages.get(ref)
                if target is None:
                    row["meta"] = {**row["meta"], "reply_to_missing": m.reply_to_ref}
                row["reply_to_id"] = target
            rows.append(row)
        bulk_insert(conn, schema.messages, rows)
        stats.add("messages", "new", len(rows))

    def _update_messages(
        self,
        conn: Connection,
        records: list[Message],
        existing: dict[tuple[str, str], int],
        stats: WriteStats,
    ) -> None:
        """Apply edits, new votes/reactions and acceptance from a newer export of the same messages."""
        ids = {existing[(m.source, m.external_id)]: m for m in records}
        cols = schema.messages.c
        current: dict[int, Any] = {}
        for part in in_chunks(sorted(ids)):
            for found in conn.execute(
                select(
                    cols.id, cols.text, cols.score, cols.reactions, cols.accepted, cols.edited_at, cols.kind, cols.meta
                ).where(cols.id.in_(part))
            ):
                current[found.id] = found
        self._tombstone(conn, ids, current)
        for mid, m in ids.items():
            row = current.get(mid)
            if row is None:
                continue
            changes: dict[str, Any] = {}
            if row.text != m.text:
                changes["text"] = m.text
            if row.score != m.score:
                changes["score"] = m.score
            if (row.reactions or {}) != m.reactions:
                changes["reactions"] = m.reactions
            if bool(row.accepted) != m.accepted:
                changes["accepted"] = m.accepted
            if row.kind != str(m.kind):
                changes["kind"] = str(m.kind)
            if (row.meta or {}) != m.meta and not (row.meta or {}).get("reply_to_missing"):
                changes["meta"] = m.meta
            if m.edited_at is not None and to_utc(row.edited_at) != to_utc(m.edited_at):
                changes["edited_at"] = to_utc(m.edited_at)
            if changes:
                conn.execute(update(schema.messages).where(cols.id == mid).values(import_id=self.import_id, **changes))
                stats.add("messages", "updated")
            else:
                stats.add("messages", "skipped")

    @staticmethod
    def _tombstone(conn: Connection, records: dict[int, Message], current: dict[int, Any]) -> None:
        """Messages deleted at the source (a Slack ``tombstone`` in a newer export): every copy of their text
        goes (:mod:`whoknows.copies`: routed drafts, notifications …) and so does their author, as on a first
        import; the caller's refresh re-derives the memory, its index and the expertise model."""
        gone = [
            mid
            for mid, m in records.items()
            if m.meta.get("subtype") == "tombstone" and mid in current and current[mid].text
        ]
        if not gone:
            return
        from whoknows import copies

        copies.clean(conn, copies.removal_of(conn, gone))
        for part in in_chunks(gone):
            conn.execute(
                update(schema.messages).where(schema.messages.c.id.in_(part)).values(author_id=None, author_ref=None)
            )
