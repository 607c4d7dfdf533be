"""One file lock for everything derived that several threads or processes may change at once (the server's
request threads, ``whoknows import``, ``reindex``, the worker): ``flock`` on a lock file, so it is released when
its holder dies, even by kill -9."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: one process only, no lock
    fcntl = None  # type: ignore[assignment]


@contextmanager
def file_lock(path: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold ``path`` (created if missing; its folder must exist) exclusively, or ``shared`` with other readers.
    Separate opens conflict even within one process, so threads are excluded too."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(path, "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
