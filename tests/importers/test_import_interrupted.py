"""A killed import is shown as interrupted (and resumable), never as running forever: `whoknows status --json` and
the API's import status, after a real `whoknows import` process is killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from whoknows.api.imports import ImportJobs
from whoknows.settings import Settings
from whoknows.store import Store, open_store, schema
from whoknows.store.import_runs import STALE_AFTER, Owner, heartbeat, mark_interrupted, shown, this_process

REPO = Path(__file__).resolve().parents[2]


def whoknows(db: Path, data: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WHOKNOWS_DATA_DIR": str(data), "WHOKNOWS_BATCH_SIZE": "50"}
    cmd = [sys.executable, "-m", "whoknows", "--db", str(db), *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def status_json(db: Path, data: Path) -> list[dict[str, Any]]:
    proc = whoknows(db, data, "status", "--json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    imports: list[dict[str, Any]] = json.loads(out)["imports"]
    return imports


def messages_written(db: Path) -> int:
    try:
        conn = sqlite3.connect(db, timeout=10)
        try:
            return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0


def test_a_killed_import_is_interrupted_not_running(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from gen_slack_export import generate
    finally:
        sys.path.remove(str(REPO / "bench"))
    generate(tmp_path / "slack", 30_000, seed=5)
    db, data = tmp_path / "x.db", tmp_path / "data"
    proc = whoknows(db, data, "import", "slack", str(tmp_path / "slack"), "--no-index")
    deadline = time.monotonic() + 120
    while messages_written(db) < 500:
        assert proc.poll() is None, "the import ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGSTOP)  # alive but paused: still running
    try:
        (run,) = status_json(db, data)
        assert run["status"] == "running"
        assert run["stats"]["messages"]["new"] >= 500  # the counts so far
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)

    (run,) = status_json(db, data)
    assert run["status"] == "interrupted"
    assert f"process ({proc.pid} on" in run["error"] and "run the same import again to resume" in run["error"]
    store = open_store(str(db))
    try:
        api = ImportJobs(store, Settings(db=str(db), data_dir=data), data)
        shown_by_api = api.status(run["id"])
        assert shown_by_api["status"] == "interrupted" and "resume" in shown_by_api["error"]
    finally:
        store.close()

    again = whoknows(db, data, "import", "slack", str(tmp_path / "slack"), "--no-index")
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()
    latest, first = status_json(db, data)
    assert latest["status"] == "done" and first["status"] == "interrupted"
    conn = sqlite3.connect(db)
    try:  # the next import recorded the dead run as interrupted in the database
        assert conn.execute("SELECT status FROM imports WHERE id = ?", (first["id"],)).fetchone()[0] == "interrupted"
        assert (
            conn.execute("SELECT count(*) FROM messages").fetchone()[0]
            == latest["stats"]["messages"]["new"] + (first["stats"]["messages"]["new"])
        )
    finally:
        conn.close()


def _row(store: Any, import_id: int) -> Any:
    with store.read() as conn:
        return conn.execute(schema.imports.select().where(schema.imports.c.id == import_id)).mappings().one()


def test_liveness_rules(store: Store) -> None:
    """On SQLite and PostgreSQL: which running rows are shown, and recorded by the next import, as interrupted."""
    me = this_process()
    live = store.begin_import("slack", "s", None)
    heartbeat(store, live, {}, me)
    assert shown(_row(store, live))[0] == "running"
    reused = store.begin_import("slack", "s", None)  # same pid, another process start: the pid was reused
    heartbeat(store, reused, {}, Owner(me.host, me.pid, (me.token or "x:1") + "0"))
    assert shown(_row(store, reused))[0] == "interrupted"
    elsewhere = store.begin_import("slack", "s", None)
    heartbeat(store, elsewhere, {"messages": {"new": 3}}, Owner("another-host", 4242, "b:1"))
    assert shown(_row(store, elsewhere)) == ("running", None, {"messages": {"new": 3}})  # a fresh heartbeat
    row = dict(_row(store, elsewhere))
    row["stats"]["_run"]["heartbeat_at"] = (datetime.now(UTC) - STALE_AFTER - timedelta(seconds=1)).isoformat()
    status, error, _ = shown(row)
    assert status == "interrupted" and "no heartbeat from another-host" in (error or "")
    old = {**row, "stats": {}, "started_at": datetime.now(UTC) - 2 * STALE_AFTER}  # from before heartbeats
    assert shown(old)[0] == "interrupted"
    assert mark_interrupted(store) == [reused]
    assert _row(store, reused)["status"] == "interrupted" and _row(store, live)["status"] == "running"
    heartbeat(store, reused, {}, me)  # a run wrongly taken for dead takes itself back
    assert _row(store, reused)["status"] == "running" and _row(store, reused)["error"] is None
