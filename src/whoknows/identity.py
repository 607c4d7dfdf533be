"""Identity resolution after import: explain, merge, undo, an explicit mapping file, and merge suggestions.

At import time a person record joins an existing person when a strong alias matches (see
:mod:`whoknows.store.people_writer`). Here people are merged on purpose (by hand or by a mapping file), every
merge can be explained and undone, and likely duplicates that no rule may merge on its own (same name in two
sources) are suggested for review.

Mapping file: CSV with a header ``person,alias``. ``person`` is any reference ``whoknows`` understands (e-mail,
@handle, full name, #id, or ``kind:value``); ``alias`` is ``kind:value`` with kind one of email, slack,
stackexchange, external, handle, name. Each line merges whoever holds ``alias`` into ``person``; when nobody
holds it yet, the alias is attached to ``person`` so that later imports resolve to them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from whoknows.access import Viewer
from whoknows.errors import InputError, NotFoundError
from whoknows.model import AliasKind, Person, normalize_alias
from whoknows.store import Store, schema
from whoknows.store.chunking import in_chunks

P, PA, PM, M, SM = schema.people, schema.person_aliases, schema.person_merges, schema.messages, schema.space_members
D = schema.directory


@dataclass
class MappingResult:
    applied: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "errors": self.errors}


def explain(store: Store, ref: str) -> dict[str, Any]:
    """Who a person is, built from which source identities, each with the rule that linked it."""
    person = store.find_person(ref, Viewer.system())
    with store.read() as conn:
        aliases = conn.execute(
            select(PA.c.kind, PA.c.value, PA.c.identity, PA.c.rule, PA.c.source)
            .where(PA.c.person_id == person.id)
            .order_by(PA.c.id)
        ).all()
        merges = conn.execute(select(PM).where(PM.c.survivor_id == person.id).order_by(PM.c.id)).mappings().all()
        messages = conn.execute(
            select(M.c.source, func.count()).where(M.c.author_id == person.id).group_by(M.c.source)
        ).all()
    identities: dict[str, dict[str, Any]] = {}
    for kind, value, ident, rule, source in aliases:
        entry = identities.setdefault(ident, {"identity": ident, "source": source, "rule": rule, "aliases": []})
        entry["aliases"].append(f"{kind}:{value}")
    return {
        "person": _person_dict(person),
        "identities": list(identities.values()),
        "messages_by_source": {src: int(n) for src, n in messages},
        "merges": [
            {
                "id": m["id"],
                "rule": m["rule"],
                "identity": m["identity"],
                "absorbed": (m["absorbed"] or {}).get("name"),
                "created_at": _iso(m["created_at"]),
                "undone_at": _iso(m["undone_at"]),
            }
            for m in merges
        ],
    }


def merge(store: Store, survivor_ref: str, other_ref: str, *, rule: str = "manual merge") -> int:
    """Merge person ``other_ref`` into ``survivor_ref``; returns the merge id (for :func:`unmerge`)."""
    survivor = store.find_person(survivor_ref, Viewer.system())
    other = store.find_person(other_ref, Viewer.system())
    if survivor.id == other.id:
        raise InputError(f"{survivor_ref!r} and {other_ref!r} are the same person (#{survivor.id})", code="person.same")
    assert survivor.id is not None and other.id is not None
    with store.write() as conn:
        return _merge(conn, survivor.id, other.id, rule)


def _merge(conn: Connection, survivor: int, other: int, rule: str) -> int:
    row = conn.execute(select(P).where(P.c.id == other)).mappings().one()
    surv = conn.execute(select(P.c.opted_out).where(P.c.id == survivor)).scalar_one()
    moved: dict[str, Any] = {
        "aliases": list(conn.execute(select(PA.c.id).where(PA.c.person_id == other)).scalars()),
        "messages": list(conn.execute(select(M.c.id).where(M.c.author_id == other)).scalars()),
        "merges": list(conn.execute(select(PM.c.id).where(PM.c.survivor_id == other)).scalars()),
        "survivor_opted_out": bool(surv),
    }
    theirs = set(conn.execute(select(SM.c.space_id).where(SM.c.person_id == other)).scalars())
    mine = set(conn.execute(select(SM.c.space_id).where(SM.c.person_id == survivor)).scalars())
    moved["memberships"] = sorted(theirs - mine)
    moved["memberships_shared"] = sorted(theirs & mine)
    # A directory listing belongs to one source record, so the two people never share one.
    moved["listings"] = sorted(conn.execute(select(D.c.identity).where(D.c.person_id == other)).scalars())
    conn.execute(update(D).where(D.c.person_id == other).values(person_id=survivor))
    conn.execute(update(PA).where(PA.c.person_id == other).values(person_id=survivor))
    conn.execute(update(M).where(M.c.author_id == other).values(author_id=survivor))
    conn.execute(update(PM).where(PM.c.survivor_id == other).values(survivor_id=survivor))
    if moved["memberships"]:
        conn.execute(
            update(SM)
            .where(SM.c.person_id == other, SM.c.space_id.in_(moved["memberships"]))
            .values(person_id=survivor)
        )
    conn.execute(delete(SM).where(SM.c.person_id == other))
    if row["opted_out"] and not surv:  # privacy wins: one opted-out identity opts the merged person out
        conn.execute(update(P).where(P.c.id == survivor).values(opted_out=True))
    absorbed = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
    conn.execute(delete(P).where(P.c.id == other))
    return int(
        conn.execute(
            insert(PM)
            .values(
                survivor_id=survivor,
                identity=None,
                absorbed=absorbed,
                moved=moved,
                rule=rule,
                created_at=datetime.now(UTC),
            )
            .returning(PM.c.id)
        ).scalar_one()
    )


def unmerge(store: Store, merge_id: int) -> int:
    """Undo merge ``merge_id``; returns the id of the person that comes back."""
    with store.write() as conn:
        m = conn.execute(select(PM).where(PM.c.id == merge_id)).mappings().first()
        if m is None:
            raise NotFoundError(f"no merge with id {merge_id}", code="merge.not_found")
        if m["undone_at"] is not None:
            raise InputError(
                f"merge {merge_id} was already undone at {_iso(m['undone_at'])}", code="merge.already_undone"
            )
        pid = _undo_manual(conn, m) if m["identity"] is None else _undo_identity(conn, m)
        conn.execute(update(PM).where(PM.c.id == merge_id).values(undone_at=datetime.now(UTC)))
        return pid


def _undo_manual(conn: Connection, m: Any) -> int:
    row = dict(m["absorbed"])
    pid = int(row["id"])
    if conn.execute(select(P.c.id).where(P.c.id == pid)).first() is not None:
        row.pop("id")  # the id was reused meanwhile: come back under a new one
        pid = int(conn.execute(insert(P).values(**_person_values(row)).returning(P.c.id)).scalar_one())
    else:
        conn.execute(insert(P).values(id=pid, **_person_values(row)))
    moved, survivor = m["moved"], m["survivor_id"]
    for table, col, key in (
        (PA, PA.c.person_id, "aliases"),
        (M, M.c.author_id, "messages"),
        (PM, PM.c.survivor_id, "merges"),
    ):
        for part in in_chunks(moved.get(key) or []):
            conn.execute(update(table).where(and_(table.c.id.in_(part), col == survivor)).values({col.name: pid}))
    if moved.get("memberships"):
        conn.execute(
            update(SM).where(SM.c.person_id == survivor, SM.c.space_id.in_(moved["memberships"])).values(person_id=pid)
        )
    for space_id in moved.get("memberships_shared") or []:
        conn.execute(insert(SM).values(space_id=space_id, person_id=pid))
    if moved.get("listings"):
        conn.execute(
            update(D).where(D.c.person_id == survivor, D.c.identity.in_(moved["listings"])).values(person_id=pid)
        )
    if not moved.get("survivor_opted_out", False):
        conn.execute(update(P).where(P.c.id == survivor).values(opted_out=False))
    return pid


def _undo_identity(conn: Connection, m: Any) -> int:
    """Split an import-time attachment: the source identity becomes a person of its own again."""
    ident: str = m["identity"]
    source, _, external_id = ident.partition("#")
    survivor = m["survivor_id"]
    values = _person_values(dict(m["absorbed"] or {"name": external_id, "source": source, "external_id": external_id}))
    values.update(source=source, external_id=external_id)
    clash = conn.execute(select(P.c.id).where(P.c.source == source, P.c.external_id == external_id)).scalar()
    if clash is not None:
        raise InputError(f"cannot undo: identity {ident} already belongs to person #{clash}", code="merge.conflict")
    pid = int(conn.execute(insert(P).values(**values).returning(P.c.id)).scalar_one())
    conn.execute(update(PA).where(PA.c.person_id == survivor, PA.c.identity == ident).values(person_id=pid))
    conn.execute(update(D).where(D.c.person_id == survivor, D.c.identity == ident).values(person_id=pid))
    conn.execute(
        update(M)
        .where(M.c.author_id == survivor, M.c.source == source, M.c.author_ref == external_id)
        .values(author_id=pid)
    )
    other_identity = conn.execute(
        select(PA.c.id).where(PA.c.person_id == survivor, PA.c.kind == AliasKind.EXTERNAL.value, PA.c.source == source)
    ).first()
    if other_identity is None:  # the survivor has no other account in that source: memberships go back too
        spaces = select(schema.spaces.c.id).where(schema.spaces.c.source == source)
        conn.execute(update(SM).where(SM.c.person_id == survivor, SM.c.space_id.in_(spaces)).values(person_id=pid))
    return pid


def apply_mapping(store: Store, path: Path) -> MappingResult:
    """Apply a mapping file (see the module doc). Each line is its own transaction; bad lines are reported."""
    result = MappingResult()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read mapping file ({exc})", code="mapping.unreadable") from None
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or {"person", "alias"} - {f.strip().lower() for f in reader.fieldnames}:
        raise InputError(
            f"{path}, line 1: the header must name the columns 'person' and 'alias' (found {reader.fieldnames})",
            code="mapping.header",
        )
    for row in reader:
        line = reader.line_num
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        where = f"{path.name}, line {line}"
        try:
            result.applied.append(_apply_line(store, row["person"], row["alias"], f"mapping file {where}"))
        except (InputError, NotFoundError) as exc:
            result.errors.append(f"{where}: {exc.message}")
    return result


def _apply_line(store: Store, person_ref: str, alias: str, rule: str) -> dict[str, Any]:
    kind, value = _parse_alias(alias)
    target = _find(store, person_ref)
    assert target.id is not None
    norm = normalize_alias(kind, value)
    with store.write() as conn:
        holders = set(conn.execute(select(PA.c.person_id).where(PA.c.kind == kind.value, PA.c.value == norm)).scalars())
        if holders <= {target.id} and holders:
            return {"alias": alias, "person": target.id, "action": "already linked"}
        holders.discard(target.id)
        if not holders:
            conn.execute(
                insert(PA).values(
                    person_id=target.id,
                    kind=kind.value,
                    value=norm,
                    source="mapping",
                    identity=f"mapping:{alias}",
                    rule=rule,
                )
            )
            return {"alias": alias, "person": target.id, "action": "alias attached"}
        if len(holders) > 1 and kind.value in schema.STRONG_ALIAS_KINDS:  # pragma: no cover - unique index
            raise InputError(f"alias {alias} is held by several people", code="mapping.ambiguous")
        merged = [_merge(conn, target.id, other, rule) for other in sorted(holders)]
        return {"alias": alias, "person": target.id, "action": "merged", "merges": merged, "absorbed": sorted(holders)}


def _parse_alias(alias: str) -> tuple[AliasKind, str]:
    kind, sep, value = alias.partition(":")
    try:
        parsed = AliasKind(kind.strip().lower())
    except ValueError:
        parsed = None
    if not sep or parsed is None or not value.strip():
        kinds = ", ".join(k.value for k in AliasKind)
        raise InputError(f"alias {alias!r} must look like kind:value with kind one of {kinds}", code="mapping.alias")
    return parsed, value.strip()


def _find(store: Store, ref: str) -> Person:
    kind, sep, value = ref.partition(":")
    if sep and kind.lower() in {k.value for k in AliasKind} and not ref.lower().startswith("mailto"):
        with store.read() as conn:
            pid = conn.execute(
                select(PA.c.person_id).where(
                    PA.c.kind == kind.lower(), PA.c.value == normalize_alias(AliasKind(kind.lower()), value)
                )
            ).scalar()
        if pid is None:
            raise NotFoundError(f"no person has the alias {ref!r}", code="person.not_found")
        return store.get_person(int(pid))
    return store.find_person(ref, Viewer.system())


def set_opt_out(store: Store, ref: str, opted_out: bool = True) -> dict[str, Any]:
    """Opt a person out of whoknows altogether (or back in). Takes effect on the next read, no rebuild needed:
    expert finding and routing skip them, memory keeps their knowledge but names them "a colleague (opted out)",
    analytics leave them out, and their profile is shown to nobody but themselves. Routing-only opt-out is a
    routing preference instead (``routing.set_prefs(routing_opt_out=…)``)."""
    person = _find(store, ref)
    with store.write() as conn:
        conn.execute(update(P).where(P.c.id == person.id).values(opted_out=bool(opted_out)))
    return {"id": person.id, "name": person.name, "opted_out": bool(opted_out)}


def suggest(store: Store, *, limit: int = 100) -> list[dict[str, Any]]:
    """Pairs of people in different sources with the same name and no conflicting e-mail address."""
    with store.read() as conn:
        rows = conn.execute(select(P.c.id, P.c.name, P.c.source).where(P.c.is_bot.is_(False))).all()
        emails: dict[int, set[str]] = {}
        for pid, value in conn.execute(select(PA.c.person_id, PA.c.value).where(PA.c.kind == "email")):
            emails.setdefault(pid, set()).add(value)
    by_name: dict[str, list[tuple[int, str]]] = {}
    for pid, name, source in rows:
        key = normalize_alias(AliasKind.NAME, name)
        if len(key) >= 5 and " " in key:  # full names only; single handles are too ambiguous
            by_name.setdefault(key, []).append((pid, source))
    out: list[dict[str, Any]] = []
    for name, people in sorted(by_name.items()):
        for i, (a, src_a) in enumerate(people):
            for b, src_b in people[i + 1 :]:
                if src_a == src_b or (emails.get(a) and emails.get(b) and not emails[a] & emails[b]):
                    continue
                out.append(
                    {
                        "people": [a, b],
                        "name": name,
                        "sources": [src_a, src_b],
                        "reason": "same full name in two sources, no conflicting e-mail address",
                    }
                )
                if len(out) >= limit:
                    return out
    return out


def _person_values(row: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "source",
        "external_id",
        "import_id",
        "name",
        "department",
        "team",
        "role",
        "timezone",
        "opted_out",
        "is_bot",
        "meta",
    )
    values = {k: row.get(k) for k in keep}
    values["meta"] = values["meta"] or {}
    values["opted_out"] = bool(values["opted_out"])
    values["is_bot"] = bool(values["is_bot"])
    values["import_id"] = None  # the import row may be gone; provenance stays in source/external_id
    return values


def _person_dict(p: Person) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "department": p.department,
        "team": p.team,
        "role": p.role,
        "timezone": p.timezone,
        "opted_out": p.opted_out,
        "source": p.source,
    }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
