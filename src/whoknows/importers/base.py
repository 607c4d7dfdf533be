"""What every importer implements. Importers turn an export into :class:`~whoknows.model.Batch` objects;
they never write SQL. :func:`whoknows.ingest.ingest` writes the batches.

An importer reports problems with the input as :class:`ImportIssue` (file, line/record, reason): a problem
that affects one record is a *warning* and the record is skipped or repaired; a problem that makes the whole
input unusable raises :class:`ImportError_` before anything is written.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoknows.errors import InputError
from whoknows.importers.json_bounds import DEFAULT_BOUNDS, JsonBounds, check_json_bounds
from whoknows.model import Batch

#: Problems listed per file (and in all); past them one issue says how the rest went unlisted, so that a file of
#: millions of bad records costs the memory of a thousand warnings.
MAX_ISSUES_PER_FILE = 1_000
MAX_ISSUES = 100_000


@dataclass(frozen=True, slots=True)
class ImportIssue:
    file: str
    where: str | None  # "line 12", "record 7", "row id=123" ...
    reason: str

    def __str__(self) -> str:
        return f"{self.file}{', ' + self.where if self.where else ''}: {self.reason}"


class ImportError_(InputError):
    """The input cannot be imported at all (e.g. not a Slack export, truncated zip)."""

    code = "import.invalid"


class SourceReader(ABC):
    """Reads one export. Subclasses set :attr:`kind` and register in :mod:`whoknows.importers`."""

    #: Short name used on the command line: ``whoknows import KIND PATH``.
    kind: str = ""
    #: One line for ``whoknows import --help``.
    description: str = ""

    def __init__(self, path: Path, *, space_name: str | None = None, batch_size: int = 5_000):
        self.path = path
        self.space_name = space_name
        self.batch_size = batch_size
        self.issues: list[ImportIssue] = []
        self._issues_per_file: dict[str, int] = {}

    @property
    @abstractmethod
    def source(self) -> str:
        """Stable key of the system the export comes from, e.g. ``slack:T024BE7LD``; known after validation."""

    @abstractmethod
    def validate(self) -> None:
        """Check that ``path`` is an export of this kind; raise :class:`ImportError_` if not."""

    @abstractmethod
    def batches(self) -> Iterator[Batch]:
        """The export as batches of at most about ``batch_size`` records, people and spaces before the threads
        and messages that refer to them."""

    def total_hint(self) -> int | None:
        """Roughly how many messages the export holds, for a progress bar; None if unknown."""
        return None

    def warn(self, file: str | Path, where: str | None, reason: str) -> None:
        name = str(file)
        seen = self._issues_per_file[name] = self._issues_per_file.get(name, 0) + 1
        if seen <= MAX_ISSUES_PER_FILE and len(self.issues) < MAX_ISSUES:
            self.issues.append(ImportIssue(name, where, reason))
        elif seen == MAX_ISSUES_PER_FILE + 1 and len(self.issues) < MAX_ISSUES + 1_000:
            rest = f"more than {MAX_ISSUES_PER_FILE:,} problems; the rest not listed"
            self.issues.append(ImportIssue(name, None, rest))


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def loads_json(data: bytes | str, bounds: JsonBounds = DEFAULT_BOUNDS) -> tuple[Any, int]:
    """``json.loads`` of input within ``bounds`` (else :class:`.json_bounds.JsonBoundError`, before parsing), with
    lone surrogates (``"\\ud800"`` escapes decode to strings no database can store) replaced by U+FFFD. Returns the
    value and how many were replaced; raises what ``json.loads`` raises."""
    check_json_bounds(data, bounds)
    value = json.loads(data)
    text = data if isinstance(data, str) else data.decode(json.detect_encoding(data), "replace")
    if not _SURROGATE_ESCAPE.search(text):
        return value, 0
    replaced = 0

    def fix(v: Any) -> Any:
        nonlocal replaced
        if isinstance(v, str):
            v, n = _LONE_SURROGATE.subn("\ufffd", v)
            replaced += n
            return v
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, dict):
            return {fix(k): fix(x) for k, x in v.items()}
        return v

    return fix(value), replaced
