"""Loading a stream of batches from any importer (or the demo generator) into the store.

Each batch is written in its own transaction, so an import that fails part-way keeps the batches already
committed and loses none of the data stored before it; running it again skips what is already there
(``(source, external_id)`` is unique), which makes an interrupted import resumable. The run keeps a heartbeat
(its process and the counts so far) so that readers can tell a killed run from a running one
(:mod:`whoknows.store.import_runs`); each import first records the dead runs it finds as ``interrupted``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection

from whoknows.errors import WhoknowsError
from whoknows.model import Batch, WriteStats
from whoknows.store import Store, import_runs

ProgressFn = Callable[[Batch, WriteStats], None]


@dataclass
class ImportResult:
    import_id: int
    kind: str
    source: str
    stats: WriteStats
    warnings: list[str] = field(default_factory=list)
    batches: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "import_id": self.import_id,
            "kind": self.kind,
            "source": self.source,
            "batches": self.batches,
            "counts": self.stats.counts,
            "warnings": self.warnings[:100],
            "warnings_total": len(self.warnings),
        }


def ingest(
    store: Store,
    kind: str,
    source: str,
    batches: Iterable[Batch],
    *,
    location: str | None = None,
    progress: ProgressFn | None = None,
) -> ImportResult:
    """Write every batch of ``batches`` and record the run in the ``imports`` table."""
    import_runs.mark_interrupted(store)
    owner = import_runs.this_process()
    import_id = store.begin_import(kind, source, location)
    writer = store.writer(import_id)
    result = ImportResult(import_id=import_id, kind=kind, source=source, stats=WriteStats())
    try:
        import_runs.heartbeat(store, import_id, {}, owner)
        for batch in batches:

            def record(conn: Connection, written: WriteStats) -> None:
                so_far = WriteStats()
                so_far.merge(result.stats)
                so_far.merge(written)
                import_runs.heartbeat_in(conn, import_id, so_far.counts, owner)

            stats = store.write_batch(writer, batch, record)
            result.stats.merge(stats)
            result.batches += 1
            if progress is not None:
                progress(batch, stats)
    except BaseException as exc:
        result.warnings = writer.warnings
        message = exc.message if isinstance(exc, WhoknowsError) else f"{type(exc).__name__}: {exc}"
        # The original error matters more than the bookkeeping.
        with contextlib.suppress(Exception):
            store.finish_import(import_id, result.stats, error=message or "interrupted")
        raise
    result.warnings = writer.warnings
    store.finish_import(import_id, result.stats)
    return result
