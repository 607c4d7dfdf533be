"""``whoknows serve`` delivers out of the box: the routing worker runs as its supervised child."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from routing_fixtures import Mailbox, Org

from whoknows.api.worker_child import WorkerChild, settings_env
from whoknows.routing.outbox import enqueue
from whoknows.settings import Settings


def _queue(org: Org, n: int, start: int = 0) -> None:
    now = datetime.now(UTC)
    with org.store.write() as conn:
        for i in range(start, start + n):
            payload = {"to": {"email": f"p{i}@example.com"}, "question": f"q{i}", "assignment_id": i}
            enqueue(conn, key=f"serve:{i}", person_id=1, channel="email", kind="request", payload=payload, at=now)


def test_the_child_gets_the_servers_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings given to the server as arguments reach the worker through its environment, unchanged."""
    s = Settings(db="/tmp/x.db", smtp_port=2525, analytics_individual_roles=["Head of Sales"], api_cookie_secure=True)
    env = settings_env(s)
    assert env["WHOKNOWS_SMTP_PORT"] == "2525" and env["WHOKNOWS_API_COOKIE_SECURE"] == "true"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    again = Settings()
    assert again.model_dump(exclude={"db"}) == s.model_dump(exclude={"db"})
    assert again.database_url() == s.database_url()


def test_notifications_go_out_and_a_dead_worker_is_restarted(org: Org, smtp_server: Mailbox) -> None:
    _queue(org, 2)
    child = WorkerChild(org.settings, interval=0.2).start()
    try:
        smtp_server.wait(2, timeout=30)
        first = child.proc
        assert first is not None
        first.kill()  # the worker dies: the server starts another one
        deadline = time.monotonic() + 30
        while (child.proc is first or child.proc is None) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert child.proc is not first and child.starts == 2
        _queue(org, 1, start=2)
        smtp_server.wait(3, timeout=30)
    finally:
        child.stop()
    assert child.proc is not None and child.proc.poll() is not None  # stopped with the server


def test_delivery_channels_are_only_the_configured_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().delivery_channels() == []  # localhost:25 is only a guess: the app's inbox only
    assert Settings(smtp_host="mail.example.com").delivery_channels() == ["email"]
    assert Settings(slack_token="xoxb-1").delivery_channels() == ["slack"]
    monkeypatch.setenv("WHOKNOWS_SMTP_PORT", "2525")
    assert Settings().delivery_channels() == ["email"]
