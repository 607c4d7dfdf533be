"""E-mail over SMTP (``smtplib``). The outbox idempotency key becomes the ``Message-ID``."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from whoknows.routing.channels.base import Note
from whoknows.routing.errors import ChannelError


class EmailChannel:
    name = "email"

    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0):
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    def message(self, note: Note) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = note.to["email"]
        msg["Subject"] = note.subject
        msg["Message-ID"] = f"<{note.key.replace(':', '.')}@whoknows>"
        msg["X-Whoknows-Key"] = note.key
        msg.set_content(note.text)
        return msg

    def send(self, note: Note) -> None:
        if not note.to.get("email"):
            raise ChannelError(
                "no e-mail address known for this person (set one with `whoknows prefs`)", code="routing.no_address"
            )
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(self.message(note))
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"SMTP {self.host}:{self.port}: {exc or type(exc).__name__}") from None
