"""Creating database engines with the house rules, and turning driver failures into clear errors.

SQLite: WAL journal, foreign keys on, a busy timeout, ``synchronous=NORMAL``; transactions opened for writing
use ``BEGIN IMMEDIATE`` so that a writer takes the lock up front instead of failing half-way.
PostgreSQL: psycopg 3, pre-ping, a connect timeout.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, NoSuchModuleError, OperationalError

from whoknows.errors import ConfigError, StoreError
from whoknows.store.urls import redact

WRITE_OPTION = "whoknows_write"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # SQLite URI filename (?mode=ro&uri=true)
        database = database[len("file:") :].split("?", 1)[0]
    return Path(database)


#: Page cache per SQLite connection, in KiB.
SQLITE_CACHE_KIB = 65_536


def create_sqlite_engine(url: str, *, busy_timeout_ms: int, create: bool) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        _check_sqlite_path(path, create=create)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (the driver's implicit BEGIN would be DEFERRED).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = NORMAL")
        # Deleted content is overwritten, so erased people and messages do not linger in free pages.
        cur.execute("PRAGMA secure_delete = ON")
        # A larger page cache per connection (SQLite's default is 2 MB): answering a question reads a few dozen
        # rows scattered over a large file, and pages found in the cache need no read call.
        cur.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def enable_wal(engine: Engine) -> None:
    """Switch a whoknows SQLite database to WAL (persistent, so once is enough). Only called after the file
    was recognised as ours, so that a foreign or newer database is never modified; skipped when read-only."""
    raw = engine.raw_connection()  # outside any transaction: journal_mode cannot change inside one
    try:
        cur = raw.cursor()
        if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        try:
            cur.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc).lower():
                raise
    finally:
        raw.close()


def _check_sqlite_path(path: Path, *, create: bool) -> None:
    if path.exists():
        if path.is_dir():
            raise StoreError(f"--db {path} is a folder, not a database file", code="store.cannot_open")
        if not os.access(path, os.R_OK):
            raise StoreError(f"cannot read database file {path}: permission denied", code="store.cannot_open")
        with path.open("rb") as fh:
            head = fh.read(16)
        if head and head != b"SQLite format 3\x00":
            raise StoreError(
                f"{path} is not a SQLite database (it starts with {head[:8]!r}); refusing to touch it",
                code="store.not_a_database",
            )
        return
    if not create:
        raise StoreError(
            f"database {path} does not exist (run `whoknows demo` or an import first)", code="store.missing"
        )
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create folder {parent} for the database: {exc.strerror}", code="store.cannot_open"
        ) from None
    if not os.access(parent, os.W_OK):
        raise StoreError(f"cannot create database {path}: folder {parent} is not writable", code="store.read_only")


def create_postgres_engine(url: str) -> Engine:
    try:
        return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})
    except NoSuchModuleError:
        raise ConfigError(
            "PostgreSQL support needs the 'postgres' extra: pip install 'whoknows[postgres]'",
            code="config.missing_extra",
        ) from None
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"PostgreSQL support needs the 'postgres' extra (missing module {exc.name}): "
            "pip install 'whoknows[postgres]'",
            code="config.missing_extra",
        ) from None


def describe_db_failure(url: str, exc: BaseException) -> StoreError:
    """A one-line, user-facing description of why a database could not be opened or used."""
    target = redact(url)
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    text = " ".join(str(orig).split()) or type(orig).__name__
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        return StoreError(f"database {target} is read-only: {text}", code="store.read_only")
    if isinstance(exc, OperationalError) and make_url(url).get_backend_name() == "postgresql":
        return StoreError(f"cannot connect to PostgreSQL at {target}: {_first_line(text)}", code="store.unreachable")
    if "not a database" in lowered or "malformed" in lowered:
        return StoreError(f"{target} is not a usable SQLite database: {text}", code="store.not_a_database")
    if "unable to open" in lowered:
        return StoreError(f"cannot open database {target}: {text}", code="store.cannot_open")
    return StoreError(f"database error on {target}: {_first_line(text)}", code="store.error")


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0][:300]
