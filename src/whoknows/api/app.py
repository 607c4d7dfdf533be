"""The FastAPI application: routers under ``/api/v1``, one error shape, request guards, OpenAPI spec."""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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
log = logging.getLogger("whoknows.serve")
#: A server process that exits this soon after starting counts as failing to start; after a few in a row the
#: supervisor gives up instead of restarting forever.
START_GRACE_S = 15.0
MAX_QUICK_FAILURES = 3


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """The API server over the database of ``settings`` (opened and migrated here unless ``store`` is given)."""
    settings = settings or Settings()
    store = store or open_store(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Request handlers are synchronous and run on AnyIO's worker threads (40 by default).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        # Requests are served meanwhile; the warm-up only takes the first question's loading off its asker.
        threading.Thread(target=_warm_up, args=(state,), name="whoknows-warm-up", daemon=True).start()
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
    app.state.whoknows = state = AppState(settings, store)
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


def _warm_up(state: AppState) -> None:
    try:
        state.warm_up()
    except Exception:  # never take the server down: the first question then loads what it needs itself
        log.exception("warm-up failed")


def serve(
    settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, routing_worker: bool = True
) -> None:
    """Run the server with uvicorn until interrupted.

    With ``workers`` > 1, that many processes serve the port, each with its own listening socket
    (``SO_REUSEPORT``): the kernel spreads new connections over them evenly. (With one shared socket, the
    process that wakes first accepts a whole burst of connections, and with keep-alive clients one process ends
    up with most of the work while the other idles.) A process holding more than its fair share of connections
    asks a client to reconnect (:mod:`whoknows.api.balance`), so keep-alive clients end up evenly spread. Each
    process builds its app from the environment, so the database and data dir are handed over as ``WHOKNOWS_DB``
    / ``WHOKNOWS_DATA_DIR`` (each then works in that database's own derived folder, ``AppState.data_dir``); a
    process that dies is started again; Ctrl-C or SIGTERM stops them all. ``routing_worker``: the routing worker
    runs beside them as a supervised child (:mod:`whoknows.api.worker_child`), so notifications go out, unanswered
    questions escalate and outcomes are learnt without a second command."""
    import os

    import uvicorn

    from whoknows.api.worker_child import WorkerChild

    child = WorkerChild(settings).start() if routing_worker else None
    try:
        if workers <= 1:
            uvicorn.run(create_app(settings), host=host, port=port, log_level="info", proxy_headers=False)
            return
        os.environ["WHOKNOWS_DB"] = settings.database_url()
        os.environ["WHOKNOWS_DATA_DIR"] = str(settings.data_dir)
        _listen_socket(host, port).close()  # fail here, once, if the port is taken
        _supervise(host, port, workers)
    finally:
        if child is not None:
            child.stop()


def _listen_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _serve_process(host: str, port: int, counts: Any, slot: int) -> None:
    """One server process: the app from the environment, its own listening socket, and its slot in the shared
    connection counts (:mod:`whoknows.api.balance`)."""
    import uvicorn

    from whoknows.api.balance import BalanceConnections, ConnectionShares

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor stops the processes with SIGTERM
    _exit_with_parent()
    shares = ConnectionShares(counts, slot)
    app = BalanceConnections(create_app(), shares)
    config = uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=False)
    server = uvicorn.Server(config)
    shares.connections = server.server_state.connections
    server.run(sockets=[_listen_socket(host, port)])


def _exit_with_parent() -> None:
    """Ask Linux for SIGTERM when the supervisor dies, even by SIGKILL: an orphaned server process would keep
    answering on the port (with the old code and settings) next to a new supervisor's processes."""
    import ctypes
    import ctypes.util
    import multiprocessing
    import os

    pr_set_pdeathsig = 1
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the supervisor's own shutdown still stops its processes
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # the supervisor died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _supervise(host: str, port: int, workers: int) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    counts = ctx.RawArray("i", workers)  # open connections per process, for fair shares (api/balance.py)
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    procs: list[Any] = []
    started: list[float] = []
    quick_failures = 0

    def start(i: int) -> None:
        counts[i] = 0  # a replaced process's connections died with it
        proc = ctx.Process(target=_serve_process, args=(host, port, counts, i), daemon=False)
        proc.start()
        if i < len(procs):
            procs[i], started[i] = proc, time.monotonic()
        else:
            procs.append(proc)
            started.append(time.monotonic())

    try:
        for i in range(workers):
            start(i)
        while not stopping:
            time.sleep(0.5)
            for i, proc in enumerate(procs):
                if proc.is_alive() or stopping:
                    continue
                quick_failures = quick_failures + 1 if time.monotonic() - started[i] < START_GRACE_S else 0
                if quick_failures >= MAX_QUICK_FAILURES:
                    raise SystemExit("the server processes keep exiting right after they start (see the log above)")
                log.warning("server process %s exited with %s; starting another", proc.pid, proc.exitcode)
                start(i)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
