"""Pagination of list responses: ``?limit=&cursor=`` in, ``{"items": [...], "next_cursor": ...}`` out.

The cursor is opaque to clients (a URL-safe encoding of the position); a cursor that does not decode is a 422.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel

from whoknows.errors import InputError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    kind, _, value = text.partition(":")
    if kind != "o" or not value.isdigit():
        raise InputError("cursor: not a cursor this API returned", code="request.bad_cursor")
    return int(value)


class PageParams:
    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, Query(max_length=100, description="next_cursor of the previous page.")] = None,
    ) -> None:
        self.limit = limit
        self.offset = decode_cursor(cursor)

    def page(self, items: Sequence[dict[str, Any]]) -> Page:
        end = self.offset + self.limit
        return Page(items=list(items[self.offset : end]), next_cursor=encode_cursor(end) if end < len(items) else None)
