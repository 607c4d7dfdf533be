"""Delivery: SMTP down (retries with backoff, nothing lost, no duplicates), webhook timeouts, signed webhooks,
daily digests, storage and erasure on every backend."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from routing_fixtures import Mailbox, Org
from sqlalchemy import delete, insert, select

from whoknows.routing import ask_or_route, run_once, set_prefs
from whoknows.routing.channels.base import Note
from whoknows.routing.channels.webhook import WebhookChannel, verify
from whoknows.routing.errors import ChannelError, SignatureError
from whoknows.routing.outbox import backoff, counts, enqueue
from whoknows.store import Store, schema

QUESTION = "can we sign a BAA for HIPAA?"
NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def test_smtp_down_then_up(org: Org) -> None:
    from aiosmtpd.controller import Controller

    r = ask_or_route(
        org.store, org.data_dir, QUESTION, 5, route="always", k=2, settings=org.settings, now=NOW, urgency="now"
    )
    down = run_once(org.store, org.settings, org.data_dir, now=NOW, learn=False)
    assert down.sent == 0 and down.retried == 2 and "SMTP" in down.errors[0]
    assert counts(org.store)["pending"] == 2
    again = run_once(org.store, org.settings, org.data_dir, now=NOW + timedelta(seconds=1), learn=False)
    assert again.sent == 0 and again.retried == 0  # backoff: not due yet
    box = Mailbox(org.settings.smtp_port)
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        later = NOW + backoff(1) + timedelta(seconds=1)
        up = run_once(org.store, org.settings, org.data_dir, now=later, learn=False)
        assert up.sent == 2
        assert run_once(org.store, org.settings, org.data_dir, now=later + timedelta(hours=1), learn=False).sent == 0
        assert len(box.wait(2)) == 2
        assert len({m["Message-ID"] for m in box.messages}) == 2
    finally:
        controller.stop()
    assert counts(org.store) == {"sent": 2}
    assert len(r.asked) == 2


def test_gives_up_after_max_attempts(org: Org) -> None:
    s = org.settings.model_copy(update={"routing_max_attempts": 2})
    ask_or_route(org.store, org.data_dir, QUESTION, 5, route="always", k=1, settings=s, now=NOW)
    run_once(org.store, s, org.data_dir, now=NOW, learn=False)
    last = run_once(org.store, s, org.data_dir, now=NOW + timedelta(hours=2), learn=False)
    assert last.failed == 1
    with org.store.read() as conn:
        err = conn.execute(select(schema.notification_outbox.c.last_error)).scalar()
    assert err and "SMTP" in err


def test_idempotency_key(org: Org) -> None:
    with org.store.write() as conn:
        assert enqueue(conn, key="k1", person_id=1, channel="email", kind="request", payload={}, at=NOW)
        assert not enqueue(conn, key="k1", person_id=1, channel="email", kind="request", payload={}, at=NOW)


def test_daily_digest_batches(org: Org, smtp_server: Mailbox) -> None:
    first = ask_or_route(org.store, org.data_dir, QUESTION, 5, route="always", k=1, settings=org.settings, now=NOW)
    expert = first.asked[0]["person_id"]
    set_prefs(org.store, expert, digest="daily")
    ask_or_route(
        org.store, org.data_dir, "BAA for HIPAA: who signs it?", 6, route="always", k=3, settings=org.settings, now=NOW
    )
    ask_or_route(
        org.store, org.data_dir, "HIPAA BAA signature process", 8, route="always", k=3, settings=org.settings, now=NOW
    )
    assert counts(org.store).get("held", 0) >= 1
    run_once(org.store, org.settings, org.data_dir, now=NOW + timedelta(days=2), learn=False)
    digests = [m for m in smtp_server.wait(1) if "today" in m["Subject"]]
    assert len(digests) == 1


class _Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    delay = 0.0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(self.delay)
        self.received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"received": [], "delay": 0.0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    finally:
        server.shutdown()


def test_webhook_signed_and_timeout(hook: tuple[str, type[_Hook]]) -> None:
    url, handler = hook
    note = Note("request:1", "request", {"webhook": url}, "subject", "text", {"assignment_id": 1})
    WebhookChannel("s3cret", timeout=2).send(note)
    headers, body = handler.received[0]
    verify("s3cret", headers, body)
    with pytest.raises(SignatureError):
        verify("other", headers, body)
    with pytest.raises(SignatureError):
        verify("s3cret", headers, body, now=time.time() + 3600)
    handler.delay = 1.0
    with pytest.raises(ChannelError, match=r"timed out|webhook"):
        WebhookChannel("s3cret", timeout=0.2).send(note)


def _person(conn: Any, name: str) -> int:
    p = schema.people
    return int(
        conn.execute(
            insert(p)
            .values(source="t", external_id=name, name=name, opted_out=False, is_bot=False, meta={})
            .returning(p.c.id)
        ).scalar_one()
    )


def test_storage_and_erasure_on_every_backend(store: Store) -> None:
    """Routing rows on SQLite and PostgreSQL; erasing a person removes what referred to them."""
    from whoknows.routing.assign import assign

    now = NOW
    with store.write() as conn:
        asker, expert = _person(conn, "asker"), _person(conn, "expert")
        rq = schema.routed_questions
        qid = conn.execute(
            insert(rq)
            .values(
                asker_id=asker,
                text="q?",
                draft={"candidates": [{"person_id": expert, "name": "expert", "score": 1.0}]},
                confidence=0.0,
                topic_terms=[],
                status="open",
                k=1,
                created_at=now,
                updated_at=now,
            )
            .returning(rq.c.id)
        ).scalar_one()
    from whoknows.settings import Settings

    with store.write() as conn:
        q = conn.execute(select(rq).where(rq.c.id == qid)).one()
        sel = assign(conn, Settings(), q, attempt=1, now=now, k=1)
    assert [p.person_id for p in sel.picks] == [expert]
    assert counts(store) == {"pending": 1}
    with store.write() as conn:
        conn.execute(delete(schema.people).where(schema.people.c.id == expert))
        assert conn.execute(select(schema.route_assignments)).first() is None
        assert conn.execute(select(schema.notification_outbox)).first() is None
        conn.execute(delete(schema.people).where(schema.people.c.id == asker))
        assert conn.execute(select(rq)).first() is None
