"""Login accounts for the demo organisation, so the web UI can be tried at once.

Every demo person gets a ``member`` account; a Sales Operations-style lead becomes ``admin`` and a Readiness
person ``analyst``. All demo accounts share one random password (hashed once with argon2id — demo data only,
never do this with real people), written with the example logins to ``demo-logins.json`` (mode 0600) in the
database's derived folder (:func:`whoknows.derive.derived_dir`: the logins are that database's accounts, so a
second demo database in the same data dir never overwrites them). Running the demo again keeps the password and
adds accounts only for people who have none.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from whoknows.errors import InputError
from whoknows.store import Store, schema
from whoknows.store.writer import bulk_insert

LOGINS_FILE = "demo-logins.json"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    name: str
    department: str | None
    why: str


@dataclass(frozen=True)
class DemoLogins:
    password: str
    path: Path
    accounts_created: int
    logins: list[DemoLogin]

    def as_dict(self) -> dict[str, Any]:
        return {
            "password": self.password,
            "path": str(self.path),
            "accounts_created": self.accounts_created,
            "logins": [asdict(x) for x in self.logins],
        }


def logins_path(data_dir: Path) -> Path:
    return data_dir / LOGINS_FILE


def read_logins(data_dir: Path) -> dict[str, Any] | None:
    """The saved demo logins, or None when there is no (readable) file."""
    try:
        data = json.loads(logins_path(data_dir).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("password"), str) else None


def create_demo_accounts(store: Store, data_dir: Path, truth_path: Path) -> DemoLogins:
    """Give every person of the demo organisation in ``truth_path`` an account (see the module docstring)."""
    from whoknows.api.accounts import _hasher

    try:
        truth = json.loads(truth_path.read_text())
        source = str(truth["source"])
    except (OSError, ValueError, KeyError) as e:
        raise InputError(f"cannot read the demo ground truth {truth_path}: {e}", code="demo.truth") from e
    p, pa, a = schema.people, schema.person_aliases, schema.accounts
    with store.read() as conn:
        rows = conn.execute(
            select(p.c.id, p.c.name, p.c.department, p.c.external_id, pa.c.value)
            .join(pa, (pa.c.person_id == p.c.id) & (pa.c.kind == "email"))
            .where(p.c.source == source, p.c.is_bot.is_(False))
            .order_by(p.c.id)
        ).all()
        have = set(conn.execute(select(a.c.person_id)).scalars())
    people: dict[int, Any] = {}
    for r in rows:
        people.setdefault(int(r.id), r)  # first e-mail alias per person
    if not people:
        raise InputError(f"no people of the demo organisation {source!r} in this database", code="demo.no_people")
    saved = read_logins(data_dir)
    password = saved["password"] if saved else secrets.token_urlsafe(12)
    digest = _hasher().hash(password)
    now = datetime.now(UTC)
    new = [
        {"person_id": pid, "password_hash": digest, "role": "member", "created_at": now, "disabled_at": None}
        for pid in people
        if pid not in have
    ]
    by_ext = {r.external_id: r for r in people.values()}
    admin = _first(people.values(), "Sales")
    analyst = _first(people.values(), "Readiness")
    hipaa = [e for e, _w in truth.get("topics", {}).get("hipaa", {}).get("experts", []) if e in by_ext]
    expert = by_ext[hipaa[0]] if hipaa else None
    asker = next((r for r in people.values() if r.department == "Sales" and r is not admin), admin)
    with store.write() as conn:
        if new:
            bulk_insert(conn, a, new)
        for person, role in ((admin, "admin"), (analyst, "analyst")):
            if person is not None:
                conn.execute(update(a).where(a.c.person_id == person.id).values(role=role))
        if saved is None:  # the same password for accounts made by an earlier run
            conn.execute(update(a).where(a.c.person_id.in_(list(people))).values(password_hash=digest))
    logins = [
        DemoLogin(role, r.value, r.name, r.department, why)
        for role, r, why in (
            ("admin", admin, "imports, settings, org-wide dashboard"),
            ("analyst", analyst, "org-wide dashboard"),
            ("member", asker, "a salesperson: ask, route"),
            ("member", expert, "top HIPAA expert: answers in the inbox"),
        )
        if r is not None
    ]
    result = DemoLogins(password, logins_path(data_dir), len(new), logins)
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(result.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({k: v for k, v in result.as_dict().items() if k != "accounts_created"}, f, indent=2)
    return result


def _first(rows: Any, department: str) -> Any:
    return next((r for r in rows if r.department == department), None)
