"""Helpers shared by the routing tests (imported by name: tests have no packages)."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoknows.settings import Settings
from whoknows.store import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Org:
    store: Store
    data_dir: Path
    settings: Settings


@dataclass
class Mailbox:
    port: int
    messages: list[Any] = field(default_factory=list)
    delay_s: float = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes

        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        import asyncio

        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        envelope.mail_from = address
        return "250 OK"

    def wait(self, n: int, timeout: float = 10.0) -> list[Any]:
        end = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < end:
            time.sleep(0.02)
        return self.messages
