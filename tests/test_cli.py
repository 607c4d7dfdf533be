"""The CLI end to end: demo, status, --json, errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "whoknows", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "120"},
    )


def test_demo_then_status(tmp_path: Path) -> None:
    db = str(tmp_path / "org.db")
    proc = run("--db", db, "demo", "--messages", "2000")
    assert proc.returncode == 0, proc.stderr
    assert "Northwind Cloud" in proc.stdout and "300 people" in proc.stdout
    status = run("--db", db, "status", "--json")
    data = json.loads(status.stdout)
    assert data["totals"]["messages"] >= 2000
    assert data["sources"][0]["source"] == "demo:7"
    assert data["schema_version"] >= 1
    assert len(data["spaces"]) == 10 and data["people"]
    table = run("--db", db, "status")
    assert "Sources" in table.stdout and "demo:7" in table.stdout


def test_demo_json_and_default_location(tmp_path: Path) -> None:
    # With no --db the database goes to the data dir; point it at a throwaway folder.
    proc = subprocess.run(
        [sys.executable, "-m", "whoknows", "demo", "--messages", "300", "--people", "40", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "WHOKNOWS_DATA_DIR": str(tmp_path / "data")},
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["people"] == 40 and data["messages"] >= 300
    assert (tmp_path / "data" / "whoknows.db").exists()
    assert Path(data["truth_path"]).exists()


def test_usage_errors_are_short(tmp_path: Path) -> None:
    proc = run("--db", str(tmp_path / "x.db"), "demo", "--messages", "5")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = run("no-such-command")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_import_unknown_source_and_missing_path(tmp_path: Path) -> None:
    proc = run("--db", str(tmp_path / "x.db"), "import", "fax", str(tmp_path))
    assert proc.returncode == 2 and "unknown source 'fax'" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("--db", str(tmp_path / "x.db"), "import", "slack", str(tmp_path / "nope.zip"))
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_version() -> None:
    proc = run("version", "--json")
    assert json.loads(proc.stdout)["version"]
