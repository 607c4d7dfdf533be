"""Importers, one module per source format. Each registers a :class:`SourceReader` subclass here."""

from __future__ import annotations

from pathlib import Path

from whoknows.errors import InputError
from whoknows.importers.base import ImportError_, ImportIssue, SourceReader

#: kind -> "module:ClassName"; modules are imported lazily so that optional dependencies stay optional.
READERS: dict[str, str] = {}


def register(kind: str, target: str) -> None:
    READERS[kind] = target


register("slack", "whoknows.importers.slack_export:SlackExportReader")
register("slack-chats", "whoknows.importers.slack_chats:SlackChatsXmlReader")
register("stackexchange", "whoknows.importers.stackexchange:StackExchangeReader")
register("email", "whoknows.importers.email:EmailReader")
register("tickets", "whoknows.importers.tickets:TicketsReader")
register("crm", "whoknows.importers.crm:CrmNotesReader")


def reader_for(kind: str, path: Path, *, space_name: str | None = None, batch_size: int = 5_000) -> SourceReader:
    """The reader for ``kind``, validated against ``path``."""
    import importlib

    if kind not in READERS:
        known = ", ".join(sorted(READERS)) or "none"
        raise InputError(f"unknown source {kind!r}; known sources: {known}", code="import.unknown_source")
    if not path.exists():
        raise InputError(f"{path}: no such file or folder", code="import.missing_path")
    module_name, class_name = READERS[kind].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    reader: SourceReader = cls(path, space_name=space_name, batch_size=batch_size)
    reader.validate()
    return reader


__all__ = ["READERS", "ImportError_", "ImportIssue", "SourceReader", "reader_for", "register"]
