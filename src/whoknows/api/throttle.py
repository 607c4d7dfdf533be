"""Login throttling: failed logins are counted per e-mail address and per client address in a sliding window.

Once a key has ``max_failures`` failures inside ``window`` seconds, further attempts for it get
``429 auth.rate_limited`` (with ``Retry-After``) without any password work, until the oldest failure leaves the
window. A correct password clears the e-mail's count. The counts live in the server process: a restart forgets
them (documented), which is acceptable for a single-process self-hosted server.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from whoknows.api.errors import ApiError


class RateLimited(ApiError):
    code = "auth.rate_limited"
    http_status = 429


class LoginThrottle:
    """Sliding-window failure counts; thread-safe (the API runs sync routes in a thread pool)."""

    #: A client address may fail this many times more often than one e-mail address (shared offices, NAT).
    ADDRESS_FACTOR = 4
    #: Keys kept at most; the oldest are forgotten first so a flood of random e-mails cannot exhaust memory.
    MAX_KEYS = 100_000

    def __init__(self, max_failures: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, email: str, address: str | None) -> list[tuple[str, int]]:
        keys = [(f"email:{email.strip().lower()}", self.max_failures)]
        if address:
            keys.append((f"addr:{address}", self.max_failures * self.ADDRESS_FACTOR))
        return keys

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def check(self, email: str, address: str | None) -> None:
        """Raise :class:`RateLimited` when this e-mail or address has used up its failures."""
        if self.max_failures <= 0:
            return
        now = self._clock()
        with self._lock:
            for key, limit in self._keys(email, address):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = max(1, math.ceil(times[len(times) - limit] + self.window - now))
                    raise RateLimited(
                        f"too many failed logins; try again in {wait} s",
                        details={"retry_after": wait, "limit": limit, "window_seconds": int(self.window)},
                    )

    def failed(self, email: str, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            for key, _limit in self._keys(email, address):
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)
            while len(self._failures) > self.MAX_KEYS:
                del self._failures[next(iter(self._failures))]

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(f"email:{email.strip().lower()}", None)
