"""Login throttling: attempts are counted per account and per client address in a sliding window, in the database.

The key of an attempt is the account its identifier resolves to (:func:`whoknows.api.accounts.resolve_login`:
every spelling of an e-mail address or handle is the same account), or the normalised identifier when it names
no account, so probing unknown names is throttled too. An attempt is counted *before* its password is checked
(:meth:`LoginThrottle.reserve`, atomic with the count); once a key has ``max_failures`` attempts inside
``window`` seconds (a client address: 4×), further attempts get ``429 auth.rate_limited`` (with ``Retry-After``)
without any password work, even with the right password, until the oldest leaves the window. A correct password
clears the account's count. The counts live in the ``login_failures`` table, so they hold across every server
process (``--workers N``) and restarts; see :mod:`whoknows.store.login_failures`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from whoknows.api.errors import ApiError
from whoknows.store import Store, login_failures


class RateLimited(ApiError):
    code = "auth.rate_limited"
    http_status = 429


@dataclass(frozen=True)
class Attempt:
    """A login attempt counted against its keys (the rows that count it)."""

    key: str
    rows: tuple[int, ...]


class LoginThrottle:
    """Failure counts shared by every server process (through the store)."""

    #: A client address may fail this many times more often than one account (shared offices, NAT).
    ADDRESS_FACTOR = 4
    #: Rows kept at most for unknown identifiers and addresses, so a flood of random names cannot fill the disk.
    MAX_ROWS = 100_000

    def __init__(
        self,
        store: Store,
        max_failures: int,
        window: float,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_rows: int = MAX_ROWS,
    ) -> None:
        self.store = store
        self.max_failures = max_failures
        self.window = window
        self.max_rows = max_rows
        self._clock = clock

    def reserve(self, key: str, address: str | None) -> Attempt | None:
        """Count an attempt for ``key`` (from :class:`~whoknows.api.accounts.LoginSubject`) from ``address``
        before its password is checked; :class:`RateLimited` when either has used up its attempts. ``None``
        when throttling is off."""
        if self.max_failures <= 0:
            return None
        limits = [(key, self.max_failures)]
        if address:
            limits.append((_address_key(address), self.max_failures * self.ADDRESS_FACTOR))
        got = login_failures.reserve(
            self.store, limits, now=self._clock(), window=timedelta(seconds=self.window), max_rows=self.max_rows
        )
        if isinstance(got, login_failures.Blocked):
            wait = max(1, math.ceil(got.retry_after))
            raise RateLimited(
                f"too many failed logins; try again in {wait} s",
                details={"retry_after": wait, "limit": got.limit, "window_seconds": int(self.window)},
            )
        return Attempt(key, tuple(got))

    def succeeded(self, attempt: Attempt | None) -> None:
        """The password was right: the attempt does not count, and the account's earlier failures are cleared."""
        if attempt is not None:
            login_failures.clear(self.store, attempt.key, attempt.rows)


def _address_key(address: str) -> str:
    key = f"addr:{address}"
    return key if len(key) <= 100 else "addr:" + hashlib.sha256(address.encode()).hexdigest()
