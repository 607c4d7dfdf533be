"""How commands print: the consoles, JSON, tables, progress bars and the summaries several commands share."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

out = Console()
err = Console(stderr=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def done(data: dict[str, Any], json_out: bool, line: str) -> None:
    """Print ``data`` as JSON with --json, else the one-line summary ``line``."""
    if json_out:
        print_json(data)
    else:
        out.print(line, highlight=False)


def print_table(title: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """A titled table of ``columns`` from ``rows`` (nothing when there are no rows); integers right-aligned."""
    if not rows:
        return
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col, justify="right" if isinstance(rows[0].get(col), int) else "left")
    for row in rows:
        table.add_row(
            *(
                "" if row.get(c) is None else f"{row[c]:,}" if isinstance(row.get(c), int) else str(row[c])
                for c in columns
            )
        )
    out.print(table)


def _progress(enabled: bool) -> Progress:
    """Bars on stderr with description, bar, done/total and elapsed time; they stay on screen when done."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not enabled,
        transient=False,
    )


@contextmanager
def progress_bar(description: str, total: int | None, *, enabled: bool = True) -> Iterator[Any]:
    """A progress bar on stderr (hidden with --json or when stderr is not a terminal and ``enabled`` is off)."""
    progress = _progress(enabled)
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


@contextmanager
def stage_progress(*, enabled: bool = True) -> Iterator[Any]:
    """A progress bar for multi-stage work: the callback takes (stage, done, total)."""
    progress = _progress(enabled)
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int | None) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    with progress:
        yield update


def print_derived(data: dict[str, Any]) -> None:
    """The summary of what was derived (memory, index, expertise), as `demo`, `import` and `reindex` print it."""
    memory, index = data.get("memory", {}), data.get("index", {})
    expertise = data.get("expertise", {})
    if memory:
        out.print(
            f"  memory: {memory.get('questions', 0):,} questions, {memory.get('solved', 0):,} with a solution, "
            f"from {memory.get('threads', 0):,} threads"
        )
    if index:
        if "documents" in index:
            vec = "BM25 + vectors" if index.get("vectors") else "BM25"
            out.print(f"  index: {index['documents']:,} documents ({vec}) at {index['path']}")
        else:
            out.print(f"  index: {index.get('added', 0):,} documents added, {index.get('deleted', 0):,} removed")
    if expertise:
        out.print(
            f"  expertise: {expertise.get('people', 0):,} people, fitted on "
            f"{expertise.get('training_questions', 0):,} past questions at {expertise.get('path')}"
        )
