"""Durability: SIGKILL a worker subprocess mid-run and restart it: nothing lost, nothing sent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

from routing_fixtures import Mailbox, Org

from whoknows.routing.outbox import counts, enqueue

N = 12


def _worker(org: Org) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WHOKNOWS_DATA_DIR": str(org.data_dir),
        "WHOKNOWS_SMTP_HOST": "127.0.0.1",
        "WHOKNOWS_SMTP_PORT": str(org.settings.smtp_port),
    }
    cmd = [sys.executable, "-m", "whoknows", "--db", str(org.data_dir / "w.db"), "worker", "--interval", "0.1"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_kill_and_restart(org: Org, smtp_server: Mailbox) -> None:
    now = datetime.now(UTC)
    with org.store.write() as conn:
        for i in range(N):
            payload = {"to": {"email": f"p{i}@example.com"}, "question": f"q{i}", "assignment_id": i}
            enqueue(conn, key=f"test:{i}", person_id=1, channel="email", kind="request", payload=payload, at=now)
    smtp_server.delay_s = 0.15  # the worker spends its time inside a transaction the server has not accepted yet
    first = _worker(org)
    try:
        smtp_server.wait(4, timeout=30)
        time.sleep(0.06)  # into the next message's MAIL phase
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    got = len(smtp_server.messages)
    assert 4 <= got < N
    # the killed worker's claimed rows come back when their lease runs out; shorten it for the test
    from sqlalchemy import update

    from whoknows.store import schema

    with org.store.write() as conn:
        ob = schema.notification_outbox
        conn.execute(update(ob).where(ob.c.status == "sending").values(claimed_until=now))
    second = _worker(org)
    try:
        smtp_server.wait(N, timeout=60)
        deadline = time.monotonic() + 10
        while counts(org.store).get("sent", 0) < N and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait(10)
    keys = [m["X-Whoknows-Key"] for m in smtp_server.messages]
    assert sorted(keys) == sorted(f"test:{i}" for i in range(N))  # every one, each exactly once
    assert counts(org.store) == {"sent": N}
