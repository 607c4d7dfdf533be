"""Sustained mixed workload over loopback: ask, route, inbox, answer, accept and import at the same time.

    python bench/bench_sustained.py [--db DB] [--messages 20000] [--duration 120] [--clients 8] [--json]

1. Unless DB exists, ``whoknows demo --messages N`` builds the demo organisation with logins (data dir
   ``DB.data`` unless ``--data-dir``). API tokens are issued for every demo person.
2. ``whoknows serve`` runs in a child process; ``--clients`` concurrent clients (asyncio + httpx, one connection
   pool each) run a closed loop for ``--duration`` seconds, each step drawn from this mix:
   ask 60% · route (always) 10% · expert inbox 10% · answer the oldest waiting assignment 12% · accept 3% ·
   import 5% (an admin uploads a small tickets JSON Lines file with new ticket ids, then polls the import until
   it is done). The answering expert is whoever the route call asked, so answers are captured into memory while
   asks go on.
3. The server's resident memory is sampled every second.

Prints per operation: count, p50 / p99 / max latency, unexpected responses; overall error rate (a 4xx/5xx that is
not an expected race, e.g. answering an assignment that another client answered first: 409); and RSS at start,
middle and end with the growth over the second half (a leak shows as steady growth). Exit status 1 when any
unexpected error happened.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy import select

from bench_ask_latency import make_queries
from bench_http_ask import free_port, rss_mb, wait_ready
from whoknows.api.accounts import issue_token
from whoknows.settings import Settings
from whoknows.store import open_store, schema

EXE = Path(sys.executable).with_name("whoknows")
MIX = (("ask", 60), ("route", 10), ("inbox", 10), ("answer", 12), ("accept", 3), ("import", 5))
#: Expected answers to races between clients (someone else answered or accepted first; nothing to accept yet).
EXPECTED = {"answer": {409}, "accept": {404, 409}}


class Load:
    def __init__(self, base: str, tokens: dict[int, str], admin: str, queries: list[str], seed: int) -> None:
        self.base, self.tokens, self.admin, self.queries = base, tokens, admin, queries
        self.rng = random.Random(seed)
        self.people = list(tokens)
        self.waiting: list[tuple[int, int, int]] = []  # (assignment id, expert person id, asker person id)
        self.answered: list[tuple[int, int]] = []  # (question id, asker person id)
        self.times: dict[str, list[float]] = defaultdict(list)
        self.unexpected: dict[str, list[str]] = defaultdict(list)
        self.imports = 0

    def auth(self, pid: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[pid]}"}

    async def step(self, client: httpx.AsyncClient, op: str) -> None:
        t0 = time.perf_counter()
        try:
            r = await getattr(self, op)(client)
        except httpx.HTTPError as e:
            self.unexpected[op].append(f"{type(e).__name__}: {e}")
            return
        if r is None:
            return
        self.times[op].append((time.perf_counter() - t0) * 1000)
        if r.status_code >= 400 and r.status_code not in EXPECTED.get(op, set()):
            self.unexpected[op].append(f"{r.status_code} {r.text[:200]}")

    async def ask(self, c: httpx.AsyncClient) -> httpx.Response:
        q = self.rng.choice(self.queries)
        return await c.post("/api/v1/ask", json={"question": q}, headers=self.auth(self.rng.choice(self.people)))

    async def route(self, c: httpx.AsyncClient) -> httpx.Response:
        asker = self.rng.choice(self.people)
        q = f"{self.rng.choice(self.queries)} (case {self.rng.randrange(10**9)})"
        r = await c.post("/api/v1/route", json={"question": q, "always": True, "k": 2}, headers=self.auth(asker))
        if r.status_code == 200:
            body = r.json()
            for a in body.get("asked", []):
                if a.get("assignment_id") and a.get("person_id") in self.tokens:
                    self.waiting.append((int(a["assignment_id"]), int(a["person_id"]), asker))
        return r

    async def inbox(self, c: httpx.AsyncClient) -> httpx.Response:
        who = self.waiting[-1][1] if self.waiting else self.rng.choice(self.people)
        return await c.get("/api/v1/inbox", headers=self.auth(who))

    async def answer(self, c: httpx.AsyncClient) -> httpx.Response | None:
        if not self.waiting:
            return None
        assignment, expert, asker = self.waiting.pop(0)
        text = f"From experience: check the {self.rng.choice(self.queries)[:80]} playbook, it covers this."
        r = await c.post(f"/api/v1/assignments/{assignment}/answer", json={"text": text}, headers=self.auth(expert))
        if r.status_code == 200:
            self.answered.append((int(r.json()["question_id"]), asker))
        return r

    async def accept(self, c: httpx.AsyncClient) -> httpx.Response | None:
        if not self.answered:
            return None
        qid, asker = self.answered.pop(0)
        return await c.post(f"/api/v1/questions/{qid}/accept", json={"rating": 5}, headers=self.auth(asker))

    async def import_(self, c: httpx.AsyncClient) -> httpx.Response:
        self.imports += 1
        n = self.imports
        stamp = f"{time.time_ns()}-{n}"
        lines = [
            json.dumps(
                {
                    "ticket_id": f"LOAD-{stamp}-{i}",
                    "queue": "Load test",
                    "subject": f"Customer asks about {self.rng.choice(self.queries)[:60]}",
                    "requester": f"customer{i}@load.example",
                    "assignee": "agent@load.example",
                    "status": "solved",
                    "created_at": "2026-05-04T09:00:00Z",
                    "comments": [
                        {"author": f"customer{i}@load.example", "body": "How do we do this?"},
                        {"author": "agent@load.example", "body": f"Use the documented setting #{i}."},
                    ],
                }
            )
            for i in range(20)
        ]
        files = {"file": (f"tickets-{n}.jsonl", "\n".join(lines).encode(), "application/octet-stream")}
        r = await c.post(
            "/api/v1/admin/imports", data={"kind": "tickets", "space_name": "loadtest"}, files=files,
            headers={"Authorization": f"Bearer {self.admin}"},
        )  # fmt: skip
        if r.status_code != 202:
            return r
        url = r.json()["url"]
        for _ in range(600):
            s = await c.get(url, headers={"Authorization": f"Bearer {self.admin}"})
            if s.status_code != 200 or s.json()["status"] in ("done", "failed", "completed", "error"):
                if s.status_code == 200 and s.json()["status"] in ("failed", "error"):
                    self.unexpected["import"].append(f"import failed: {s.json().get('error')}")
                return s
            await asyncio.sleep(0.2)
        self.unexpected["import"].append("import did not finish in 120 s")
        return s


async def client_loop(load: Load, deadline: float, seed: int) -> None:
    rng = random.Random(seed)
    ops = [op for op, w in MIX for _ in range(w)]
    async with httpx.AsyncClient(base_url=load.base, timeout=120) as client:
        while time.monotonic() < deadline:
            op = rng.choice(ops)
            await load.step(client, "import_" if op == "import" else op)


async def sample_rss(pid: int, deadline: float, out: list[tuple[float, float]]) -> None:
    t0 = time.monotonic()
    while time.monotonic() < deadline:
        out.append((time.monotonic() - t0, rss_mb(pid)))
        await asyncio.sleep(1.0)


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q / 100 * len(s)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=Path("/tmp/whoknows-sustained/wk.db"))
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--duration", type=float, default=120.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    data_dir = args.data_dir or Path(f"{args.db}.data")
    env = dict(os.environ, WHOKNOWS_DB=str(args.db), WHOKNOWS_DATA_DIR=str(data_dir), WHOKNOWS_SMTP_PORT="1")
    if not args.db.exists():
        args.db.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(EXE), "demo", "--messages", str(args.messages), "--json"], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    store = open_store(Settings(db=str(args.db), data_dir=data_dir), create=False)
    a = schema.accounts
    with store.read() as conn:
        accounts = conn.execute(select(a.c.id, a.c.person_id, a.c.role)).all()
    if not accounts:
        raise SystemExit("no accounts in this database: run `whoknows demo` (with accounts) on it")
    tokens = {
        int(r.person_id): issue_token(store, int(r.id), kind="api", name="bench-sustained").token for r in accounts
    }
    admin = next(tokens[int(r.person_id)] for r in accounts if r.role == "admin")
    store.close()
    queries = [q[:2000] for kind, q in make_queries(500, args.seed) if kind in ("catalog", "keywords", "off_topic")]
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+b", prefix="whoknows-serve-", suffix=".log", delete=False)  # noqa: SIM115
    server = subprocess.Popen([str(EXE), "serve", "--port", str(port), "--no-worker"], env=env,
                              stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
    rss: list[tuple[float, float]] = []
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/api/v1/auth/me", server)  # type: ignore[arg-type]
        load = Load(base, tokens, admin, queries, args.seed)
        started = time.monotonic()
        deadline = started + args.duration

        async def run() -> None:
            await asyncio.gather(
                sample_rss(server.pid, deadline, rss),
                *(client_loop(load, deadline, args.seed * 100 + i) for i in range(args.clients)),
            )

        asyncio.run(run())
        wall = time.monotonic() - started
        alive = server.poll() is None
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        stderr = Path(log.name).read_bytes()
    total = sum(len(v) for v in load.times.values())
    errors = sum(len(v) for v in load.unexpected.values())
    third = max(1, len(rss) // 3)
    mid = rss[len(rss) // 2][1] if rss else 0.0
    result: dict[str, Any] = {
        "clients": args.clients,
        "seconds": round(wall, 1),
        "requests": total,
        "requests_per_s": round(total / wall, 1) if wall else 0.0,
        "unexpected_errors": errors,
        "error_rate": round(errors / total, 5) if total else 0.0,
        "server_alive": alive,
        "ops": {
            op.rstrip("_"): {
                "n": len(v),
                "p50_ms": round(pct(v, 50), 1),
                "p99_ms": round(pct(v, 99), 1),
                "max_ms": round(max(v), 1),
                "unexpected": len(load.unexpected.get(op, [])),
            }
            for op, v in sorted(load.times.items())
        },
        "imports": load.imports,
        "rss_mb": {
            "start": round(rss[0][1]) if rss else None,
            "middle": round(mid),
            "end": round(rss[-1][1]) if rss else None,
            "max": round(max(x for _, x in rss)) if rss else None,
            "growth_second_half_mb": round(rss[-1][1] - mid, 1) if rss else None,
            "mean_last_third_mb": round(sum(x for _, x in rss[-third:]) / third, 1) if rss else None,
        },
        "examples": {op: v[:3] for op, v in load.unexpected.items()},
    }
    result["server_log"] = log.name
    result["server_tracebacks"] = stderr.decode(errors="replace").count("Traceback")
    if not alive:
        result["server_exit"] = server.returncode
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"sustained mixed load: {args.clients} clients for {result['seconds']} s, {total} requests "
              f"({result['requests_per_s']} req/s), unexpected errors {errors} "
              f"(rate {result['error_rate']})")  # fmt: skip
        for op, s in result["ops"].items():
            print(f"  {op:<7} n={s['n']:<6} p50 {s['p50_ms']:>7.1f} ms  p99 {s['p99_ms']:>8.1f} ms  "
                  f"max {s['max_ms']:>8.1f} ms  unexpected {s['unexpected']}")  # fmt: skip
        r = result["rss_mb"]
        print(f"  server RSS MB: start {r['start']}, middle {r['middle']}, end {r['end']}, max {r['max']} "
              f"(second half {r['growth_second_half_mb']:+} MB)")  # fmt: skip
        for op, ex in result["examples"].items():
            print(f"  e.g. {op}: {ex}")
    if (result["server_tracebacks"] or not alive) and not args.json:
        print(f"  server: alive={alive}, {result['server_tracebacks']} tracebacks in {log.name}")
    return 0 if errors == 0 and alive and not result["server_tracebacks"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
