"""The browser UI: server-rendered pages (Jinja2, autoescaped) and the product's own static files.

A thin adapter like the API: a page authenticates the session cookie, calls the core as the signed-in person and
renders the result; the page scripts (``static/js``) call the JSON API under ``/api/v1`` for everything that
changes data. No third-party assets, no inline scripts or styles (the page CSP allows only this origin's files).
:func:`install_web` mounts it all on the FastAPI app.
"""

from __future__ import annotations

from fastapi import FastAPI

from whoknows.web.pages import router
from whoknows.web.render import STATIC_DIR, static_files
from whoknows.web.session import install_page_errors

__all__ = ["STATIC_DIR", "install_web", "router", "static_files"]


def install_web(app: FastAPI) -> None:
    """Add the pages, ``/static`` and HTML error pages (for paths outside ``/api``) to ``app``."""
    app.include_router(router)
    app.mount("/static", static_files(), name="static")
    install_page_errors(app)
