"""Migrations: recorded, ordered, refuse newer schemas, and leave a fresh database equal to the schema."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, inspect, text

from whoknows.errors import StoreError
from whoknows.store import open_store, schema
from whoknows.store.migrations import LATEST, MIGRATIONS
from whoknows.store.urls import normalize_db_url


def test_migrations_are_ordered_and_named() -> None:
    versions = [m.version for m in MIGRATIONS]
    assert versions == sorted(versions) == list(range(1, len(versions) + 1))
    assert all(m.name and m.name.replace("_", "").isalnum() for m in MIGRATIONS)


def test_fresh_database_matches_schema(db_url: str) -> None:
    store = open_store(db_url)
    try:
        with store.read() as conn:
            insp = inspect(conn)
            tables = set(insp.get_table_names())
            assert tables == set(schema.metadata.tables)
            for name, table in schema.metadata.tables.items():
                assert {c["name"] for c in insp.get_columns(name)} == {c.name for c in table.columns}, name
            recorded = conn.execute(text("SELECT version, name FROM schema_migrations ORDER BY version")).all()
        assert [tuple(r) for r in recorded] == [(m.version, m.name) for m in MIGRATIONS]
    finally:
        store.close()


def test_newer_schema_is_refused_and_untouched(db_url: str) -> None:
    open_store(db_url).close()
    engine = create_engine(normalize_db_url(db_url))
    with engine.begin() as conn:
        conn.execute(
            insert(schema.schema_migrations).values(
                version=LATEST + 1, name="from_the_future", applied_at=datetime.now(UTC)
            )
        )
    engine.dispose()
    before = _fingerprint(db_url)
    with pytest.raises(StoreError) as exc:
        open_store(db_url)
    assert exc.value.code == "store.schema_too_new"
    assert f"version {LATEST + 1}" in exc.value.message and "Nothing was changed" in exc.value.message
    assert _fingerprint(db_url) == before


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    before = path.read_bytes()
    with pytest.raises(StoreError) as exc:
        open_store(str(path))
    assert exc.value.code == "store.foreign_database"
    assert path.read_bytes() == before


def test_sqlite_pragmas(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "w.db"))
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    store.close()


def _fingerprint(db_url: str) -> str:
    path = Path(db_url)
    if path.exists():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    engine = create_engine(normalize_db_url(db_url))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT version, name FROM schema_migrations ORDER BY version")).all()
    engine.dispose()
    return repr(rows)
