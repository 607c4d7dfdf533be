"""Work the server does off the request path, one run at a time (no FastAPI here)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("whoknows")


class SingleFlight:
    """Runs ``work`` in a background thread, never two at once. :meth:`kick` while a run is going either asks for
    one more run after it (``again=True``: a burst of kicks costs a run or two, and the last kick's state is seen)
    or is ignored (``again=False``). A failing run is logged and kept in :attr:`last_error`."""

    def __init__(self, name: str, work: Callable[[], object], *, again: bool) -> None:
        self.name, self.work, self.again = name, work, again
        self._lock = threading.Lock()
        self._running = False
        self._pending = False
        self.last_error: str | None = None

    def kick(self) -> bool:
        """Start a run; False when one is already going (then, with ``again``, it runs once more afterwards)."""
        with self._lock:
            if self._running:
                self._pending = self.again
                return False
            self._running = True
        threading.Thread(target=self._run, name=self.name, daemon=True).start()
        return True

    def _run(self) -> None:
        while True:
            try:
                self.work()
                self.last_error = None
            except Exception as exc:
                log.exception("%s failed", self.name)
                self.last_error = f"{type(exc).__name__}: {exc}"
            with self._lock:
                if not self._pending:
                    self._running = False
                    return
                self._pending = False

    def wait(self, timeout: float = 60.0) -> bool:
        """Until no run is going or due (tests); True when idle."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running:
                    return True
            time.sleep(0.02)
        return False
