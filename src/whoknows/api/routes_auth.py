"""``/auth``: log in (session cookie + CSRF token), log out, who am I."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from whoknows.api.accounts import (
    Principal,
    authenticate_token,
    check_password,
    csrf_token_for,
    issue_token,
    resolve_login,
    revoke_token,
)
from whoknows.api.deps import CSRF_COOKIE, SESSION_COOKIE, Caller, State

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


def _me(state: State, principal: Principal) -> dict[str, Any]:
    person = state.store.get_person(principal.person_id)
    return {
        "account_id": principal.account_id,
        "person_id": principal.person_id,
        "name": person.name,
        "department": person.department,
        "role": principal.role,
        "via": principal.via,
    }


@router.post("/login")
def login(body: LoginIn, request: Request, response: Response, state: State) -> dict[str, Any]:
    """Check the e-mail address (or ``@handle``) and password; set the session cookie and return the CSRF token
    for unsafe requests. Repeated failures for one account or client address are throttled
    (``429 auth.rate_limited``)."""
    subject = resolve_login(state.store, body.email)
    address = request.client.host if request.client else None
    attempt = state.logins.reserve(subject.throttle_key, address)  # counted before any password work
    account_id = check_password(state.store, subject, body.password)  # wrong: the counted attempt stays, a failure
    state.logins.succeeded(attempt)
    hours = state.settings.api_session_hours
    session = issue_token(state.store, account_id, kind="session", name="login", ttl=timedelta(hours=hours))
    csrf = csrf_token_for(session.token)
    common: dict[str, Any] = {
        "max_age": int(hours * 3600),
        "path": "/",
        "secure": state.settings.api_cookie_secure,
        "samesite": "lax",
    }
    response.set_cookie(SESSION_COOKIE, session.token, httponly=True, **common)
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, **common)
    principal = authenticate_token(state.store, session.token, kind="session")
    expires = session.expires_at.isoformat() if session.expires_at else None
    return {"account": _me(state, principal), "csrf_token": csrf, "expires_at": expires}


@router.post("/logout")
def logout(response: Response, state: State, principal: Caller) -> dict[str, Any]:
    """End this session (its token is revoked); with an API token: nothing to end."""
    if principal.via == "session":
        revoke_token(state.store, principal.token_id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"logged_out": principal.via == "session"}


@router.get("/me")
def me(state: State, principal: Caller) -> dict[str, Any]:
    """The caller's account, person and effective role."""
    return _me(state, principal)
