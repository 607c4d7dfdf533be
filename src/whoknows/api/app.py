"""The FastAPI application: routers under ``/api/v1``, one error shape, request guards, OpenAPI spec."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from whoknows import __version__
from whoknows.api import routes_admin, routes_ask, routes_auth, routes_routing
from whoknows.api.deps import AppState
from whoknows.api.errors import install_error_handlers
from whoknows.api.guard import RequestGuard
from whoknows.settings import Settings
from whoknows.store import Store, open_store

PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """The API server over the database of ``settings`` (opened and migrated here unless ``store`` is given)."""
    settings = settings or Settings()
    store = store or open_store(settings)
    app = FastAPI(
        title="whoknows",
        version=__version__,
        description="Corporate memory, expert finding and routing. Errors: "
        '`{"error": {"code": "...", "message": "...", "details": {...}}}`.',
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN; the spec is enough
        redoc_url=None,
    )
    app.state.whoknows = AppState(settings, store)
    api = APIRouter(prefix=PREFIX)
    for module in (routes_auth, routes_ask, routes_routing, routes_admin):
        api.include_router(module.router)
    app.include_router(api)
    install_error_handlers(app)
    app.add_middleware(
        RequestGuard,
        max_body=settings.api_max_body_bytes,
        max_upload=settings.api_max_upload_bytes,
        upload_paths=frozenset({routes_admin.UPLOAD_PATH}),
    )
    return app


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the API server with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", proxy_headers=False)
