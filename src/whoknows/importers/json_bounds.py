"""Bounds on the JSON an importer parses, checked on the raw bytes *before* ``json.loads`` builds anything.

``json.loads`` turns a few bytes into much more memory (``[{},{},…]`` costs about 25 bytes of objects per input
byte), recurses once per nesting level and spends CPU on padding. :func:`check_json_bounds` therefore scans the
bytes first, in slices of :data:`SLICE` bytes with numpy (memory stays a few times :data:`SLICE`, whatever the
input; escapes are removed from each slice first, so that every remaining quote opens or closes a string), and
refuses:

* nesting deeper than :data:`MAX_JSON_DEPTH` levels (arrays and objects, outside strings);
* more than :data:`MAX_JSON_VALUES` values (separators and containers outside strings): with the per-member size
  cap of :class:`.export_archive.ExportArchive` this bounds the objects one file can become;
* an input above :data:`WHITESPACE_MIN_BYTES` that is more than :data:`MAX_WHITESPACE_SHARE` whitespace
  (padding; real exports, even pretty-printed, stay far below).

The limits are far above real exports (a Slack day file or ``users.json`` of tens of MB holds well under a
million values and nests about ten levels deep).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from whoknows.errors import InputError

MAX_JSON_DEPTH = 64
MAX_JSON_VALUES = 4_000_000
MAX_WHITESPACE_SHARE = 0.9
WHITESPACE_MIN_BYTES = 1 << 20
SLICE = 1 << 20

_BACKSLASH = 92
_Q, _O, _C, _SEP = 1, 2, 3, 4  # classes: quote, [ or {, ] or }, comma
_CLASS = np.zeros(256, dtype=np.uint8)
_CLASS[[34, 91, 123, 93, 125, 44]] = [_Q, _O, _O, _C, _C, _SEP]


class JsonBoundError(InputError):
    """JSON past one of the bounds; the message names the bound (the caller adds the file or member)."""

    code = "import.json_bound"


@dataclass(frozen=True, slots=True)
class JsonBounds:
    max_depth: int = MAX_JSON_DEPTH
    max_values: int = MAX_JSON_VALUES
    max_whitespace_share: float = MAX_WHITESPACE_SHARE
    whitespace_min_bytes: int = WHITESPACE_MIN_BYTES


DEFAULT_BOUNDS = JsonBounds()


def check_json_bounds(text: bytes | str, bounds: JsonBounds = DEFAULT_BOUNDS) -> None:
    """Raise :class:`JsonBoundError` if ``text`` is past ``bounds`` (see the module docstring)."""
    size = len(text)
    if size > bounds.whitespace_min_bytes:
        blank = _count(text, " \n\r\t")
        if blank > bounds.max_whitespace_share * size:
            raise JsonBoundError(
                f"{blank:,} of its {size:,} bytes are whitespace (more than {bounds.max_whitespace_share:.0%}); "
                "refusing padding"
            )
    if _count(text, "[{") <= bounds.max_depth and size <= bounds.max_values:
        return  # cannot be past either bound: no need to scan (most JSON Lines records)
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    size = len(data)
    inside = False  # within a string at the end of the previous slice
    depth = values = start = 0
    while start < size:
        end = min(start + SLICE, size)
        while end < size and data[end - 1] == _BACKSLASH:  # never split an escape between two slices
            end += 1
        # Without escaped backslashes and quotes (left to right, as JSON reads them) every '"' opens or closes.
        piece = data[start:end].replace(b"\\\\", b"").replace(b'\\"', b"")
        codes = _CLASS[np.frombuffer(piece, np.uint8)]
        marks = codes[np.flatnonzero(codes)]  # the quotes, brackets and commas, in order
        quote = marks == _Q
        parity = (np.cumsum(quote, dtype=np.int32) + int(inside)) & 1  # 1 while inside a string
        if parity.size:
            inside = bool(parity[-1])
        outside = (parity == 0) & ~quote
        step = np.where(outside & (marks == _O), 1, 0) - np.where(outside & (marks == _C), 1, 0)
        levels = depth + np.cumsum(step, dtype=np.int32)
        if levels.size:
            deepest = int(levels.max())
            if deepest > bounds.max_depth:
                raise JsonBoundError(
                    f"nested more than {bounds.max_depth} levels deep near byte {start:,} "
                    f"(the limit is {bounds.max_depth})"
                )
            depth = int(levels[-1])
        values += int(np.count_nonzero(outside & (marks != _C)))  # containers and separators
        if values > bounds.max_values:
            raise JsonBoundError(f"holds more than {bounds.max_values:,} JSON values (the limit per file)")
        start = end


def _count(text: bytes | str, chars: str) -> int:
    if isinstance(text, bytes):
        return sum(text.count(c.encode()) for c in chars)
    return sum(text.count(c) for c in chars)
