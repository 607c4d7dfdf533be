"""Rendering: the Jinja2 environment (autoescape on), the static files, and one HTML response helper."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.staticfiles import StaticFiles

from whoknows import __version__

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


def asset(path: str) -> str:
    """The URL of a static file, versioned so a new release is not served from an old cache."""
    return f"/static/{path}?v={__version__}"


def short_date(value: Any) -> str:
    """``2026-05-20T14:47:06+00:00`` → ``20 May 2026`` (anything unparsable is shown as it is)."""
    if not value:
        return ""
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{when.day} {when:%b %Y}"


def safe_url(value: Any) -> str | None:
    """``value`` if it is an http(s) URL (a link from imported data must never be ``javascript:``), else None."""
    if not isinstance(value, str):
        return None
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def topic_label(topic: Any) -> str:
    """A profile topic's term is a stem (``boundari``): show its label (how the person's messages write it, a
    phrase where they share one), else the word of its evidence it comes from (``boundary``), as written there
    (``FedRAMP``); with a capital first letter."""
    term = str(topic.get("term", "")) if isinstance(topic, dict) else str(topic)
    written = str(topic.get("label") or "") if isinstance(topic, dict) else ""
    if written:
        return written[:1].upper() + written[1:]
    snippets = [str(ev.get("snippet", "")) for ev in topic.get("evidence", [])] if isinstance(topic, dict) else []
    label = term
    prefixes = [term, term[:-1]] if len(term) > 4 else [term]
    for prefix in prefixes:
        pattern = re.compile(rf"\b({re.escape(prefix)}\w*)", re.IGNORECASE)
        found = next((m.group(1) for m in map(pattern.search, snippets) if m), None)
        if found:
            label = found
            break
    return label[:1].upper() + label[1:]


def percent(value: Any) -> str:
    try:
        return f"{100 * float(value):.0f}%"
    except (TypeError, ValueError):
        return "—"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"], default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["asset"] = asset
    env.globals["version"] = __version__
    env.filters["short_date"] = short_date
    env.filters["percent"] = percent
    env.filters["safe_url"] = safe_url
    env.filters["topic_label"] = topic_label
    return env


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``template`` rendered with ``context`` (plus ``request`` and ``path``) as an HTML response."""
    html = environment().get_template(template).render(request=request, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code)
