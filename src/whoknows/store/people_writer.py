"""Writing people: identity resolution at import time.

Every person record of a source is a *source identity*, ``<source>#<external id>``, stored as an alias of
kind ``external``. A record is attached to an existing person when one of its **strong** aliases (external,
e-mail, Slack user id, Stack Exchange user id) is already known; names and handles are *weak*: two people can
share them, so they never merge anybody on their own (``whoknows people suggest`` lists such candidates).

Each attachment of a new source identity to an existing person is recorded in ``person_merges`` with the rule
that caused it ("same email ann@acme.example"), so it can be explained and undone (see :mod:`whoknows.identity`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, tuple_, update

from whoknows.model import Person, WriteStats
from whoknows.store import schema
from whoknows.store.chunking import in_chunks

STRONG = frozenset(schema.STRONG_ALIAS_KINDS)
Allocate = Callable[[Connection, Any, int], list[int]]


def identity_of(source: str, external_id: str) -> str:
    return f"{source}#{external_id}"


def person_row(p: Person, import_id: int | None) -> dict[str, Any]:
    return {
        "source": p.source,
        "external_id": p.external_id,
        "import_id": import_id,
        "name": p.name,
        "department": p.department,
        "team": p.team,
        "role": p.role,
        "timezone": p.timezone,
        "opted_out": p.opted_out,
        "is_bot": p.is_bot,
        "meta": p.meta,
    }


def write_people(
    conn: Connection,
    records: list[Person],
    *,
    import_id: int | None,
    allocate: Allocate,
    stats: WriteStats,
    warnings: list[str],
) -> dict[tuple[str, str], int]:
    """Resolve, insert or update ``records``; returns ``(source, external_id) -> person id``."""
    pa = schema.person_aliases.c
    alias_sets: list[list[tuple[str, str]]] = []
    for p in records:
        aliases = [("external", identity_of(p.source, p.external_id))]
        aliases += [(str(a.kind), a.normalized()) for a in p.aliases if a.value and a.value.strip()]
        alias_sets.append(list(dict.fromkeys(aliases)))
    strong = sorted({a for aliases in alias_sets for a in aliases if a[0] in STRONG})
    known: dict[tuple[str, str], int] = {}
    for part in in_chunks(strong, 400):  # two parameters per alias
        for kind, value, pid in conn.execute(
            select(pa.kind, pa.value, pa.person_id).where(tuple_(pa.kind, pa.value).in_(list(part)))
        ):
            known[(kind, value)] = pid

    new_rows: list[dict[str, Any]] = []
    resolved: list[int] = []
    rules: list[str] = []
    merges: list[tuple[int, Person, str]] = []
    existing: dict[int, Person] = {}
    for p, aliases in zip(records, alias_sets, strict=True):
        ident = aliases[0]
        pid = known.get(ident)
        rule = "same source identity"
        if pid is None:
            matches = [(a, known[a]) for a in aliases[1:] if a[0] in STRONG and a in known]
            if matches:
                (kind, value), pid = matches[0]
                rule = f"same {kind} {value}"
                others = sorted({m for _, m in matches} - {pid})
                if others:
                    warnings.append(
                        f"person {p.name!r} ({ident[1]}): aliases match several people {[pid, *others]}; "
                        f"attached to #{pid}; use `whoknows people merge` if they are one person"
                    )
                merges.append((pid, p, rule))
        if pid is None:  # a new person; a negative placeholder until ids are allocated
            pid = -1 - len(new_rows)
            new_rows.append(person_row(p, import_id))
            rule = "new person"
            stats.add("people", "new")
        elif pid > 0:
            existing.setdefault(pid, p)
        for alias in aliases:
            if alias[0] in STRONG:
                known.setdefault(alias, pid)
        resolved.append(pid)
        rules.append(rule)

    ids = allocate(conn, schema.people, len(new_rows))
    for row, new_id in zip(new_rows, ids, strict=True):
        row["id"] = new_id
    if new_rows:
        conn.execute(insert(schema.people), new_rows)

    def real(pid: int) -> int:
        return ids[-1 - pid] if pid < 0 else pid

    resolved = [real(pid) for pid in resolved]
    _write_aliases(conn, records, alias_sets, resolved, rules, known, real, import_id)
    _write_listings(conn, records, resolved)
    now = datetime.now(UTC)
    if merges:
        conn.execute(
            insert(schema.person_merges),
            [
                {
                    "survivor_id": real(pid),
                    "identity": identity_of(p.source, p.external_id),
                    "absorbed": person_row(p, import_id) | {"meta": {}},
                    "moved": {},
                    "rule": rule,
                    "created_at": now,
                }
                for pid, p, rule in merges
            ],
        )
    updated = _update_people(conn, existing)
    stats.add("people", "updated", updated)
    stats.add("people", "skipped", len(records) - len(new_rows) - updated)
    return {(p.source, p.external_id): pid for p, pid in zip(records, resolved, strict=True)}


def _write_listings(conn: Connection, records: list[Person], resolved: list[int]) -> None:
    """Record the people a source lists as members of the organisation (see ``schema.directory``)."""
    d = schema.directory.c
    wanted = {(pid, identity_of(p.source, p.external_id)) for p, pid in zip(records, resolved, strict=True) if p.listed}
    if not wanted:
        return
    have: set[tuple[int, str]] = set()
    for part in in_chunks(sorted({pid for pid, _ in wanted})):
        have |= {
            (int(r.person_id), r.identity)
            for r in conn.execute(select(d.person_id, d.identity).where(d.person_id.in_(part)))
        }
    rows = [{"person_id": pid, "identity": ident} for pid, ident in sorted(wanted - have)]
    if rows:
        conn.execute(insert(schema.directory), rows)


def _write_aliases(
    conn: Connection,
    records: list[Person],
    alias_sets: list[list[tuple[str, str]]],
    resolved: list[int],
    rules: list[str],
    known: dict[tuple[str, str], int],
    real: Callable[[int], int],
    import_id: int | None,
) -> None:
    """Insert the aliases each person does not have yet (strong ones only if nobody has them)."""
    pa = schema.person_aliases.c
    have: set[tuple[int, str, str]] = set()
    pids = sorted(set(resolved))
    for part in in_chunks(pids):
        for pid, kind, value in conn.execute(select(pa.person_id, pa.kind, pa.value).where(pa.person_id.in_(part))):
            have.add((pid, kind, value))
    rows: list[dict[str, Any]] = []
    for p, aliases, pid, rule in zip(records, alias_sets, resolved, rules, strict=True):
        ident = aliases[0][1]
        for kind, value in aliases:
            if (pid, kind, value) in have:
                continue
            if kind in STRONG and real(known.get((kind, value), pid)) != pid:
                continue  # held by somebody else (a conflict reported above)
            have.add((pid, kind, value))
            rows.append(
                {
                    "person_id": pid,
                    "kind": kind,
                    "value": value,
                    "source": p.source,
                    "identity": ident,
                    "rule": rule,
                    "import_id": import_id,
                }
            )
    if rows:
        conn.execute(insert(schema.person_aliases), rows)


def _update_people(conn: Connection, records: dict[int, Person]) -> int:
    """Fill in attributes stored people lack, or that changed in the same source. Returns how many changed."""
    rows: dict[int, Any] = {}
    pids = sorted(records)
    for part in in_chunks(pids):
        for row in conn.execute(select(schema.people).where(schema.people.c.id.in_(part))).mappings():
            rows[row["id"]] = row
    changed = 0
    for pid, p in records.items():
        row = rows[pid]
        same_source = row["source"] == p.source and row["external_id"] == p.external_id
        changes: dict[str, Any] = {}
        for col in ("name", "department", "team", "role", "timezone"):
            new = getattr(p, col)
            if new and (row[col] is None or (same_source and row[col] != new)):
                changes[col] = new
        if same_source and row["is_bot"] != p.is_bot:
            changes["is_bot"] = p.is_bot
        # Opt-out is sticky: an import may set it, never clear it.
        if p.opted_out and not row["opted_out"]:
            changes["opted_out"] = True
        if changes:
            conn.execute(update(schema.people).where(schema.people.c.id == pid).values(**changes))
            changed += 1
    return changed
