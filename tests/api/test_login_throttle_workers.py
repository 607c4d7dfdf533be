"""``whoknows serve --workers 2``: both server processes count failed logins against one shared limit."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
from test_login_throttle import LIMIT, people_batch
from test_serve_workers import EXE, _owner, _port, _servers, _stop, _wait

from conftest import PASSWORD
from whoknows.api.accounts import add_account
from whoknows.ingest import ingest
from whoknows.store import open_store


def _login(conn: http.client.HTTPConnection, password: str) -> int:
    body = json.dumps({"email": "ann@t.example", "password": password})
    conn.request("POST", "/api/v1/auth/login", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return response.status


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT (Linux)")
def test_two_server_processes_share_one_login_limit(db_url: str, tmp_path: Path) -> None:
    store = open_store(db_url)
    ingest(store, "test", "test:t", [people_batch()])
    add_account(store, "ann@t.example", role="member", password=PASSWORD)
    store.close()
    port = _port()
    env = {**os.environ, "WHOKNOWS_DB": db_url, "WHOKNOWS_DATA_DIR": str(tmp_path / "data"),
           "WHOKNOWS_API_LOGIN_MAX_FAILURES": str(LIMIT)}  # fmt: skip
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(EXE), "serve", "--port", str(port), "--workers", "2", "--no-worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    clients: list[http.client.HTTPConnection] = []
    try:
        _wait(lambda: log_path.read_text(errors="replace").count("Application startup complete") == 2)
        pids = tuple(sorted(_servers(proc.pid)))
        pinned: dict[int, http.client.HTTPConnection] = {}
        for _ in range(200):  # one keep-alive connection held by each server process
            if len(pinned) == 2:
                break
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.connect()
            clients.append(c)
            owner = _owner(port, c, pids)
            if owner in pinned:
                c.close()  # (more connections than its share would make a process ask the pinned one to leave)
            else:
                pinned[owner] = c
        assert len(pinned) == 2
        statuses = {pid: [_login(c, "wrong password!") for _ in range(LIMIT)] for pid, c in pinned.items()}
        served = [s for pid in pids for s in statuses[pid]]
        assert served.count(401) == LIMIT and served.count(429) == LIMIT, statuses
        assert {_login(c, PASSWORD) for c in pinned.values()} == {429}  # locked in both processes
    finally:
        for c in clients:
            c.close()
        _stop(proc)
    assert "Traceback" not in log_path.read_text(errors="replace")
