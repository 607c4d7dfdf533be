"""CSV and JSON Lines files with documented columns, for the tickets and CRM importers.

* Format: ``.jsonl``/``.ndjson``/``.json`` are JSON Lines (one object per line), ``.tsv`` is tab-separated,
  anything else is CSV (delimiter sniffed among ``,;|\\t``); an unknown suffix whose first character is
  ``{`` is JSON Lines.
* Encoding: UTF-8 (a BOM is ignored); a file that is not valid UTF-8 is read as Windows-1252, with a warning.
* Column names are matched case-insensitively after replacing every run of non-alphanumerics by ``_``
  (``"Ticket ID"`` -> ``ticket_id``) against each column's documented aliases.
* A CSV file without a required column raises :class:`ImportError_` naming the column, the file and the
  accepted names; a record (CSV row or JSON line) without a required value is skipped with a warning naming
  the file and line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoknows.importers.base import ImportError_, loads_json
from whoknows.importers.json_bounds import JsonBoundError

WarnFn = Callable[[str, str | None, str], None]
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
#: Longest CSV field and JSON Lines record, in characters; a longer JSON line is skipped with a warning.
MAX_RECORD_CHARS = 64 << 20
csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_CHARS))


def normalize_column(name: str) -> str:
    return _NON_ALNUM.sub("_", name.strip().lower()).strip("_")


def map_keys(obj: Mapping[str, Any], columns: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """``obj`` re-keyed by canonical column names; the first matching alias (in documented order) wins."""
    normalized = {normalize_column(str(k)): v for k, v in obj.items()}
    out: dict[str, Any] = {}
    for canonical, aliases in columns.items():
        for alias in (canonical, *aliases):
            key = normalize_column(alias)
            if key in normalized and normalized[key] not in (None, ""):
                out[canonical] = normalized[key]
                break
    return out


@dataclass(slots=True)
class Record:
    where: str  # "line N"
    values: dict[str, Any]


class TableFile:
    """One CSV or JSONL file read as :class:`Record` objects keyed by canonical column names."""

    def __init__(self, path: Path, columns: Mapping[str, tuple[str, ...]], required: tuple[str, ...],
                 warn: WarnFn, *, record_required: tuple[str, ...] | None = None):  # fmt: skip
        self.path = path
        self.columns = columns
        self.required = required
        #: Values every record must have (default: ``required``); the rest are the caller's to check.
        self.record_required = required if record_required is None else record_required
        self.warn = warn
        self.encoding = "utf-8-sig"
        suffix = path.suffix.lower()
        self.format = "jsonl" if suffix in _JSONL_SUFFIXES else "csv"
        self._header: dict[str, int] = {}

    def validate(self) -> None:
        if not self.path.is_file():
            raise ImportError_(f"{self.path}: not a file", code="import.not_a_file")
        self._check_encoding()
        if self.format == "csv" and self.path.suffix.lower() not in (".csv", ".tsv", ".txt"):
            with self._open() as fh:
                if fh.read(64).lstrip().startswith("{"):
                    self.format = "jsonl"
        if self.format == "csv":
            self._read_header()

    def _open(self) -> io.TextIOWrapper:
        return open(self.path, encoding=self.encoding, errors="replace", newline="")

    def _check_encoding(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset = 0
        try:
            with open(self.path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk)
                    offset += len(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            self.encoding = "cp1252"
            self.warn(str(self.path), f"byte {offset + exc.start}", "not valid UTF-8; read as Windows-1252")
        except OSError as exc:
            raise ImportError_(f"{self.path}: cannot read: {exc.strerror or exc}", code="import.unreadable") from None

    def _dialect(self, sample: str) -> type[csv.Dialect] | csv.Dialect:
        if self.path.suffix.lower() == ".tsv":
            return csv.excel_tab
        try:
            return csv.Sniffer().sniff(sample.split("\n", 1)[0] or ",", delimiters=",;|\t")
        except csv.Error:
            return csv.excel

    def _read_header(self) -> None:
        with self._open() as fh:
            sample = fh.read(64 << 10)
            fh.seek(0)
            try:
                header = next(csv.reader(fh, self._dialect(sample)), None)
            except csv.Error as exc:
                raise ImportError_(f"{self.path}, line 1: cannot read the header: {exc}",
                                   code="import.bad_header") from None  # fmt: skip
        if not header:
            raise ImportError_(f"{self.path}: empty file (no header row)", code="import.empty")
        positions = {normalize_column(h): i for i, h in reversed(list(enumerate(header)))}
        for canonical, aliases in self.columns.items():
            for alias in (canonical, *aliases):
                if (key := normalize_column(alias)) in positions:
                    self._header[canonical] = positions[key]
                    break
        for name in self.required:
            if name not in self._header:
                accepted = ", ".join(repr(a) for a in (name, *self.columns[name]))
                raise ImportError_(
                    f"{self.path}: missing required column {name!r} (accepted names, any case: {accepted})",
                    code="import.missing_column",
                )

    def records(self) -> Iterator[Record]:
        rows = self._csv() if self.format == "csv" else self._jsonl()
        for record in rows:
            missing = [c for c in self.record_required if record.values.get(c) in (None, "")]
            if missing:
                self.warn(str(self.path), record.where, f"missing required value {missing[0]!r}; skipped")
                continue
            yield record

    def _csv(self) -> Iterator[Record]:
        with self._open() as fh:
            sample = fh.read(64 << 10)
            fh.seek(0)
            reader = csv.reader(fh, self._dialect(sample))
            start = 1
            try:
                next(reader, None)
            except csv.Error:
                return
            while True:
                start = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    self.warn(str(self.path), f"line {start}", f"malformed CSV row ({exc}); skipped")
                    continue
                if not any(cell.strip() for cell in row):
                    continue
                values = {c: row[i].strip() for c, i in self._header.items() if i < len(row) and row[i].strip()}
                yield Record(f"line {start}", values)

    def _jsonl(self) -> Iterator[Record]:
        with self._open() as fh:
            number = 0
            while line := fh.readline(MAX_RECORD_CHARS + 1):
                number += 1
                if len(line) > MAX_RECORD_CHARS:
                    while line and not line.endswith("\n"):  # the rest of the record, in bounded pieces
                        line = fh.readline(MAX_RECORD_CHARS)
                    self.warn(str(self.path), f"line {number}", f"longer than {MAX_RECORD_CHARS:,} characters; skipped")
                    continue
                if not line.strip():
                    continue
                try:
                    obj, replaced = loads_json(line)
                except JsonBoundError as exc:
                    self.warn(str(self.path), f"line {number}", f"{exc.message}; skipped")
                    continue
                except (ValueError, RecursionError) as exc:
                    self.warn(str(self.path), f"line {number}", f"invalid JSON ({exc}); skipped")
                    continue
                if replaced:
                    self.warn(str(self.path), f"line {number}", f"{replaced} lone surrogate escape(s) replaced")
                if not isinstance(obj, dict):
                    self.warn(str(self.path), f"line {number}", "not a JSON object; skipped")
                    continue
                yield Record(f"line {number}", map_keys(obj, self.columns))


def parse_datetime(value: object) -> datetime | None:
    """ISO 8601 (``Z`` allowed, date only allowed), ``YYYY/MM/DD``, ``DD.MM.YYYY`` (each with an optional
    ``HH:MM[:SS]``) or epoch seconds/milliseconds, as aware UTC; naive times are taken as UTC. None if
    unparseable or outside 1970–2099."""
    if isinstance(value, bool) or value is None:
        return None
    parsed: datetime | None = None
    if isinstance(value, int | float) or (isinstance(value, str) and re.fullmatch(r"\d{9,13}(\.\d+)?", value)):
        seconds = float(value)
        seconds = seconds / 1000 if seconds > 1e11 else seconds
        try:
            parsed = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            for fmt in ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M",
                        "%d.%m.%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y"):  # fmt: skip
                try:
                    parsed = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
    if parsed is None:
        return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed if 1970 <= parsed.year < 2100 else None


def parse_bool(value: object, default: bool = True) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return default
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "public", "t"):
        return True
    if text in ("0", "false", "no", "n", "private", "internal", "f"):
        return False
    return default
