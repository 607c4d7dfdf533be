"""HTTP load on ``POST /api/v1/ask`` (memory + experts) with wrk on loopback, over a generated organisation.

    python bench/bench_http_ask.py [--db /tmp/load1m/wk.db] [--data-dir DIR] [--messages 1000000]
                                   [--connections 20] [--duration 60] [--workers 1] [--askers 50]

1. Unless DB exists, ``whoknows demo --messages N`` generates the demo organisation, builds memory, index and
   expertise model, and gives every demo person a login (data dir: ``--data-dir``, default ``DB.data``).
2. API tokens are issued for ``--askers`` random demo people (every request runs as one of them, so permission
   filters differ: their private channels, mailboxes and DMs).
3. ``whoknows serve`` runs in a child process (``--workers`` uvicorn processes); once it answers, a warm-up pass
   sends every question once, then ``wrk -t2 -c CONNECTIONS -d DURATION`` runs a closed loop: each connection
   sends its next question as soon as the previous answer arrived (no think time — the hardest reading of
   "N concurrent clients"), or with ``--think-ms T`` each client pauses 0.5-1.5 T between an answer and its next
   question (people reading the answer). Questions: the varied mix of bench_ask_latency.py (catalog questions
   re-phrased, keyword fragments, off-topic, other scripts, stop words, long pasted texts cut to the API's 10,000
   characters), empty ones left out (they are a 4xx by design), 2,000 of them, each with a random asker's token.
4. Prints wrk's latency percentiles (p50/p90/p99/max), requests/s, non-2xx responses and socket errors, the
   server's RSS, its CPU time per request (all its processes) and the load average. Target (issue 8): p99 <= 300 ms
   at 20 concurrent clients on 1M messages.

Needs ``wrk`` (Debian package ``wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy import func, select

from bench_ask_latency import make_queries
from whoknows.api.accounts import issue_token
from whoknows.settings import Settings
from whoknows.store import open_store, schema

EXE = Path(sys.executable).with_name("whoknows")
TARGET_P99_MS = 300.0

LUA = r"""
local bodies = {
%BODIES%
}
local tokens = {
%TOKENS%
}
local n = 0
local offset = 0
function setup(thread)
  thread:set("offset", offset)
  offset = offset + 7919
end
function request()
  n = n + 1
  local i = (n + offset) % #bodies + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. tokens[(n + offset) % #tokens + 1]
  return wrk.format("POST", "/api/v1/ask", headers, bodies[i])
end
local think = %THINK%
if think > 0 then
  function delay()
    return math.random(math.floor(think / 2), think + math.floor(think / 2))
  end
end
function done(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "status_errors": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeouts": %d, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, ' ..
    '"max_ms": %.2f, "mean_ms": %.2f}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
"""


def lua_string(s: str) -> str:
    level = "=" * 4
    assert f"]{level}]" not in s
    return f"[{level}[{s}]{level}]"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answers (401 without a token)
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the server did not answer in time")


def rss_mb(pid: int) -> float:
    total = 0.0
    for p in [pid, *child_pids(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server and its processes so far (a figure the machine's other load does not
    inflate the way it inflates latency)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for p in [pid, *child_pids(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def child_pids(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def post(url: str, token: str, body: bytes) -> int:
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=Path("/tmp/load1m/wk.db"))
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--connections", type=int, default=20)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--askers", type=int, default=50)
    ap.add_argument(
        "--think-ms",
        type=int,
        default=0,
        help="pause of each client between answer and next question (uniform 0.5-1.5x); 0: a closed loop",
    )
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", action="store_true", help="print the result as JSON only")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    data_dir = args.data_dir or Path(f"{args.db}.data")
    env = dict(os.environ, WHOKNOWS_DB=str(args.db), WHOKNOWS_DATA_DIR=str(data_dir))
    if not args.db.exists():
        t0 = time.perf_counter()
        subprocess.run([str(EXE), "demo", "--messages", str(args.messages), "--json"], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        print(f"demo org generated and derived in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    store = open_store(Settings(db=str(args.db), data_dir=data_dir), create=False)
    a, p = schema.accounts, schema.people
    with store.read() as conn:
        accounts = [(int(r.id), int(r.person_id)) for r in conn.execute(select(a.c.id, a.c.person_id))]
        people = int(conn.execute(select(func.count()).select_from(p)).scalar_one())
        messages = int(conn.execute(select(func.count()).select_from(schema.messages)).scalar_one())
    if not accounts:
        raise SystemExit("no accounts in this database: run `whoknows demo` (with accounts) on it")
    rng = random.Random(args.seed)
    chosen = rng.sample(accounts, min(args.askers, len(accounts)))
    tokens = [issue_token(store, acc, kind="api", name="bench-http", ttl=None).token for acc, _pid in chosen]
    store.close()
    # The API takes questions up to 10,000 characters (longer: 422 by design), so pasted texts are cut there.
    queries = [q[:10_000] for kind, q in make_queries(args.queries, args.seed) if kind != "empty"]
    bodies = [json.dumps({"question": q, "k": 5}) for q in queries]

    port = free_port()
    server = subprocess.Popen(
        [str(EXE), "serve", "--port", str(port), "--workers", str(args.workers), "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/api/v1/auth/me", server)
        t0 = time.perf_counter()
        statuses: dict[int, int] = {}
        for i, body in enumerate(bodies):  # warm-up: every question once, each worker's index and caches
            s = post(f"{base}/api/v1/ask", tokens[i % len(tokens)], body.encode())
            statuses[s] = statuses.get(s, 0) + 1
        warm = time.perf_counter() - t0
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(
                LUA.replace("%THINK%", str(args.think_ms))
                .replace("%BODIES%", ",\n".join(lua_string(b) for b in bodies))
                .replace("%TOKENS%", ",\n".join(lua_string(t) for t in tokens))
            )
            script = f.name
        load_before = os.getloadavg()
        cpu_before = cpu_seconds(server.pid)
        run = subprocess.run(
            ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s", "-s", script, base],
            capture_output=True,
            text=True,
            check=True,
        )
        cpu = cpu_seconds(server.pid) - cpu_before
        rss = rss_mb(server.pid)
        line = next(x for x in run.stdout.splitlines() if x.startswith("WRK_JSON "))
        wrk: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
        os.unlink(script)
    finally:
        server.terminate()
        server.wait(timeout=30)
    seconds = wrk["duration_us"] / 1e6
    result = {
        "messages": messages,
        "people": people,
        "connections": args.connections,
        "think_ms": args.think_ms,
        "workers": args.workers,
        "duration_s": round(seconds, 1),
        "requests": wrk["requests"],
        "requests_per_s": round(wrk["requests"] / seconds, 1),
        "p50_ms": wrk["p50_ms"],
        "p90_ms": wrk["p90_ms"],
        "p99_ms": wrk["p99_ms"],
        "max_ms": wrk["max_ms"],
        "non_2xx": wrk["status_errors"],
        "socket_errors": wrk["connect_errors"] + wrk["read_errors"] + wrk["write_errors"] + wrk["timeouts"],
        "warmup_statuses": statuses,
        "warmup_s": round(warm, 1),
        "server_rss_mb": round(rss),
        "server_cpu_ms_per_request": round(cpu * 1000 / max(wrk["requests"], 1), 1),
        "loadavg_before": [round(x, 2) for x in load_before],
        "target_p99_ms": TARGET_P99_MS,
        "meets_target": wrk["p99_ms"] <= TARGET_P99_MS and wrk["status_errors"] == 0,
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"POST /api/v1/ask over HTTP: {messages:,} messages, {people:,} people, {args.workers} worker(s)")
    loop = f"think time {args.think_ms} ms" if args.think_ms else "closed loop"
    print(f"  wrk -c{args.connections} {loop} for {result['duration_s']} s: {result['requests']} requests, "
          f"{result['requests_per_s']} req/s")  # fmt: skip
    print(f"  latency p50 {result['p50_ms']:.1f} ms  p90 {result['p90_ms']:.1f} ms  p99 {result['p99_ms']:.1f} ms  "
          f"max {result['max_ms']:.1f} ms   (target p99 <= {TARGET_P99_MS:.0f} ms)")  # fmt: skip
    print(f"  errors: {result['non_2xx']} non-2xx, {result['socket_errors']} socket; warm-up statuses {statuses}")
    print(f"  server RSS {result['server_rss_mb']} MB, CPU {result['server_cpu_ms_per_request']} ms per request; "
          f"load average before {result['loadavg_before']}")  # fmt: skip


if __name__ == "__main__":
    main()
