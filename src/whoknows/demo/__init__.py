"""The demo organisation: a seeded synthetic sales organisation with planted ground truth."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from whoknows.demo.catalog import COMPANY, DEPARTMENTS, TOPICS
from whoknows.demo.generate import DemoConfig, DemoGenerator
from whoknows.errors import InputError
from whoknows.ingest import ingest
from whoknows.model import Batch, WriteStats
from whoknows.store import Store
from whoknows.store.engine import sqlite_path

__all__ = ["DemoConfig", "DemoGenerator", "DemoResult", "load_demo", "truth_path_for"]


@dataclass
class DemoResult:
    org_name: str
    people: int
    departments: list[str]
    spaces: int
    threads: int
    messages: int
    topics: int
    truth_path: Path
    stats: WriteStats

    def as_dict(self) -> dict[str, object]:
        return {
            "org": self.org_name,
            "people": self.people,
            "departments": self.departments,
            "spaces": self.spaces,
            "threads": self.threads,
            "messages": self.messages,
            "topics": self.topics,
            "truth_path": str(self.truth_path),
            "counts": self.stats.counts,
        }


def truth_path_for(store: Store, data_dir: Path, seed: int) -> Path:
    """Default place of the ground truth: next to a SQLite database, else in the data dir."""
    path = sqlite_path(store.url) if store.backend == "sqlite" else None
    if path is not None:
        return path.with_name(path.name + f".demo-truth-{seed}.json")
    return data_dir / f"demo-truth-{seed}.json"


def load_demo(
    store: Store,
    config: DemoConfig,
    *,
    truth_path: Path | None = None,
    data_dir: Path | None = None,
    batch_size: int = 5_000,
    progress: Callable[[Batch, WriteStats], None] | None = None,
) -> DemoResult:
    """Generate the demo organisation for ``config`` and load it; write the ground truth as JSON.

    Loading the same configuration twice is idempotent (the second run skips every row). A database that
    already holds a demo organisation with another seed is refused, so two demos never mix.
    """
    from sqlalchemy import select

    from whoknows.settings import Settings
    from whoknows.store import schema

    generator = DemoGenerator(config)
    with store.read() as conn:
        other = conn.execute(
            select(schema.imports.c.source)
            .where(schema.imports.c.kind == "demo", schema.imports.c.source != generator.source)
            .limit(1)
        ).scalar()
    if other:
        raise InputError(
            f"the database already holds the demo organisation {other!r}; use another --db "
            f"(or the same --seed) to load seed {config.seed}",
            code="demo.other_seed",
        )
    truth_file = truth_path or truth_path_for(store, data_dir or Settings().data_dir, config.seed)
    threads = messages = 0

    def counting(batch: Batch, stats: WriteStats) -> None:
        nonlocal threads, messages
        threads += len(batch.threads)
        messages += len(batch.messages)
        if progress is not None:
            progress(batch, stats)

    result = ingest(
        store,
        "demo",
        generator.source,
        generator.batches(batch_size),
        location=f"generated: {config.messages} messages, seed {config.seed}",
        progress=counting,
    )
    truth_file.parent.mkdir(parents=True, exist_ok=True)
    generator.truth["config"] = {
        "messages": config.messages,
        "people": config.n_people,
        "seed": config.seed,
        "months": config.months,
    }
    truth_file.write_text(json.dumps(generator.truth, separators=(",", ":")))
    return DemoResult(
        org_name=COMPANY,
        people=len(generator.people),
        departments=[d.name for d in DEPARTMENTS],
        spaces=len(generator.spaces),
        threads=threads,
        messages=messages,
        topics=len(TOPICS),
        truth_path=truth_file,
        stats=result.stats,
    )
