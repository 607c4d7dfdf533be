"""A notification as channels see it, and its plain-text rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Note:
    key: str  # idempotency key
    kind: str  # request | answer | expired | digest
    to: dict[str, str]  # channel -> address (email, Slack user id, webhook URL)
    subject: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)


def _request(p: dict[str, Any]) -> str:
    lines = [f"{p.get('asker') or 'A colleague'} asks: {p.get('question')}", ""]
    if p.get("draft"):
        lines += [f"What memory found so far (did not settle it): {str(p['draft'])[:400]}", ""]
    if p.get("reasons"):
        lines += ["Why you: " + "; ".join(p["reasons"]), ""]
    aid = p.get("assignment_id")
    lines += [
        f'Answer: whoknows answer {aid} "…"   Not my area: whoknows decline {aid}   '
        f"Forward: whoknows forward {aid} COLLEAGUE",
    ]
    if p.get("due_at"):
        lines.append(f"If nobody answers by {p['due_at'][:16]} UTC the question goes to other colleagues.")
    return "\n".join(lines)


def render(kind: str, payload: dict[str, Any], key: str) -> Note:
    to = dict(payload.get("to") or {})
    if kind == "request":
        subject = f"[whoknows] Can you help? {str(payload.get('question'))[:80]}"
        text = _request(payload)
    elif kind == "answer":
        subject = f"[whoknows] {payload.get('expert')} answered: {str(payload.get('question'))[:80]}"
        text = (
            f"{payload.get('expert')} answered your question “{payload.get('question')}”:\n\n"
            f"{payload.get('answer')}\n\n"
            f"Did it help? whoknows accept {payload.get('question_id')} --rating 1-5"
        )
    elif kind == "digest":
        items = payload.get("items", [])
        subject = f"[whoknows] {len(items)} question(s) for you today"
        text = "\n\n---\n\n".join(_request(i) for i in items)
    else:
        subject = f"[whoknows] Nobody could answer yet: {str(payload.get('question'))[:80]}"
        text = f"Nobody answered “{payload.get('question')}” in time and no other colleague could be asked."
    return Note(key, kind, to, subject, text, payload)
