"""Fair shares of keep-alive connections between the server processes of ``whoknows serve --workers N``.

Every process has its own listening socket (``SO_REUSEPORT``) and the kernel hands each *new* connection to one
of them by a hash of its addresses, so 20 clients typically land 12 and 8 (or worse) and, with keep-alive, stay
there: the clients of the busier process wait half as long again as the others. Each process publishes how many
connections it holds in a small shared array; a process holding more than its fair share (the total divided by
the number of processes, rounded up) answers its next response with ``Connection: close``. That client
reconnects (every HTTP client does: browsers, wrk, requests, httpx) and the kernel places the new connection
again, so the shares even out within a few requests. Nothing is lost: the response is complete; only the next
request opens a new connection (a fraction of a millisecond on a LAN).
"""

from __future__ import annotations

from collections.abc import MutableSequence, Sized

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ConnectionShares:
    """This process's view of the connection counts of all the server processes (``counts``: shared memory, one
    slot per process; ``slot``: ours). ``connections`` is the set of open connections of this process's server
    (uvicorn's ``server_state.connections``), attached once the server exists."""

    def __init__(self, counts: MutableSequence[int], slot: int) -> None:
        if not 0 <= slot < len(counts):
            raise ValueError(f"slot {slot} is outside the {len(counts)} server processes")
        self.counts, self.slot = counts, slot
        self.connections: Sized = ()
        counts[slot] = 0

    def publish(self) -> int:
        mine = len(self.connections)
        self.counts[self.slot] = mine
        return mine

    def over_share(self) -> bool:
        """Does this process hold more connections than its fair share (after publishing its own count)?"""
        mine = self.publish()
        total = sum(self.counts)
        fair = -(-total // len(self.counts))
        return mine > fair


class BalanceConnections:
    """ASGI wrapper: when this process holds more than its share, the response asks the client to reconnect."""

    def __init__(self, app: ASGIApp, shares: ConnectionShares) -> None:
        self.app, self.shares = app, shares

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_balanced(message: Message) -> None:
            if message["type"] == "http.response.start" and self.shares.over_share():
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, send_balanced)
