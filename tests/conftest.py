"""Shared fixtures: a store on every backend (SQLite always; PostgreSQL when WHOKNOWS_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from whoknows.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PG_URL = os.environ.get("WHOKNOWS_TEST_DATABASE_URL")
EXTENDED = os.environ.get("WHOKNOWS_EXTENDED", "") not in ("", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long fault/load runs (marker ``extended``) only run with ``-m extended`` or WHOKNOWS_EXTENDED=1."""
    if EXTENDED or "extended" in (config.getoption("markexpr", "") or ""):
        return
    skip = pytest.mark.skip(reason="extended suite: run with -m extended (or WHOKNOWS_EXTENDED=1)")
    for item in items:
        if "extended" in item.keywords:
            item.add_marker(skip)


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with a clear message when the data is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is missing (it lives in ../shared/data next to the repo)")
    return path


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests need WHOKNOWS_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1/test)")
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(PG_URL)
    name = f"wk_test_{uuid.uuid4().hex[:12]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name, drivername="postgresql").render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL (not yet opened) on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "whoknows.db")
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    try:
        yield s
    finally:
        s.close()
