"""Whether an import recorded as ``running`` still runs, or was killed (then it is shown as ``interrupted``).

While it runs, :func:`whoknows.ingest.ingest` keeps the run's owner and a heartbeat in the ``imports`` row's
``stats`` under the key :data:`RUN_KEY` (next to the counts so far), refreshed after every batch:
the host name, the process id and a start token (the kernel's boot id and the process's start time, so that a
process id reused by another process after the import died does not pass for it). When the run ends, ``stats``
becomes the final counts.

A reader (``whoknows status``, the API's import status) calls :func:`shown`: a ``running`` row is
``interrupted`` when its owner ran on this host and that process is gone (or is another process now), or, when it
ran elsewhere, when its heartbeat is older than :data:`STALE_AFTER`; a row from before heartbeats were kept is
judged by its start time the same way. The next import marks such rows ``interrupted`` in the database
(:func:`mark_interrupted`); a run wrongly marked (a host whose batches are slower than :data:`STALE_AFTER`)
sets itself back to ``running`` at its next heartbeat and records its end as usual.

Re-running the same import resumes it: what was committed is kept and skipped, since ``(source, external_id)`` is
unique in every table.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from whoknows.store import schema

if TYPE_CHECKING:
    from whoknows.store.store import Store

RUN_KEY = "_run"
#: A run on another host without a heartbeat for this long is taken for dead.
STALE_AFTER = timedelta(minutes=30)
RESUME_HINT = (
    "run the same import again to resume: what was stored is kept and skipped ((source, external_id) is unique)"
)


@dataclass(frozen=True, slots=True)
class Owner:
    host: str
    pid: int
    token: str | None  # None where the start time of a process cannot be read (not Linux)

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "token": self.token}


def this_process() -> Owner:
    return Owner(socket.gethostname(), os.getpid(), start_token(os.getpid()))


def start_token(pid: int) -> str | None:
    """``<boot id>:<start time in clock ticks>`` of process ``pid``; None if unknown (no /proc here or no such
    process: :func:`alive` tells which)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return f"{boot}:{fields[19]}" if len(fields) > 19 else None


def alive(owner: Owner) -> bool:
    """Whether ``owner`` (a process on this host) still runs."""
    if owner.token is not None and Path("/proc/self/stat").exists():
        return start_token(owner.pid) == owner.token
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def running_stats(counts: dict[str, Any], owner: Owner, now: datetime | None = None) -> dict[str, Any]:
    """What ``stats`` holds while the run goes on: the counts so far, the owner and the heartbeat."""
    beat = (now or datetime.now(UTC)).isoformat()
    return {**counts, RUN_KEY: {**owner.as_dict(), "heartbeat_at": beat}}


def heartbeat(store: Store, import_id: int, counts: dict[str, Any], owner: Owner) -> None:
    """Record that run ``import_id`` is alive (and its counts so far)."""
    with store.write() as conn:
        heartbeat_in(conn, import_id, counts, owner)


def heartbeat_in(conn: Connection, import_id: int, counts: dict[str, Any], owner: Owner) -> None:
    """:func:`heartbeat` inside the caller's transaction (the one that wrote the rows those counts count)."""
    i = schema.imports
    conn.execute(
        update(i)
        .where(i.c.id == import_id, i.c.status.in_(("running", "interrupted")))
        .values(status="running", error=None, stats=running_stats(counts, owner))
    )


def dead_reason(row: Any, now: datetime | None = None) -> str | None:
    """Why the ``running`` import ``row`` (a mapping with status, stats, started_at) no longer runs; None if it
    may still run (or is not ``running``)."""
    if row["status"] != "running":
        return None
    now = now or datetime.now(UTC)
    run = (row["stats"] or {}).get(RUN_KEY)
    if not isinstance(run, dict):
        started = _aware(row["started_at"])
        if started is not None and now - started > STALE_AFTER:
            return f"no sign of life since it started at {started.isoformat()}"
        return None
    owner = Owner(str(run.get("host")), int(run.get("pid") or 0), run.get("token"))
    if owner.host == socket.gethostname():
        if not alive(owner):
            return f"its process ({owner.pid} on {owner.host}) is gone"
        return None
    beat = _aware(_parse(run.get("heartbeat_at")))
    if beat is None or now - beat > STALE_AFTER:
        return f"no heartbeat from {owner.host} (process {owner.pid}) since {beat.isoformat() if beat else 'ever'}"
    return None


def shown(row: Any) -> tuple[str, str | None, dict[str, Any]]:
    """Status, error and counts of import ``row`` as a reader shows them (see the module docstring)."""
    stats = {k: v for k, v in (row["stats"] or {}).items() if k != RUN_KEY}
    reason = dead_reason(row)
    if reason is not None:
        return "interrupted", interrupted_message(reason), stats
    return str(row["status"]), row["error"], stats


def interrupted_message(reason: str) -> str:
    return f"interrupted: {reason}; {RESUME_HINT}"


def mark_interrupted(store: Store) -> list[int]:
    """Record every dead ``running`` import as ``interrupted``; their ids."""
    i = schema.imports
    with store.read() as conn:
        rows = conn.execute(select(i.c.id, i.c.status, i.c.stats, i.c.started_at).where(i.c.status == "running"))
        dead = [(int(r["id"]), reason) for r in rows.mappings() if (reason := dead_reason(r)) is not None]
    if dead:
        with store.write() as conn:
            for import_id, reason in dead:
                conn.execute(
                    update(i)
                    .where(i.c.id == import_id, i.c.status == "running")
                    .values(status="interrupted", error=interrupted_message(reason))
                )
    return [import_id for import_id, _ in dead]


def _parse(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
