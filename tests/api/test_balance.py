"""Fair shares of keep-alive connections (``whoknows.api.balance``) without processes: counts and headers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from whoknows.api.balance import BalanceConnections, ConnectionShares


def test_a_process_over_its_share_says_so_and_publishes_its_count() -> None:
    counts = [0, 4, 5]
    shares = ConnectionShares(counts, 0)
    shares.connections = set(range(7))  # 7 + 4 + 5 = 16 -> fair share 6
    assert shares.over_share() and counts == [7, 4, 5]
    shares.connections = set(range(5))  # 5 + 4 + 5 = 14 -> fair share 5
    assert not shares.over_share() and counts[0] == 5
    counts[1:] = [0, 0]  # alone with 5: its fair share of 5 over 3 processes is 2
    assert shares.over_share()
    with pytest.raises(ValueError, match="slot 3"):
        ConnectionShares(counts, 3)


async def _response(app: Any, scope_type: str = "http") -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": scope_type}, receive, send)
    return sent


async def _inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"connection", b"keep-alive")]})
    await send({"type": "http.response.body", "body": b"ok"})


def test_the_busier_process_asks_the_client_to_reconnect() -> None:
    counts = [0, 2]
    shares = ConnectionShares(counts, 0)
    app = BalanceConnections(_inner, shares)
    shares.connections = {1, 2}
    start, body = asyncio.run(_response(app))
    assert start["headers"] == [(b"connection", b"keep-alive")] and body["body"] == b"ok"
    shares.connections = {1, 2, 3, 4}  # 4 against 2: over the fair 3
    start, body = asyncio.run(_response(app))
    assert start["headers"] == [(b"connection", b"close")] and start["status"] == 200 and body["body"] == b"ok"
    assert asyncio.run(_response(app, "lifespan"))[0]["headers"] == [(b"connection", b"keep-alive")]
