"""Login attempts counted in the database (``login_failures``), so every server process shares one limit.

A row is one login attempt that has not succeeded, under one key it counts against (an account, an identifier
that names no account, a client address). :func:`reserve` counts each key's rows inside the window and, when all
are under their limits, adds the attempt's rows in the same transaction, *before* the password is checked: two
concurrent attempts cannot both pass a count that only one of them fits under. A wrong password leaves the rows
(they are the failure, and so is an attempt whose process died meanwhile); :func:`clear` removes them after a
correct one, together with the account's earlier failures.

Serialisation: on SQLite the store's write transaction is ``BEGIN IMMEDIATE`` (one writer at a time). On
PostgreSQL each key's advisory transaction lock is taken first, in one fixed order (so two attempts never wait
for each other crosswise), which serialises attempts on the same account or address and lets others run.

Growth: rows older than the window are deleted, and rows other than accounts' beyond the newest ``max_rows`` are
dropped, so a flood of made-up identifiers from many addresses cannot grow the table without bound (an account's
rows are never dropped early: there are at most ``limit`` of them per account and window). On PostgreSQL one
transaction at a time prunes (a try-lock) and skips rows another transaction holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Select, delete, func, insert, or_, select

from whoknows.store import Store, schema

ACCOUNT_PREFIX = "account:"
#: First half of the two-part PostgreSQL advisory lock ids taken here ("wklg"); the second is the key's hash.
_LOCK_CLASS = 0x776B6C67
#: The lock of the one transaction that prunes at a time (its own class, so no key's hash can collide with it).
_PRUNE_LOCK = (_LOCK_CLASS + 1, 0)


@dataclass(frozen=True)
class Blocked:
    """A key that has used up its limit; it may try again in ``retry_after`` seconds."""

    key: str
    limit: int
    retry_after: float


def reserve(
    store: Store, limits: Sequence[tuple[str, int]], *, now: datetime, window: timedelta, max_rows: int
) -> list[int] | Blocked:
    """Count one attempt against every ``(key, limit)``: the ids of its new rows, or :class:`Blocked` (and
    nothing written) for the first key whose rows inside the window already reach its limit."""
    lf = schema.login_failures
    cutoff = now - window
    with store.write() as conn:
        _lock_keys(conn, [key for key, _ in limits])
        for key, limit in limits:
            recent = conn.execute(
                select(lf.c.attempted_at)
                .where(lf.c.key == key, lf.c.attempted_at > cutoff)
                .order_by(lf.c.attempted_at.desc())
                .limit(limit)
            ).scalars().all()  # fmt: skip
            if len(recent) >= limit:  # the oldest of the last ``limit`` leaves the window first
                return Blocked(key, limit, (_aware(recent[-1]) + window - now).total_seconds())
        ids = [
            int(conn.execute(insert(lf).values(key=key, attempted_at=now).returning(lf.c.id)).scalar_one())
            for key, _ in limits
        ]
        if _may_prune(conn):
            _prune(conn, cutoff, newest=max(ids), max_rows=max_rows)
    return ids


def clear(store: Store, account_key: str, rows: Sequence[int]) -> None:
    """After a correct password: forget the attempt's ``rows`` and the account's failures before it."""
    lf = schema.login_failures
    with store.write() as conn:
        _lock_keys(conn, [account_key])
        conn.execute(delete(lf).where(or_(lf.c.id.in_(list(rows)), (lf.c.key == account_key) & (lf.c.id <= max(rows)))))


def count(store: Store, key: str | None = None) -> int:
    """How many rows are stored (under ``key``, if given)."""
    lf = schema.login_failures
    query = select(func.count()).select_from(lf)
    with store.read() as conn:
        return int(conn.execute(query.where(lf.c.key == key) if key is not None else query).scalar_one())


def _lock_keys(conn: Connection, keys: Sequence[str]) -> None:
    """Wait for the keys' locks until the end of the transaction (PostgreSQL; on SQLite ``BEGIN IMMEDIATE``
    already made this the only writer)."""
    if conn.dialect.name == "postgresql":
        for lock in sorted({_lock_id(key) for key in keys}):
            conn.execute(select(func.pg_advisory_xact_lock(_LOCK_CLASS, lock)))


def _may_prune(conn: Connection) -> bool:
    """Whether this transaction prunes: on PostgreSQL, when no other one is pruning right now."""
    if conn.dialect.name != "postgresql":
        return True
    return bool(conn.execute(select(func.pg_try_advisory_xact_lock(*_PRUNE_LOCK))).scalar())


def _prune(conn: Connection, cutoff: datetime, *, newest: int, max_rows: int) -> None:
    lf = schema.login_failures
    old = _ids(select(lf.c.id).where(lf.c.attempted_at <= cutoff))
    conn.execute(delete(lf).where(lf.c.id.in_(old)))
    if newest > max_rows:
        excess = _ids(select(lf.c.id).where(lf.c.id <= newest - max_rows, ~lf.c.key.startswith(ACCOUNT_PREFIX)))
        conn.execute(delete(lf).where(lf.c.id.in_(excess)))


def _ids(query: Select[tuple[int]]) -> Select[tuple[int]]:
    """Rows no other transaction holds (PostgreSQL skips locked rows: pruning never waits; SQLite ignores it)."""
    return query.with_for_update(skip_locked=True)


def _lock_id(key: str) -> int:
    """A signed 32-bit lock id for ``key``."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
