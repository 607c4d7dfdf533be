"""Bounds on the JSON an importer parses, checked on the raw bytes *before* ``json.loads`` builds anything.

``json.loads`` turns a few bytes into much more memory (``[{},{},…]`` costs about 25 bytes of objects per input
byte), recurses once per nesting level and spends CPU on padding. :func:`check_json_bounds` therefore scans the
bytes first, in slices of :data:`SLICE` bytes with numpy (memory stays a few times :data:`SLICE`, whatever the
input), and refuses:

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
from numpy.typing import NDArray

from whoknows.errors import InputError

MAX_JSON_DEPTH = 64
MAX_JSON_VALUES = 4_000_000
MAX_WHITESPACE_SHARE = 0.9
WHITESPACE_MIN_BYTES = 1 << 20
SLICE = 1 << 20

_QUOTE, _BACKSLASH, _COMMA, _COLON = 34, 92, 44, 58
_OPEN = (91, 123)  # [ {
_CLOSE = (93, 125)  # ] }


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
    run = 0  # backslashes ending the previous slice
    depth = values = 0
    for start in range(0, size, SLICE):
        arr = np.frombuffer(data, np.uint8, min(SLICE, size - start), start)
        quotes = _unescaped_quotes(arr, run)
        backslash = arr == _BACKSLASH
        tail = arr.size - 1 - int(np.flatnonzero(~backslash)[-1]) if not backslash.all() else arr.size + run
        run = tail
        # After position i: inside a string iff an odd number of real quotes so far (a quote itself is "inside").
        parity = (np.cumsum(quotes, dtype=np.int32) + int(inside)) & 1
        outside = parity == 0
        inside = bool(parity[-1]) if parity.size else inside
        opens = ((arr == _OPEN[0]) | (arr == _OPEN[1])) & outside
        closes = ((arr == _CLOSE[0]) | (arr == _CLOSE[1])) & outside
        levels = depth + np.cumsum(opens.astype(np.int32) - closes.astype(np.int32), dtype=np.int32)
        if levels.size:
            deepest = int(levels.max())
            if deepest > bounds.max_depth:
                raise JsonBoundError(
                    f"nested {deepest:,}+ levels deep at byte {start + int(np.argmax(levels > bounds.max_depth)):,} "
                    f"(the limit is {bounds.max_depth})"
                )
            depth = int(levels[-1])
        values += int(np.count_nonzero(opens)) + int(np.count_nonzero((arr == _COMMA) & outside))
        if values > bounds.max_values:
            raise JsonBoundError(f"holds more than {bounds.max_values:,} JSON values (the limit per file)")


def _count(text: bytes | str, chars: str) -> int:
    if isinstance(text, bytes):
        return sum(text.count(c.encode()) for c in chars)
    return sum(text.count(c) for c in chars)


def _unescaped_quotes(arr: NDArray[np.uint8], carried: int) -> NDArray[np.bool_]:
    """Where ``arr`` has a ``"`` not escaped by an odd run of backslashes (``carried`` of them end the slice
    before)."""
    quote_at = np.flatnonzero(arr == _QUOTE)
    out = np.zeros(arr.size, dtype=bool)
    if not quote_at.size:
        return out
    not_backslash = np.flatnonzero(arr != _BACKSLASH)
    # For each quote: the last position before it that is not a backslash (-1: none in this slice).
    k = np.searchsorted(not_backslash, quote_at) - 1
    last = np.where(k >= 0, not_backslash[np.maximum(k, 0)], -1)
    runs = quote_at - 1 - last + np.where(last < 0, carried, 0)
    out[quote_at[runs % 2 == 0]] = True
    return out
