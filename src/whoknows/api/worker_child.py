"""``whoknows serve`` delivers out of the box: the routing worker (``whoknows worker``: notifications, expiry and
escalation, learning from outcomes) runs as a supervised child process of the server unless told not to.

The child gets the server's settings through ``WHOKNOWS_*`` environment variables (the server may have been given
them as arguments), is started again when it dies (after a pause that grows while it keeps dying), is asked by
Linux to stop when the server dies even by SIGKILL, and is stopped with the server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from whoknows.settings import Settings

#: Pause before starting a child that died, doubling while it keeps dying within a minute of its start.
RESTART_PAUSE = 1.0
MAX_PAUSE = 60.0


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as the ``WHOKNOWS_*`` variables that make another process build the same :class:`Settings`."""
    out: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, (list, dict)):
            out[f"WHOKNOWS_{name.upper()}"] = json.dumps(value)
        elif isinstance(value, bool):
            out[f"WHOKNOWS_{name.upper()}"] = "true" if value else "false"
        else:
            out[f"WHOKNOWS_{name.upper()}"] = str(value)
    out["WHOKNOWS_DB"] = settings.database_url()
    return out


def exit_with_parent(parent: int) -> None:
    """In the child: ask Linux for SIGTERM when the server dies (even by SIGKILL), and stop at once when it already
    has (a worker left behind would go on sending with old settings beside a new server's)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the server's own shutdown still stops its worker
        return
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


class WorkerChild:
    """The routing worker as a child process, kept running until :meth:`stop`."""

    def __init__(self, settings: Settings, *, interval: float = 5.0, log: Path | None = None) -> None:
        self.env = {**os.environ, **settings_env(settings)}
        self.interval = interval
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "whoknows", "worker", "--interval", str(self.interval)]
        cmd += ["--exit-with-parent", str(os.getpid())]
        out: Any = self.log.open("ab") if self.log is not None else None
        self.starts += 1
        return subprocess.Popen(cmd, env=self.env, stdout=out, stderr=out)

    def start(self) -> WorkerChild:
        self.proc = self._spawn()
        self._thread = threading.Thread(target=self._watch, name="whoknows-worker-watch", daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        pause = RESTART_PAUSE
        started = time.monotonic()
        while not self._stop.wait(0.5):
            proc = self.proc
            if proc is None or proc.poll() is None:
                continue
            pause = pause * 2 if time.monotonic() - started < 60 else RESTART_PAUSE
            pause = min(pause, MAX_PAUSE)
            sys.stderr.write(f"whoknows: the routing worker stopped (exit {proc.returncode}); restarting it\n")
            if self._stop.wait(pause):
                return
            started = time.monotonic()
            self.proc = self._spawn()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)  # the worker finishes its round and exits
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> WorkerChild:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
