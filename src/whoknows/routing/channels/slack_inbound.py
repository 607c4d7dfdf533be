"""Requests from Slack, as pure functions of (headers, body) -> response dict; the HTTP server comes later.

Every request is verified with Slack's signing secret: ``X-Slack-Signature`` must equal
``v0=`` + hex HMAC-SHA256(secret, ``v0:{X-Slack-Request-Timestamp}:{raw body}``) and the timestamp must be
within 5 minutes (older = a replay). The Slack user is mapped to a person by the ``slack_user`` preference or
their Slack alias.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import or_, select

from whoknows.errors import WhoknowsError
from whoknows.routing.errors import RoutingNotFound, SignatureError
from whoknows.settings import Settings
from whoknows.store import Store, schema

MAX_AGE_S = 300


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None) -> None:
    """Raise :class:`SignatureError` unless the request is signed with ``secret`` and fresh."""
    if not secret:
        raise SignatureError(
            "no Slack signing secret is configured (WHOKNOWS_SLACK_SIGNING_SECRET)", code="routing.no_signing_secret"
        )
    h = {k.lower(): v for k, v in headers.items()}
    ts = h.get("x-slack-request-timestamp", "")
    if not ts.isdigit():
        raise SignatureError("missing X-Slack-Request-Timestamp")
    if abs((now if now is not None else time.time()) - int(ts)) > MAX_AGE_S:
        raise SignatureError("Slack request timestamp is more than 5 minutes old (replay?)", code="routing.replayed")
    if not hmac.compare_digest(slack_signature(secret, ts, body), h.get("x-slack-signature", "")):
        raise SignatureError("Slack request signature does not match")


def person_for_slack(store: Store, user_id: str) -> int:
    ep, a = schema.expert_prefs, schema.person_aliases
    with store.read() as conn:
        pid = conn.execute(select(ep.c.person_id).where(ep.c.slack_user == user_id)).scalar()
        if pid is None:
            pid = conn.execute(
                select(a.c.person_id)
                .where(a.c.kind == "slack", or_(a.c.value == user_id, a.c.value.like(f"%:{user_id}")))
                .limit(1)
            ).scalar()
    if pid is None:
        raise RoutingNotFound(
            f"Slack user {user_id} is not linked to anyone in whoknows", code="routing.unknown_slack_user"
        )
    return int(pid)


def _error(exc: WhoknowsError) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": f"Sorry: {exc.message}", "error": exc.code}


def handle_slash_command(
    store: Store, data_dir: Path, settings: Settings, headers: dict[str, str], body: bytes, *, now: float | None = None
) -> dict[str, Any]:
    """``/whoknows QUESTION`` answers from memory and routes when needed; ``/whoknows inbox`` lists requests."""
    from whoknows.routing.actions import inbox
    from whoknows.routing.flow import ask_or_route

    verify_slack(settings.slack_signing_secret, headers, body, now=now)
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    try:
        pid = person_for_slack(store, form.get("user_id", ""))
        text = form.get("text", "").strip()
        if text == "inbox":
            items = inbox(store, store.viewer(pid))
            lines = [f"#{i['assignment_id']}: {i['question']} (from {i['asker']})" for i in items] or [
                "Nothing waiting."
            ]
            return {"response_type": "ephemeral", "text": "\n".join(lines)}
        result = ask_or_route(store, data_dir, text, pid, settings=settings)
    except WhoknowsError as exc:
        return _error(exc)
    lines = []
    sols = result.memory.get("solutions", [])
    if sols:
        lines.append(f"From memory (confidence {result.confidence:.2f}): {sols[0]['solution']}")
    if result.routed:
        names = ", ".join(a["name"] for a in result.asked) or "nobody available"
        lines.append(f"I asked {names} ({result.reason}).")
    return {"response_type": "ephemeral", "text": "\n".join(lines) or "Nothing found.", "result": result.as_dict()}


def handle_interaction(
    store: Store, data_dir: Path, settings: Settings, headers: dict[str, str], body: bytes, *, now: float | None = None
) -> dict[str, Any]:
    """Button clicks on a request DM: "Not my area" declines; "Answer" opens a modal whose submission answers."""
    from whoknows.routing.actions import answer, decline

    verify_slack(settings.slack_signing_secret, headers, body, now=now)
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    try:
        payload = json.loads(form.get("payload", "{}"))
        pid = person_for_slack(store, payload.get("user", {}).get("id", ""))
        if payload.get("type") == "view_submission":
            view = payload.get("view", {})
            aid = int(view.get("private_metadata", "0"))
            values = view.get("state", {}).get("values", {})
            text = values.get("answer", {}).get("text", {}).get("value", "")
            done = answer(store, data_dir, aid, text, pid, channel="slack", settings=settings)
            return {"response_action": "clear", "answer_id": done["answer_id"]}
        action = (payload.get("actions") or [{}])[0]
        aid = int(action.get("value", "0"))
        if action.get("action_id") == "decline":
            result = decline(store, data_dir, aid, pid, settings=settings)
            return {"replace_original": True, "text": "Thanks, we asked someone else.", "result": result}
        if action.get("action_id") == "answer":
            return {"open_view": {"trigger_id": payload.get("trigger_id"), "view": _answer_modal(aid)}}
    except WhoknowsError as exc:
        return _error(exc)
    except (ValueError, TypeError, AttributeError):
        return {"response_type": "ephemeral", "text": "Sorry: malformed request", "error": "routing.bad_request"}
    return {"response_type": "ephemeral", "text": "Unknown action", "error": "routing.unknown_action"}


def _answer_modal(assignment_id: int) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "whoknows_answer",
        "private_metadata": str(assignment_id),
        "title": {"type": "plain_text", "text": "Answer"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "answer",
                "label": {"type": "plain_text", "text": "Your answer"},
                "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
            }
        ],
    }
