"""Request guards in front of every route: body size limits, accepted content types, security headers.

A pure ASGI middleware, so a body larger than the limit is refused from its ``Content-Length`` before it is read,
and a chunked body is cut off (413) as soon as it passes the limit. Unsafe methods with a body must send
``application/json`` (uploads: ``multipart/form-data``), otherwise 415. Every response gets ``nosniff``,
``no-store`` and a content security policy: ``default-src 'none'`` on the API (``/api/…``: data, never pages); the
web UI's pages and static files get :data:`PAGE_SECURITY_HEADERS` (own scripts and styles only, no inline code).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from whoknows.api.errors import PayloadTooLarge, UnsupportedMediaType, error_body

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
]
API_PREFIX = "/api/"
PAGE_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
    b"form-action 'self'; base-uri 'none'"
)
PAGE_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", PAGE_CSP),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class _TooLarge(Exception):
    pass


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int, upload_paths: frozenset[str]) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        upload = scope["path"] in self.upload_paths
        secured = SECURITY_HEADERS if scope["path"].startswith(API_PREFIX) else _page_headers(scope["path"])
        limit = self.max_upload if upload else self.max_body
        started = exceeded = False

        async def send_secured(message: Message) -> None:
            nonlocal started
            if exceeded:  # the app answered a body it could not read (e.g. 400): say why instead, once
                if not started:
                    started = True
                    await _reply(send_secured_raw, _too_large(limit))
                return
            await send_secured_raw(message)

        async def send_secured_raw(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", []), *secured]}
            await send(message)

        problem = self._check(scope["method"], headers, upload, limit)
        if problem is not None:
            await _reply(send_secured_raw, problem)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send_secured)
        except _TooLarge:
            if not started:
                await _reply(send_secured_raw, _too_large(limit))

    def _check(
        self, method: str, headers: dict[str, str], upload: bool, limit: int
    ) -> PayloadTooLarge | UnsupportedMediaType | None:
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            return _too_large(limit)
        has_body = (length.isdigit() and int(length) > 0) or "transfer-encoding" in headers
        if method in UNSAFE and has_body:
            media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            wanted = "multipart/form-data" if upload else "application/json"
            if media != wanted:
                return UnsupportedMediaType(
                    f"send the request body as {wanted} (got {media or 'no content type'})",
                    details={"expected": wanted, "got": media or None},
                )
        return None


def _page_headers(path: str) -> list[tuple[bytes, bytes]]:
    """Pages hold personal data (never cached); the static files are the same for everyone (revalidated)."""
    cache = b"no-cache" if path.startswith("/static/") else b"no-store"
    return [*PAGE_SECURITY_HEADERS, (b"cache-control", cache)]


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {limit:,} bytes", details={"limit_bytes": limit})


async def _reply(send: Send, exc: PayloadTooLarge | UnsupportedMediaType) -> None:
    body = json.dumps(error_body(exc.code, exc.message, exc.details)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": exc.http_status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
