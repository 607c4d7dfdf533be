"""One small demo organisation behind the web UI for the page and browser tests: accounts of every role, every
person working around the clock (so routing never depends on the time of day the tests run)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from webhelpers import ROLES, LiveServer, WebOrg

from whoknows.api.app import create_app
from whoknows.demo import DemoConfig, load_demo
from whoknows.derive import reindex
from whoknows.routing import set_prefs
from whoknows.settings import Settings
from whoknows.store import open_store, schema


@pytest.fixture(scope="session")
def web_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebOrg]:
    data = tmp_path_factory.mktemp("web")
    settings = Settings(data_dir=data, db=str(data / "whoknows.db"), api_max_upload_bytes=4 * 1024 * 1024)
    store = open_store(settings)
    load_demo(store, DemoConfig(messages=1500, people=60), truth_path=data / "truth.json")
    org = WebOrg(store, settings)
    reindex(store, org.derived)
    with store.read() as conn:
        ids = [int(i) for i in conn.execute(select(schema.people.c.id)).scalars()]
    for person_id in ids:
        set_prefs(store, person_id, work_start=0, work_end=24, work_days=[1, 2, 3, 4, 5, 6, 7])
    org.people = {"asker": 1, "analyst": 2, "admin": 3}  # three people of the Sales department
    for name, role in ROLES.items():
        org.account(org.people[name], role)
    try:
        yield org
    finally:
        store.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(web_org: WebOrg) -> Iterator[LiveServer]:
    """A real uvicorn server over ``web_org`` on a free loopback port, in a background thread."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(
        create_app(web_org.settings, store=web_org.store), host="127.0.0.1", port=port, log_level="warning",
        lifespan="off",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test server did not start"
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", web_org, artifacts)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
