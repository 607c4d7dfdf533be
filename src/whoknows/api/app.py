"""The FastAPI application: routers under ``/api/v1``, one error shape, request guards, OpenAPI spec."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI

from whoknows import __version__
from whoknows.api import routes_admin, routes_ask, routes_auth, routes_routing
from whoknows.api.deps import AppState
from whoknows.api.errors import ERROR_RESPONSES, install_error_handlers
from whoknows.api.guard import RequestGuard
from whoknows.settings import Settings
from whoknows.store import Store, open_store

PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """The API server over the database of ``settings`` (opened and migrated here unless ``store`` is given)."""
    settings = settings or Settings()
    store = store or open_store(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Request handlers are synchronous and run on AnyIO's worker threads (40 by default).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="whoknows",
        version=__version__,
        description="Corporate memory, expert finding and routing. Errors: "
        '`{"error": {"code": "...", "message": "...", "details": {...}}}`.',
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN; the spec is enough
        redoc_url=None,
    )
    app.state.whoknows = AppState(settings, store)
    api = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES)
    for module in (routes_auth, routes_ask, routes_routing, routes_admin):
        api.include_router(module.router)
    app.include_router(api)
    install_error_handlers(app)
    from whoknows.web import install_web  # the browser UI: pages at /, assets at /static (after the API's handlers)

    install_web(app)
    app.add_middleware(
        RequestGuard,
        max_body=settings.api_max_body_bytes,
        max_upload=settings.api_max_upload_bytes,
        upload_paths=frozenset({routes_admin.UPLOAD_PATH}),
    )
    return app


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the server with uvicorn until interrupted. With ``workers`` > 1, that many processes share the port;
    each builds its app from the environment, so the database and data dir are handed over as
    ``WHOKNOWS_DB`` / ``WHOKNOWS_DATA_DIR``."""
    import os

    import uvicorn

    if workers <= 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info", proxy_headers=False)
        return
    os.environ["WHOKNOWS_DB"] = settings.database_url()
    os.environ["WHOKNOWS_DATA_DIR"] = str(settings.data_dir)
    uvicorn.run(
        "whoknows.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
    )
