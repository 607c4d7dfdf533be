"""What the admin page shows: the import kinds and the settings that are safe to display."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from whoknows.settings import Settings

IMPORT_KINDS = (
    ("slack", "Slack export (zip or folder)"),
    ("slack-chats", "Slack chats (JSON)"),
    ("stackexchange", "Stack Exchange dump"),
    ("email", "E-mail (mbox)"),
    ("tickets", "Tickets (JSONL)"),
    ("crm", "CRM notes"),
)
#: Settings whose value is never shown, whatever it is.
_SECRET = re.compile(r"secret|token|password|passwd|key|credential", re.IGNORECASE)


def _display(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _without_credentials(url: str) -> str:
    """A database URL with any password replaced (``postgresql://user:***@host/db``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def settings_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """(name, environment variable, value) of every setting; secrets are left out, database passwords masked."""
    rows = []
    for name in type(settings).model_fields:
        if _SECRET.search(name):
            continue
        value = getattr(settings, name)
        shown = _without_credentials(value) if name == "db" and isinstance(value, str) else _display(value)
        rows.append((name, f"WHOKNOWS_{name.upper()}", shown))
    return rows
