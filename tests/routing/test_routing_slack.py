"""Slack: the official slack_sdk against a local endpoint, signed inbound requests (bad signature, replay)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode

import pytest
from routing_fixtures import Org

from whoknows.routing import ask_or_route, set_prefs
from whoknows.routing.channels.slack_inbound import (
    handle_interaction,
    handle_slash_command,
    slack_signature,
    verify_slack,
)
from whoknows.routing.errors import SignatureError
from whoknows.routing.worker import run_once

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


class _SlackApi(http.server.BaseHTTPRequestHandler):
    calls: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        data = json.loads(body) if body.startswith("{") else {k: v[0] for k, v in parse_qs(body).items()}
        self.calls.append({"path": self.path, "auth": self.headers.get("Authorization"), **data})
        out = json.dumps({"ok": True, "channel": "D1", "ts": "1.1"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slack_api() -> Iterator[tuple[str, type[_SlackApi]]]:
    handler = type("Api", (_SlackApi,), {"calls": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/", handler
    finally:
        server.shutdown()


def signed(body: bytes, ts: int | None = None, secret: str = SECRET) -> dict[str, str]:
    t = str(ts if ts is not None else int(time.time()))
    return {"X-Slack-Request-Timestamp": t, "X-Slack-Signature": slack_signature(secret, t, body)}


def test_verify_rejects_bad_signature_and_replay() -> None:
    body = b"token=x&text=hi"
    verify_slack(SECRET, signed(body), body)
    with pytest.raises(SignatureError) as bad:
        verify_slack(SECRET, signed(body, secret="wrong"), body)
    assert bad.value.code == "routing.bad_signature"
    with pytest.raises(SignatureError) as old:
        verify_slack(SECRET, signed(body, ts=int(time.time()) - 301), body)
    assert old.value.code == "routing.replayed"
    with pytest.raises(SignatureError):
        verify_slack(SECRET, signed(body), body + b"&tampered=1")


def test_dm_with_buttons_then_decline_by_button(org: Org, slack_api: tuple[str, type[_SlackApi]]) -> None:
    url, api = slack_api
    s = org.settings.model_copy(
        update={"slack_token": "xoxb-test", "slack_base_url": url, "slack_signing_secret": SECRET}
    )
    first = ask_or_route(org.store, org.data_dir, "can we sign a BAA for HIPAA?", 5, route="always", k=1, settings=s)
    expert = first.asked[0]["person_id"]
    set_prefs(org.store, expert, channels=["slack"], slack_user="U123")
    set_prefs(org.store, 5, slack_user="U005")
    # a slash command from the asker: memory answers or routes; the expert (now on Slack) gets a DM
    body = urlencode({"user_id": "U005", "text": "HIPAA BAA: who signs it and how long does it take?"}).encode()
    resp = handle_slash_command(org.store, org.data_dir, s, signed(body), body)
    assert resp["response_type"] == "ephemeral" and "error" not in resp
    r = ask_or_route(org.store, org.data_dir, "who signs HIPAA BAAs?", 6, route="always", k=3, settings=s)
    mine = next(a for a in r.asked if a["person_id"] == expert)
    assert mine["channel"] == "slack"
    run_once(org.store, s, org.data_dir, learn=False)
    dms = [c for c in api.calls if c["path"].endswith("chat.postMessage") and c.get("channel") == "U123"]
    assert dms and dms[0]["auth"] == "Bearer xoxb-test"
    blocks = dms[-1]["blocks"] if isinstance(dms[-1]["blocks"], list) else json.loads(dms[-1]["blocks"])
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert {a["action_id"] for a in actions} == {"answer", "decline"}
    click = {
        "type": "block_actions",
        "user": {"id": "U123"},
        "trigger_id": "t1",
        "actions": [{"action_id": "decline", "value": str(mine["assignment_id"])}],
    }
    body = urlencode({"payload": json.dumps(click)}).encode()
    with pytest.raises(SignatureError):
        handle_interaction(org.store, org.data_dir, s, signed(body, secret="nope"), body)
    out = handle_interaction(org.store, org.data_dir, s, signed(body), body)
    assert out["result"]["learned"] is True
    again = handle_interaction(org.store, org.data_dir, s, signed(body), body)  # a retried callback
    assert again["error"] == "routing.already_done"


def test_answer_modal_submission(org: Org) -> None:
    s = org.settings.model_copy(update={"slack_signing_secret": SECRET})
    r = ask_or_route(org.store, org.data_dir, "can we sign a BAA for HIPAA?", 5, route="always", k=1, settings=s)
    a = r.asked[0]
    set_prefs(org.store, a["person_id"], slack_user="U777")
    click = {
        "type": "block_actions",
        "user": {"id": "U777"},
        "trigger_id": "t9",
        "actions": [{"action_id": "answer", "value": str(a["assignment_id"])}],
    }
    body = urlencode({"payload": json.dumps(click)}).encode()
    view = handle_interaction(org.store, org.data_dir, s, signed(body), body)["open_view"]["view"]
    submit = {
        "type": "view_submission",
        "user": {"id": "U777"},
        "view": {
            "private_metadata": view["private_metadata"],
            "state": {"values": {"answer": {"text": {"value": "Legal signs it in two days."}}}},
        },
    }
    body = urlencode({"payload": json.dumps(submit)}).encode()
    out = handle_interaction(org.store, org.data_dir, s, signed(body), body)
    assert out["response_action"] == "clear" and out["answer_id"] >= 1
    unknown = urlencode({"user_id": "UNOBODY", "text": "hi"}).encode()
    resp = handle_slash_command(org.store, org.data_dir, s, signed(unknown), unknown)
    assert resp["error"] == "routing.unknown_slack_user"
