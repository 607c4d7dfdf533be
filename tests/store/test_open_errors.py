"""Bad --db values: one clear line on stderr, a non-zero exit, no traceback, and existing data untouched."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from whoknows.errors import ConfigError, StoreError
from whoknows.store import open_store
from whoknows.store.urls import normalize_db_url


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "whoknows", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def assert_clean_failure(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr  # one line that says what is wrong (a progress bar may precede it)
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "value, needle",
    [
        ("mysql://root@localhost/x", "unsupported database 'mysql'"),
        ("postgresql://host-only/", "names no database"),
        ("postgresql+asyncpg://u@h/db", "driver 'asyncpg' is not supported"),
        ("   ", "--db is empty"),
    ],
)
def test_bad_urls(value: str, needle: str) -> None:
    with pytest.raises(ConfigError) as exc:
        normalize_db_url(value)
    assert needle in exc.value.message


def test_cli_bad_url() -> None:
    assert_clean_failure(run_cli("--db", "mysql://root@localhost/x", "status"), "unsupported database")


def test_cli_unreachable_postgres() -> None:
    proc = run_cli("--db", "postgresql://postgres@127.0.0.1:1/whoknows", "status")
    assert_clean_failure(proc, "cannot connect to PostgreSQL", "127.0.0.1:1")


def test_cli_missing_database_for_status(tmp_path: Path) -> None:
    proc = run_cli("--db", str(tmp_path / "none.db"), "status")
    assert_clean_failure(proc, "does not exist")
    assert not (tmp_path / "none.db").exists()


def test_not_a_database_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my precious notes\n")
    proc = run_cli("--db", str(path), "demo", "--messages", "200")
    assert_clean_failure(proc, "not a SQLite database")
    assert path.read_text() == "my precious notes\n"


def test_folder_as_database(tmp_path: Path) -> None:
    assert_clean_failure(run_cli("--db", str(tmp_path), "status"), "is a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_folder_non_root(tmp_path: Path) -> None:  # pragma: no cover - CI runs as root
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    with pytest.raises(StoreError):
        open_store(str(folder / "x.db"))


def test_read_only_database_file(tmp_path: Path) -> None:
    """A database on a read-only mount (simulated with SQLite's immutable read-only open)."""
    path = tmp_path / "w.db"
    run = run_cli("--db", str(path), "demo", "--messages", "200", "--people", "40", "--json")
    assert run.returncode == 0, run.stderr
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    proc = run_cli("--db", url, "demo", "--messages", "300", "--people", "40", "--seed", "7")
    assert_clean_failure(proc, "read-only")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert run_cli("--db", url, "status", "--json").returncode == 0


def test_newer_schema_via_cli(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "future.db"
    open_store(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01')")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert_clean_failure(run_cli("--db", str(path), "status"), "newer than this whoknows")
    assert_clean_failure(run_cli("--db", str(path), "demo", "--messages", "200"), "schema version 999")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
