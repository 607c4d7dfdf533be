"""Imports uploaded through the API, run in a background thread (no FastAPI here).

:meth:`ImportJobs.start` validates the file with the importer first (a wrong file is refused at once), then runs
:func:`whoknows.ingest.ingest` and :func:`whoknows.derive.refresh_after_import` in a thread and returns the id of
the run in the ``imports`` table as soon as it exists. :meth:`ImportJobs.status` combines that row (status,
counts, error) with the live progress this process has seen (messages written, derivation stage).
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from whoknows.errors import NotFoundError, WhoknowsError
from whoknows.importers import reader_for
from whoknows.ingest import ingest
from whoknows.settings import Settings
from whoknows.store import Store, import_runs, schema

#: How long ``start`` waits for the import run to be recorded before giving up.
START_TIMEOUT_S = 30.0


class _Announcing(Store):
    """The same database as ``store``; tells the caller the import id as soon as ``ingest`` records the run."""

    def __init__(self, store: Store, announce: Any) -> None:
        super().__init__(store.engine, store.url)
        self._announce = announce

    def begin_import(self, kind: str, source: str, location: str | None = None) -> int:
        import_id = super().begin_import(kind, source, location)
        self._announce(import_id)
        return import_id


class ImportJobs:
    def __init__(self, store: Store, settings: Settings, data_dir: Path) -> None:
        """``data_dir``: the database's derived folder (:func:`whoknows.derive.derived_dir`)."""
        self.store = store
        self.settings = settings
        self.data_dir = data_dir
        self.progress: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, upload: Path, *, space_name: str | None = None) -> int:
        """Import ``upload`` (a file in a folder of its own, removed afterwards) as source ``kind``."""
        try:
            reader = reader_for(kind, upload, space_name=space_name, batch_size=self.settings.batch_size)
        except BaseException:
            shutil.rmtree(upload.parent, ignore_errors=True)
            raise
        ready = threading.Event()
        started: dict[str, Any] = {}

        def announce(import_id: int) -> None:
            with self._lock:
                self.progress[import_id] = {"stage": "importing", "messages": 0, "total_hint": reader.total_hint()}
            started["id"] = import_id
            ready.set()

        def count(import_id: int, n: int) -> None:
            with self._lock:
                self.progress[import_id]["messages"] += n

        def run() -> None:
            try:
                result = ingest(
                    _Announcing(self.store, announce),
                    reader.kind,
                    reader.source,
                    reader.batches(),
                    location=f"upload:{upload.name}",
                    progress=lambda batch, _stats: count(result_id(), len(batch.messages)),
                )
                self._stage(result.import_id, "indexing")
                from whoknows.derive import refresh_after_import

                derived = refresh_after_import(self.store, self.data_dir, result.import_id)
                warnings = [str(i) for i in reader.issues] + result.warnings
                self._stage(result.import_id, "done", derived=derived.as_dict(), warnings=warnings[:100])
            except BaseException as exc:  # recorded on the imports row by ingest, or here when deriving failed
                started.setdefault("error", exc)
                if "id" in started:
                    message = exc.message if isinstance(exc, WhoknowsError) else f"{type(exc).__name__}: {exc}"
                    self._stage(started["id"], "failed", error=message)
                ready.set()
            finally:
                shutil.rmtree(upload.parent, ignore_errors=True)

        def result_id() -> int:
            return int(started["id"])

        threading.Thread(target=run, name=f"whoknows-import-{upload.name}", daemon=True).start()
        if not ready.wait(START_TIMEOUT_S) or "id" not in started:
            error = started.get("error")
            if isinstance(error, WhoknowsError):
                raise error
            raise WhoknowsError("the import could not be started", code="import.not_started")
        return int(started["id"])

    def _stage(self, import_id: int, stage: str, **extra: Any) -> None:
        with self._lock:
            self.progress.setdefault(import_id, {}).update(stage=stage, **extra)

    def status(self, import_id: int) -> dict[str, Any]:
        """The ``imports`` row of ``import_id`` with this process's progress of it (if it ran here)."""
        i = schema.imports
        with self.store.read() as conn:
            row = conn.execute(select(i).where(i.c.id == import_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no import #{import_id}", code="import.not_found")
        with self._lock:
            live = dict(self.progress.get(import_id, {}))
        status, error, counts = import_runs.shown(row)  # a killed run shows as interrupted, not running
        return {
            "id": int(row["id"]),
            "kind": row["kind"],
            "source": row["source"],
            "location": row["location"],
            "status": status,
            "started_at": _iso(row["started_at"]),
            "finished_at": _iso(row["finished_at"]),
            "counts": counts,
            "error": error,
            "progress": live,
        }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
