"""``whoknows serve --workers N`` as a real process tree: every process has its own listening socket
(SO_REUSEPORT), so connections are spread over them; a killed process is replaced; SIGTERM stops them all."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from whoknows.store import open_store

EXE = Path(sys.executable).with_name("whoknows")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _servers(pid: int) -> set[int]:
    """The server processes under the supervisor (multiprocessing may add a resource tracker: left out)."""
    out = set()
    for child in _children(pid):
        cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"resource_tracker" not in cmd:
            out.add(child)
    return out


def _get(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/api/v1/openapi.json")
        return conn.getresponse().status
    finally:
        conn.close()


def _wait(cond, timeout: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.3)
    raise AssertionError("timed out")


def _serving(port: int) -> bool:
    try:
        return _get(port) == 200
    except OSError:
        return False


def _serve_two(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``whoknows serve --workers 2`` on an empty store and a free port (log: ``serve.log``), once both processes
    have started."""
    db = tmp_path / "wk.db"
    open_store(db)
    port = _port()
    env = {**os.environ, "WHOKNOWS_DB": str(db), "WHOKNOWS_DATA_DIR": str(tmp_path / "data")}
    with (tmp_path / "serve.log").open("wb") as log:  # (the server writes through its own copy of the file)
        proc = subprocess.Popen(
            [str(EXE), "serve", "--port", str(port), "--workers", "2", "--no-worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait(lambda: _startups(tmp_path) == 2)
    except BaseException:
        proc.kill()
        raise
    return proc, port


def _startups(tmp_path: Path) -> int:
    return (tmp_path / "serve.log").read_text(errors="replace").count("Application startup complete")


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT (Linux)")
def test_workers_share_the_port_restart_and_stop(tmp_path: Path) -> None:
    proc, port = _serve_two(tmp_path)
    try:
        first = _servers(proc.pid)
        assert len(first) == 2 and _serving(port)
        # Twenty keep-alive clients connecting at once are spread over both processes (with one shared socket,
        # the process that wakes first tends to accept the whole burst).
        clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(20)]
        for c in clients:
            c.connect()
        owners = [_owner(port, c, tuple(first)) for c in clients]  # (counting sockets raced a closing one)
        held = {pid: owners.count(pid) for pid in first}
        for c in clients:
            c.request("GET", "/api/v1/openapi.json")
            assert c.getresponse().read()
        for c in clients:
            c.close()
        assert min(held.values()) >= 3, held
        # A killed process is replaced, and the port keeps answering meanwhile.
        victim = sorted(first)[0]
        os.kill(victim, signal.SIGKILL)  # (connections waiting in its queue at that moment are lost)
        _wait(lambda: _startups(tmp_path) == 3)
        assert len(_servers(proc.pid)) == 2 and victim not in _servers(proc.pid)
        assert all(_serving(port) for _ in range(10))
        survivors = _servers(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        for pid in survivors:
            _wait(lambda pid=pid: not Path(f"/proc/{pid}").exists() or _zombie(pid), timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = (tmp_path / "serve.log").read_text(errors="replace")
    assert "exited with" in text and "Traceback" not in text, text[-3000:]


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT (Linux)")
def test_keep_alive_clients_end_up_evenly_spread(tmp_path: Path) -> None:
    """Twelve keep-alive clients held 9 : 3 by the two processes end up 6 : 6 within a few requests: the busier
    process answers with ``Connection: close`` and the clients reconnect (the kernel places them again)."""
    proc, port = _serve_two(tmp_path)
    clients: list[http.client.HTTPConnection] = []
    try:
        busy, other = sorted(_servers(proc.pid))
        # Connect (no request yet, so no process can ask anyone to leave) until the split is 9 : 3.
        held = {busy: 0, other: 0}
        want = {busy: 9, other: 3}
        for _ in range(400):
            if held == want:
                break
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.connect()
            owner = _owner(port, c, (busy, other))
            if held[owner] < want[owner]:
                held[owner] += 1
                clients.append(c)
            else:
                c.close()
        assert held == want, held
        closes = 0
        for _ in range(8):
            for c in clients:
                c.request("GET", "/api/v1/openapi.json")
                r = c.getresponse()
                assert r.status == 200 and r.read()
                closes += r.getheader("connection", "") == "close"
        spread = {}
        for c in clients:  # a client asked to reconnect has no socket until its next request: reconnect now
            if c.sock is None:
                c.connect()
        for c in clients:
            owner = _owner(port, c, (busy, other))
            spread[owner] = spread.get(owner, 0) + 1
        assert closes >= 3 and abs(spread.get(busy, 0) - spread.get(other, 0)) <= 2, (closes, spread)
    finally:
        for c in clients:
            c.close()
        _stop(proc)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux-only")
def test_server_processes_exit_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    proc, port = _serve_two(tmp_path)
    servers: set[int] = set()
    try:
        servers = _servers(proc.pid)
        assert len(servers) == 2
        proc.kill()  # SIGKILL: the supervisor cannot stop them itself
        proc.wait(timeout=30)
        for pid in servers:  # (orphans are re-parented, so they are not our zombies to reap)
            _wait(lambda pid=pid: not Path(f"/proc/{pid}").exists() or _zombie(pid), timeout=30)
        assert not _serving(port)
    finally:
        for pid in servers:  # (left over only when the test failed)
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the supervisor as a service manager would (SIGTERM), and kill it if it does not exit in a minute."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()


def _owner(port: int, client: http.client.HTTPConnection, pids: tuple[int, ...]) -> int:
    """Which server process holds the server side of ``client``'s connection (by socket inode in /proc)."""
    assert client.sock is not None
    mine = client.sock.getsockname()[1]
    local, remote = f"0100007F:{port:04X}", f"0100007F:{mine:04X}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the accept may not have happened yet
        inode = next(
            (f[9] for f in (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
             if f[1] == local and f[2] == remote),
            None,
        )  # fmt: skip
        for pid in pids:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    if inode is not None and os.readlink(fd) == f"socket:[{inode}]":
                        return pid
                except OSError:
                    continue
        time.sleep(0.05)
    raise AssertionError(f"no server process holds the connection from port {mine}")


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] == "Z"
    except OSError:
        return True
