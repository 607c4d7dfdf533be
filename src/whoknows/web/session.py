"""Who is looking at a page: the session cookie authenticated by the core, role checks, and the page errors.

Not signed in (no cookie, or an expired or revoked session) → ``303`` to ``/login?next=…``; signed in without the
role a page needs → a 403 page. Paths outside ``/api`` get HTML error pages instead of the API's JSON errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from whoknows.access import Viewer
from whoknows.api.accounts import Principal, authenticate_token
from whoknows.api.deps import CSRF_COOKIE, SESSION_COOKIE, AppState
from whoknows.errors import WhoknowsError
from whoknows.web.render import render

Handler = Callable[[Request, Exception], Awaitable[Response]]
_TITLES = {
    400: "That request did not work",
    403: "You can't open this page",
    404: "Page not found",
    405: "That request did not work",
    422: "That request did not work",
    429: "Too many requests",
    500: "Something went wrong",
}


class LoginNeeded(Exception):
    """The page needs a signed-in person; carries where to go back to after logging in."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageForbidden(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class PageUser:
    """The signed-in person as the templates need them."""

    principal: Principal
    name: str
    department: str | None
    state: AppState

    @property
    def person_id(self) -> int:
        return self.principal.person_id

    @property
    def role(self) -> str:
        return self.principal.role

    def has_role(self, role: str) -> bool:
        return self.principal.has_role(role)

    @cached_property
    def viewer(self) -> Viewer:
        """What this person may read (:mod:`whoknows.access`): every core read of a page takes it."""
        return self.state.store.viewer(self.person_id, self.role)

    @cached_property
    def inbox_count(self) -> int:
        """Routed questions waiting for this person (the badge next to "Inbox")."""
        from whoknows.routing import inbox

        return len(inbox(self.state.store, self.viewer))


def safe_next(value: str | None) -> str:
    """``value`` if it is a path on this site (``/…``, not ``//host`` or ``/\\host``), else ``/``."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ord(ch) < 32 or ch == "\\" for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def page_user(request: Request) -> PageUser:
    """A dependency: the person signed in with the session cookie, or :class:`LoginNeeded`."""
    state: AppState = request.app.state.whoknows
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginNeeded(here)
    try:
        principal = authenticate_token(state.store, token, kind="session")
    except WhoknowsError as exc:  # expired, revoked or unknown session
        raise LoginNeeded(here) from exc
    person = state.store.get_person(principal.person_id)
    return PageUser(principal, person.name, person.department, state)


def page_role(role: str) -> Callable[[PageUser], PageUser]:
    """A dependency: the signed-in person, who must have at least ``role`` (else a 403 page)."""

    def check(user: Annotated[PageUser, Depends(page_user)]) -> PageUser:
        if not user.has_role(role):
            raise PageForbidden(f"This page needs the {role} role; your account has the {user.role} role.")
        return user

    return check


User = Annotated[PageUser, Depends(page_user)]
AdminUser = Annotated[PageUser, Depends(page_role("admin"))]


def login_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(safe_next(next_url), safe='/')}", status_code=303)


def error_page(request: Request, status: int, message: str, title: str | None = None) -> Response:
    user = _optional_user(request)
    return render(
        request,
        "error.html",
        status_code=status,
        status=status,
        title=title or _TITLES.get(status, "Something went wrong"),
        message=message,
        user=user,
    )


def _optional_user(request: Request) -> PageUser | None:
    try:
        return page_user(request)
    except (LoginNeeded, WhoknowsError):
        return None


def install_page_errors(app: FastAPI) -> None:
    """HTML error pages (and the login redirect) for pages; the API keeps its JSON errors."""

    async def login_needed(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginNeeded)
        response = login_redirect(exc.next_url)
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageForbidden)
        return error_page(request, 403, exc.message)

    app.add_exception_handler(LoginNeeded, login_needed)
    app.add_exception_handler(PageForbidden, forbidden)
    for kind in (StarletteHTTPException, WhoknowsError, RequestValidationError, Exception):
        api_handler: Any = app.exception_handlers.get(kind)
        if api_handler is not None:
            app.add_exception_handler(kind, _pages_or(api_handler))


def _pages_or(api_handler: Handler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
            return await api_handler(request, exc)
        if isinstance(exc, StarletteHTTPException):
            status = exc.status_code
            message = "There is no page at this address." if status == 404 else str(exc.detail)
        elif isinstance(exc, WhoknowsError):
            status, message = exc.http_status, exc.message
        elif isinstance(exc, RequestValidationError):
            status, message = 422, "Some of the values in the address are not valid."
        else:  # a crash: the API's handler logs it; the page says so without details
            await api_handler(request, exc)
            status, message = 500, "Something went wrong on our side. It has been logged; please try again."
        return error_page(request, status, message)

    return handle
