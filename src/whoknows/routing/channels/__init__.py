"""Notification channels behind one interface: ``send(note)`` delivers or raises :class:`ChannelError`.

* :mod:`.email` — SMTP (``smtplib``); the idempotency key is the ``Message-ID``, so a mail server or client can
  drop a repeat;
* :mod:`.slack` — a DM with Answer / Decline buttons through the official ``slack_sdk`` (optional extra); the
  inbound side (signature check, ``/whoknows`` slash command, button clicks) is :mod:`.slack_inbound`;
* :mod:`.webhook` — a JSON POST signed with HMAC-SHA256 (``X-Whoknows-Signature``), with a timeout.
"""

from __future__ import annotations

from typing import Protocol

from whoknows.routing.channels.base import Note, render
from whoknows.routing.errors import ChannelError
from whoknows.settings import Settings


class Channel(Protocol):
    name: str

    def send(self, note: Note) -> None: ...


def build_channels(settings: Settings) -> dict[str, Channel]:
    """The channels this installation can use (Slack only with a token)."""
    from whoknows.routing.channels.email import EmailChannel
    from whoknows.routing.channels.webhook import WebhookChannel

    out: dict[str, Channel] = {
        "email": EmailChannel(settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.notify_timeout_s),
        "webhook": WebhookChannel(settings.webhook_secret, settings.notify_timeout_s),
    }
    if settings.slack_token:
        from whoknows.routing.channels.slack import SlackChannel

        out["slack"] = SlackChannel(settings.slack_token, settings.slack_base_url, settings.notify_timeout_s)
    return out


__all__ = ["Channel", "ChannelError", "Note", "build_channels", "render"]
