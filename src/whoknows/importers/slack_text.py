"""Slack's message markup and timestamps, turned into plain text and UTC datetimes.

* ``<@U123>`` / ``<@U123|old name>`` become ``@handle`` (the person's display name, else user name); unknown
  ids stay ``@U123``.
* ``<#C123|general>`` becomes ``#general``; ``<!here>``, ``<!channel>``, ``<!everyone>`` become ``@here`` …;
  ``<!subteam^S1|@sales>`` becomes ``@sales``; ``<!date^…|fallback>`` becomes the fallback.
* ``<https://x|label>`` becomes ``label (https://x)``; ``<https://x>`` becomes ``https://x``;
  ``<mailto:a@b|a@b>`` becomes ``a@b``.
* ``&lt;``, ``&gt;`` and ``&amp;`` (the only entities Slack escapes) are unescaped last.

Timestamps (``"1512345678.000200"``) are seconds since the epoch; values before :data:`MIN_TS` or after
:data:`MAX_TS` are treated as corrupt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

MIN_TS = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
MAX_TS = datetime(2100, 1, 1, tzinfo=UTC).timestamp()

_MARKUP = re.compile(r"<([^<>\n]{1,2000})>")


def parse_ts(value: object) -> datetime | None:
    """A Slack ``ts`` as an aware UTC datetime, or None if it is missing, malformed or out of range."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not MIN_TS <= seconds < MAX_TS:  # also rejects NaN
        return None
    return datetime.fromtimestamp(seconds, UTC)


def rewrite_markup(text: str, handles: Mapping[str, str], channels: Mapping[str, str]) -> str:
    """Plain text for a Slack message (see the module docstring for the rules)."""
    if "<" in text:
        text = _MARKUP.sub(lambda m: _token(m.group(1), handles, channels), text)
    if "&" in text:
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text


def _token(inner: str, handles: Mapping[str, str], channels: Mapping[str, str]) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        uid = target[1:]
        return "@" + (handles.get(uid) or label.lstrip("@") or uid)
    if target.startswith("#"):
        cid = target[1:]
        return "#" + (channels.get(cid) or label.lstrip("#") or cid)
    if target.startswith("!"):
        special = target[1:]
        if special.startswith("subteam^"):
            return label if label.startswith("@") else "@" + (label or special[8:])
        if special.startswith("date^"):
            return label or special
        return "@" + special.split("^", 1)[0]
    if target.startswith("mailto:"):
        return label or target[7:]
    if label and label != target:
        return f"{label} ({target})"
    return target
