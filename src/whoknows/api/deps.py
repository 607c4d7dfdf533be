"""What every route needs: the application state (settings, store, warm memory index) and the caller.

Authentication (one place): ``Authorization: Bearer <API token>`` for integrations; otherwise the session cookie
set by ``POST /auth/login``, which on unsafe methods also needs the ``X-CSRF-Token`` header (the value login
returned, also readable from the ``whoknows_csrf`` cookie). A bearer header wins over a cookie.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi import Path as PathParam

from whoknows.access import Viewer
from whoknows.api.accounts import Principal, authenticate_token, csrf_matches, prepare_logins
from whoknows.api.errors import AuthInvalid, AuthRequired, CsrfFailed, Forbidden
from whoknows.api.imports import ImportJobs
from whoknows.api.throttle import LoginThrottle
from whoknows.background import SingleFlight
from whoknows.derive import derived_dir, expertise_path, rebuild_expertise
from whoknows.errors import WhoknowsError
from whoknows.memory.ask import MemorySearch
from whoknows.memory.memory_index import index_path
from whoknows.routing.learning import BackgroundLearner
from whoknows.settings import Settings
from whoknows.store import Store

SESSION_COOKIE = "whoknows_session"
CSRF_COOKIE = "whoknows_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
log = logging.getLogger("whoknows.serve")


@dataclass
class AppState:
    settings: Settings
    store: Store
    imports: ImportJobs = field(init=False)
    logins: LoginThrottle = field(init=False)
    learner: BackgroundLearner = field(init=False)
    _memory: tuple[int, MemorySearch] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _expertise_rebuild: SingleFlight = field(init=False)
    _derived: Path = field(init=False)

    def __post_init__(self) -> None:
        prepare_logins()
        self._derived = derived_dir(self.settings.data_dir, self.store)
        self.imports = ImportJobs(self.store, self.settings, self.data_dir)
        self.learner = BackgroundLearner(self.store, self.data_dir)
        self._expertise_rebuild = SingleFlight(
            "whoknows-expertise-rebuild", lambda: rebuild_expertise(self.store, self.data_dir), again=False
        )
        self.logins = LoginThrottle(
            self.store, self.settings.api_login_max_failures, self.settings.api_login_window_minutes * 60
        )

    @property
    def data_dir(self) -> Path:
        """This database's derived folder in the data dir (:func:`whoknows.derive.derived_dir`): what the routes
        pass to the core as its ``data_dir``. Each server process computes it from its own database."""
        return self._derived

    def rebuild_expertise_soon(self) -> bool:
        """Start rebuilding a missing or unreadable expertise model in the background (once at a time);
        False when a rebuild is already running."""
        return self._expertise_rebuild.kick()

    def memory(self) -> MemorySearch:
        """A warm handle on the memory index, reopened whenever the index was rewritten (import, answer, reindex)."""
        path = index_path(self.data_dir)
        try:
            version = (path / "manifest.json").stat().st_mtime_ns
        except OSError:
            version = -1
        with self._lock:
            if self._memory is None or self._memory[0] != version:
                self._memory = (version, MemorySearch(self.store, path))
            return self._memory[1]

    def warm_up(self) -> float | None:
        """Open the memory index and the expertise model and answer one question with each (the index's most
        common word), so that the first person to ask after a start does not wait for what is loaded on first use
        (segments, per-segment lookup tables, profile postings: about two seconds at 1M messages). Returns the
        seconds it took, or None when there was nothing to warm (no index or model yet: the first question
        reports that as usual)."""
        from whoknows.expertise import find_experts, open_model

        started = time.perf_counter()
        try:
            memory = self.memory()
            probe = memory.index.common_term()
            if probe is None:
                return None
            anyone = self.store.viewer(None)
            memory.ask(probe, anyone)
            model, _ = open_model(self.store, expertise_path(self.data_dir))
            find_experts(self.store, probe, anyone, model=model)
        except WhoknowsError as exc:
            log.info("warm-up skipped: %s", exc.message)
            return None
        took = time.perf_counter() - started
        log.info("warmed up in %.2f s", took)
        return took


# FastAPI runs a plain-function dependency in the thread pool, and the hop there and back costs more CPU than
# trivial work: app_state and the role check are coroutines. The token lookup (a database read) stays in the pool:
# run on the event loop it saved CPU (GET /auth/me at 20 clients: 2.7 -> 2.1 ms per request) but left the cores
# 15% idle under POST /ask (the loop waited for the interpreter lock held by a search, so requests queued
# unauthenticated while a worker thread idled): 109 -> 87 req/s.
async def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.whoknows
    return state


def current_principal(request: Request, state: Annotated[AppState, Depends(app_state)]) -> Principal:
    auth = request.headers.get("authorization")
    if auth is not None:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthInvalid("use 'Authorization: Bearer <token>'", code="auth.bad_header")
        return authenticate_token(state.store, token.strip(), kind="api")
    session = request.cookies.get(SESSION_COOKIE)
    if session is None:
        raise AuthRequired("log in (POST /api/v1/auth/login) or send an API token as 'Authorization: Bearer …'")
    principal = authenticate_token(state.store, session, kind="session")
    if request.method not in SAFE_METHODS and not csrf_matches(session, request.headers.get(CSRF_HEADER, "")):
        raise CsrfFailed(f"missing or wrong {CSRF_HEADER} header (the csrf_token returned by login)")
    return principal


def current_viewer(
    principal: Annotated[Principal, Depends(current_principal)], state: Annotated[AppState, Depends(app_state)]
) -> Viewer:
    """What the caller may read (:mod:`whoknows.access`): every core read of a route takes this."""
    return state.store.viewer(principal.person_id, principal.role)


def require(role: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the caller, who must have at least ``role``."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has_role(role):
            raise Forbidden(f"this needs the {role} role (you have {principal.role})")
        return principal

    return check


State = Annotated[AppState, Depends(app_state)]
Caller = Annotated[Principal, Depends(current_principal)]
Reader = Annotated[Viewer, Depends(current_viewer)]
Analyst = Annotated[Principal, Depends(require("analyst"))]
Admin = Annotated[Principal, Depends(require("admin"))]
#: A row id in a URL path: a positive 64-bit integer (larger ones cannot exist, and would overflow the database
#: driver: a 500 instead of a 404/422).
RowId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
