"""Generic signed webhooks: a JSON POST, signed ``X-Whoknows-Signature: sha256=<hex HMAC of the body>`` with the
installation's ``webhook_secret``, ``X-Whoknows-Timestamp`` and ``Idempotency-Key`` headers, and a timeout."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import asdict

from whoknows.routing.channels.base import Note
from whoknows.routing.errors import ChannelError, SignatureError

MAX_SKEW_S = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None) -> None:
    """Check a request signed by :func:`sign` (for receivers, and for our own tests); raises SignatureError."""
    h = {k.lower(): v for k, v in headers.items()}
    ts = h.get("x-whoknows-timestamp", "")
    if not ts.isdigit() or abs((now or time.time()) - int(ts)) > MAX_SKEW_S:
        raise SignatureError("webhook timestamp missing or too old (replay?)", code="routing.replayed")
    if not hmac.compare_digest(sign(secret, ts, body), h.get("x-whoknows-signature", "")):
        raise SignatureError("webhook signature does not match")


class WebhookChannel:
    name = "webhook"

    def __init__(self, secret: str, timeout: float = 10.0):
        self.secret, self.timeout = secret, timeout

    def send(self, note: Note) -> None:
        url = note.to.get("webhook")
        if not url:
            raise ChannelError("no webhook URL set for this person", code="routing.no_address")
        body = json.dumps({k: v for k, v in asdict(note).items() if k != "to"}, default=str).encode()
        ts = str(int(time.time()))
        req = urllib.request.Request(url, data=body, method="POST")
        req.add_header("Content-Type", "application/json")
        req.add_header("X-Whoknows-Timestamp", ts)
        req.add_header("X-Whoknows-Signature", sign(self.secret, ts, body))
        req.add_header("Idempotency-Key", note.key)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                if resp.status >= 300:
                    raise ChannelError(f"webhook {url} answered HTTP {resp.status}")
        except urllib.error.HTTPError as exc:
            raise ChannelError(f"webhook {url} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ChannelError(f"webhook {url}: {getattr(exc, 'reason', exc) or 'timed out'}") from None
