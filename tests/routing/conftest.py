"""Routing fixtures: a small demo organisation (built once, copied per test), a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from routing_fixtures import Mailbox, Org, free_port

from whoknows.settings import Settings
from whoknows.store import open_store


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from whoknows.demo import DemoConfig, load_demo
    from whoknows.derive import reindex

    d = tmp_path_factory.mktemp("routing-demo")
    store = open_store(d / "w.db")
    load_demo(store, DemoConfig(messages=3000, people=60), truth_path=d / "truth.json")
    reindex(store, d)
    store.close()
    return d


@pytest.fixture
def org(demo_dir: Path, tmp_path: Path) -> Iterator[Org]:
    data = tmp_path / "data"
    shutil.copytree(demo_dir, data)
    # the loop's mechanics with k experts asked (the floor that may ask fewer is tested on the policy itself)
    settings = Settings(
        db=str(data / "w.db"), data_dir=data, smtp_host="127.0.0.1", smtp_port=free_port(), routing_floor=0.0
    )
    store = open_store(settings)
    try:
        yield Org(store, data, settings)
    finally:
        store.close()


@pytest.fixture
def smtp_server(org: Org) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on the port the org's settings point at."""
    from aiosmtpd.controller import Controller

    box = Mailbox(org.settings.smtp_port)
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
