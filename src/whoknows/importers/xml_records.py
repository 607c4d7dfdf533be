"""Streaming records out of large XML exports (Stack Exchange dumps, the Slack chats corpus).

Files are decoded by their BOM or XML declaration, characters XML forbids are removed (with one warning per
file), and records are parsed with expat one by one, so memory does not grow with the file; every record
knows its line, for warnings that say where.
"""

from __future__ import annotations

import codecs
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any
from xml.parsers import expat

from whoknows.importers.base import ImportError_

#: Longest message text kept; longer texts are cut (with a warning and ``meta["truncated"]``).
MAX_TEXT = 1_000_000
#: Text collected per record at most (the rest is dropped and the record marked ``truncated``), so that memory
#: does not grow with one enormous element.
MAX_RECORD_TEXT = 2 * MAX_TEXT
CHUNK = 1 << 16
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
WarnFn = Callable[[str, "str | None", str], None]
# Characters XML 1.0 forbids, raw or as character references; removed before parsing (counted, one warning).
_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF])
_BAD_REF = re.compile(r"&#(?:x0*(?:[0-8bBcCeE]|1[0-9a-fA-F]|[fF]{4}[eEfF])|0*(?:[0-8]|1[1-2]|1[4-9]|2[0-9]|3[01]));")
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


@dataclass(slots=True)
class XmlRecord:
    """One child element of the document root: its attributes, its children's texts (tag -> text) and its
    own text (under the key ``""``)."""

    file: str
    tag: str
    line: int
    attrs: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)
    truncated: bool = False


class TimestampError(ValueError):
    pass


def parse_timestamp(raw: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime (naive values are UTC). Raises :class:`TimestampError`
    for unparseable values and for dates before 1990 or more than a year in the future."""
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise TimestampError(f"not a timestamp: {raw[:40]!r}") from None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not EARLIEST <= value <= datetime.now(UTC) + timedelta(days=366):
        raise TimestampError(f"timestamp out of range: {raw[:40]!r}")
    return value


def _decoded(stream: IO[bytes], name: str, warn: WarnFn) -> Iterator[str]:
    """The stream as text chunks: encoding from the BOM or declaration (default UTF-8), undecodable bytes
    replaced by U+FFFD and characters XML forbids removed, each with one warning per file."""
    head = stream.read(CHUNK)
    encoding = "utf-8"
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif m := _DECLARED.match(head):
        encoding = m.group(1).decode("ascii")
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    except LookupError:
        raise ImportError_(f"{name}: unknown encoding {encoding!r} in the XML declaration") from None
    replaced = removed = lines = 0
    first_bad: int | None = None
    carry = ""
    chunk = head
    while True:
        final = not chunk
        text = carry + decoder.decode(chunk, final=final)
        carry = ""
        if not final:  # never split a character reference between two chunks
            cut = text.rfind("&", max(0, len(text) - 12))
            if cut != -1 and ";" not in text[cut:]:
                text, carry = text[:cut], text[cut:]
        bad = text.count("\ufffd")
        if bad and first_bad is None:
            first_bad = lines + text.count("\n", 0, text.index("\ufffd")) + 1
        replaced += bad
        cleaned = _BAD_REF.sub("", text.translate(_CONTROL))
        removed += len(text) - len(cleaned)
        lines += text.count("\n")
        if cleaned:
            yield cleaned
        if final:
            break
        chunk = stream.read(CHUNK)
    if replaced:
        warn(name, f"line {first_bad}", f"{replaced} byte sequence(s) not valid {encoding} replaced by U+FFFD")
    if removed:
        warn(name, None, f"{removed} control character(s) that XML does not allow removed")


class _Collector:
    """Expat callbacks that turn each child of the root into an :class:`XmlRecord`."""

    def __init__(self, parser: Any, name: str):
        self.parser, self.name = parser, name
        self.depth = 0
        self.root: str | None = None
        self.done: list[XmlRecord] = []
        self.current: XmlRecord | None = None
        self.field: str | None = None
        self.text: list[str] = []
        self.own: list[str] = []
        self.kept = 0  # characters of text collected for the current record

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.depth == 0:
            self.root = tag
        elif self.depth == 1:
            self.current = XmlRecord(self.name, tag, self.parser.CurrentLineNumber, attrs)
            self.own, self.kept = [], 0
        elif self.depth == 2:
            self.field, self.text = tag, []
        self.depth += 1

    def end(self, tag: str) -> None:
        self.depth -= 1
        if self.depth == 2 and self.current is not None and self.field is not None:
            value = "".join(self.text)
            old = self.current.fields.get(self.field)
            self.current.fields[self.field] = value if not old else f"{old}\n{value}" if value else old
            self.field = None
        elif self.depth == 1 and self.current is not None:
            own = "".join(self.own).strip()
            if own:  # text directly inside the record, e.g. <team_domain>racket</team_domain>
                self.current.fields[""] = own
            self.done.append(self.current)
            self.current = None

    def data(self, text: str) -> None:
        if self.depth < 2 or self.current is None:
            return
        if self.kept + len(text) > MAX_RECORD_TEXT:
            self.current.truncated = True
            text = text[: max(0, MAX_RECORD_TEXT - self.kept)]
        self.kept += len(text)
        (self.text if self.depth >= 3 else self.own).append(text)


def read_xml_records(stream: IO[bytes], name: str, warn: WarnFn, *, root: str | None = None) -> Iterator[XmlRecord]:
    """Stream the children of the root element of an XML file as records, in file order, in bounded memory.

    A file that is not XML, has another root than ``root`` or ends before its root element raises
    :class:`ImportError_`. Invalid XML later on (a truncated or corrupted file) stops the reading with a
    warning naming the line; the records before it are kept.
    """
    parser = expat.ParserCreate()
    parser.buffer_text = True
    collector = _Collector(parser, name)
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.CharacterDataHandler = collector.data
    count = 0
    try:
        for text in itertools.chain(_decoded(stream, name, warn), [None]):
            parser.Parse(text or "", text is None)
            if collector.root is not None and root is not None and collector.root != root:
                raise ImportError_(f"{name}: root element is <{collector.root}>, expected <{root}>")
            yield from collector.done
            count += len(collector.done)
            collector.done.clear()
    except expat.ExpatError as exc:
        yield from collector.done
        count += len(collector.done)
        reason = expat.errors.messages[exc.code] if exc.code else str(exc)
        if collector.root is None:
            raise ImportError_(f"{name}, line {exc.lineno}: not a usable XML file ({reason})") from None
        if collector.depth == 0:
            warn(name, f"line {exc.lineno}", f"data after the end of the document ignored ({reason})")
        else:
            warn(
                name,
                f"line {exc.lineno}",
                f"invalid XML ({reason}); stopped reading this file, kept the {count} record(s) before it",
            )


def estimate_count(stream: IO[bytes], marker: bytes, size: int | None) -> int:
    """How often ``marker`` occurs: exact for files up to 64 MB, else extrapolated from their first 64 MB."""
    seen = found = 0
    tail = b""
    while seen < 64 * CHUNK * 16:
        chunk = stream.read(CHUNK * 16)
        if not chunk:
            return found
        found += (tail + chunk).count(marker)
        tail = chunk[-(len(marker) - 1) :]
        seen += len(chunk)
    return int(found * (size / seen)) if size else found
