"""Slack: a direct message with Answer / Decline buttons, sent through the official ``slack_sdk`` WebClient.

``slack_sdk`` is an optional dependency (extra ``slack``), imported when the channel is built. ``base_url`` is
configurable (``WHOKNOWS_SLACK_BASE_URL``) so tests drive the real SDK against a local endpoint.
"""

from __future__ import annotations

from typing import Any

from whoknows.routing.channels.base import Note
from whoknows.routing.errors import ChannelError


def blocks(note: Note) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": note.text[:2900]}}]
    aid = note.payload.get("assignment_id")
    if note.kind == "request" and aid is not None:
        out.append(
            {
                "type": "actions",
                "block_id": f"whoknows:{aid}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "answer",
                        "value": str(aid),
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Answer"},
                    },
                    {
                        "type": "button",
                        "action_id": "decline",
                        "value": str(aid),
                        "text": {"type": "plain_text", "text": "Not my area"},
                    },
                ],
            }
        )
    return out


class SlackChannel:
    name = "slack"

    def __init__(self, token: str, base_url: str = "https://slack.com/api/", timeout: float = 10.0):
        try:
            from slack_sdk import WebClient
        except ImportError:  # pragma: no cover - depends on the installation
            raise ChannelError(
                "the Slack channel needs the slack extra: pip install 'whoknows[slack]'", code="routing.missing_extra"
            ) from None
        self.client = WebClient(token=token, base_url=base_url, timeout=int(max(1, timeout)))

    def send(self, note: Note) -> None:
        from slack_sdk.errors import SlackApiError, SlackClientError

        user = note.to.get("slack")
        if not user:
            raise ChannelError("no Slack user id known for this person", code="routing.no_address")
        try:
            self.client.chat_postMessage(channel=user, text=note.subject, blocks=blocks(note))
        except SlackApiError as exc:
            raise ChannelError(f"Slack refused the message: {exc.response.get('error')}") from None
        except (SlackClientError, OSError) as exc:
            raise ChannelError(f"Slack unreachable: {exc}") from None
