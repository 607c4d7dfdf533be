"""A sustained mixed workload (ask, route, inbox, answer, accept, import at once) against a real server process:
no unexpected error, no server traceback, the server stays up. Bounded here (~20 s of load on a small demo
org); the extended run goes for 5 minutes and also bounds memory growth over its second half."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_sustained.py"


def _run(tmp_path: Path, messages: int, seconds: int, clients: int) -> dict[str, object]:
    cmd = [sys.executable, str(BENCH), "--db", str(tmp_path / "wk.db"), "--messages", str(messages),
           "--duration", str(seconds), "--clients", str(clients), "--json"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 600)
    assert done.stdout.strip(), done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout)
    assert done.returncode == 0, (result, done.stderr[-2000:])
    return result


def _check(result: dict[str, object]) -> None:
    assert result["unexpected_errors"] == 0, result["examples"]
    assert result["server_alive"] and result["server_tracebacks"] == 0, result
    ops = result["ops"]
    assert isinstance(ops, dict)
    for op in ("ask", "route", "answer", "import"):
        assert ops.get(op, {}).get("n", 0) > 0, f"the mix never ran {op}: {ops}"


def test_sustained_mixed_load_short(tmp_path: Path) -> None:
    _check(_run(tmp_path, messages=3000, seconds=20, clients=4))


@pytest.mark.extended
def test_sustained_mixed_load_long(tmp_path: Path) -> None:
    result = _run(tmp_path, messages=20_000, seconds=300, clients=8)
    _check(result)
    rss = result["rss_mb"]
    assert isinstance(rss, dict)
    # Over the second half the server may grow (caches, reopened indexes) but not without bound.
    assert rss["growth_second_half_mb"] < 0.5 * rss["middle"], rss
