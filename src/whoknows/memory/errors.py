"""Errors of the corporate memory (extraction, storage of derived Q&A pairs)."""

from __future__ import annotations

from whoknows.errors import WhoknowsError


class ExtractionError(WhoknowsError):
    code = "memory.error"
