"""Accounts, login, sessions, CSRF, API tokens, roles."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from apihelpers import error_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import PASSWORD, Api
from whoknows.api.accounts import account_of, issue_token, revoke_token
from whoknows.store import schema


def _login(api: Api, who: str = "una") -> tuple[TestClient, str]:
    client = TestClient(api.client.app)
    r = client.post("/api/v1/auth/login", json={"email": f"{who}@api.example", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client, r.json()["csrf_token"]


def test_login_sets_session_cookie_and_returns_csrf(api: Api) -> None:
    client, csrf = _login(api)
    r = client.post("/api/v1/auth/login", json={"email": "una@api.example", "password": PASSWORD})
    body = r.json()
    assert set(body) == {"account", "csrf_token", "expires_at"}
    assert set(body["account"]) == {"account_id", "person_id", "name", "department", "role", "via"}
    assert body["account"]["name"] == "Una Outside" and body["account"]["via"] == "session"
    cookie = r.headers["set-cookie"]
    assert "whoknows_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["role"] == "member" and len(csrf) == 64
    # Only the hash of the session token is stored.
    token = client.cookies["whoknows_session"]
    with api.store.read() as conn:
        stored = set(conn.execute(select(schema.api_tokens.c.token_sha256)).scalars())
    assert token not in stored and all(len(s) == 64 for s in stored)


def test_passwords_are_argon2id_hashes(api: Api) -> None:
    with api.store.read() as conn:
        hashes = list(conn.execute(select(schema.accounts.c.password_hash)).scalars())
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


def test_wrong_password_and_unknown_email_look_the_same(api: Api) -> None:
    client = TestClient(api.client.app)
    wrong = client.post("/api/v1/auth/login", json={"email": "una@api.example", "password": "nope nope nope"})
    unknown = client.post("/api/v1/auth/login", json={"email": "nobody@api.example", "password": PASSWORD})
    a, b = error_of(wrong, 401, "auth.bad_credentials"), error_of(unknown, 401, "auth.bad_credentials")
    assert a["message"] == b["message"]
    assert "whoknows_session" not in client.cookies


def test_authentication_is_required(api: Api) -> None:
    client = TestClient(api.client.app)
    for method, path in [("GET", "/api/v1/inbox"), ("GET", "/api/v1/me/prefs"), ("GET", "/api/v1/people/1"),
                         ("POST", "/api/v1/ask"), ("GET", "/api/v1/analytics/report")]:  # fmt: skip
        r = client.request(method, path, json={"question": "x"} if method == "POST" else None)
        error_of(r, 401, "auth.required")
        assert r.headers["www-authenticate"].startswith("Bearer")
    error_of(client.get("/api/v1/inbox", headers={"Authorization": "Basic dXNlcjpwdw=="}), 401, "auth.bad_header")
    error_of(client.get("/api/v1/inbox", headers={"Authorization": "Bearer wk_made_up"}), 401, "auth.invalid_token")


def test_cookie_post_without_csrf_header_is_refused(api: Api) -> None:
    client, csrf = _login(api)
    r = client.put("/api/v1/me/prefs", json={"digest": "daily"})
    error_of(r, 403, "auth.csrf")
    r = client.put("/api/v1/me/prefs", json={"digest": "daily"}, headers={"X-CSRF-Token": "0" * 64})
    error_of(r, 403, "auth.csrf")
    r = client.put("/api/v1/me/prefs", json={"digest": "daily"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["digest"] == "daily"


def test_logout_revokes_the_session(api: Api) -> None:
    client, csrf = _login(api)
    token = client.cookies["whoknows_session"]
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).json() == {"logged_out": True}
    client.cookies.set("whoknows_session", token)
    error_of(client.get("/api/v1/auth/me"), 401, "auth.token_revoked")


def test_expired_and_revoked_tokens_are_refused(api: Api) -> None:
    account = account_of(api.store, "una@api.example")
    expired = issue_token(api.store, account, kind="api", name="old", ttl=timedelta(seconds=-1))
    error_of(api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired.token}"}), 401,
             "auth.token_expired")  # fmt: skip
    revoked = issue_token(api.store, account, kind="api", name="gone")
    assert api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {revoked.token}"}).status_code == 200
    assert revoke_token(api.store, revoked.id)
    error_of(api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {revoked.token}"}), 401,
             "auth.token_revoked")  # fmt: skip


def test_a_session_token_is_not_an_api_token(api: Api) -> None:
    client, _csrf = _login(api)
    session = client.cookies["whoknows_session"]
    error_of(api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {session}"}), 401)


def test_roles_gate_admin_and_analyst_routes(api: Api) -> None:
    for who in ("una", "alan"):
        error_of(api.client.post("/api/v1/admin/reindex", headers=api.auth(who)), 403, "auth.forbidden")
        error_of(api.client.get("/api/v1/admin/imports/1", headers=api.auth(who)), 403, "auth.forbidden")
    r = api.client.get("/api/v1/analytics/report?scope=organisation", headers=api.auth("una"))
    error_of(r, 403, "analytics.forbidden")  # the core checks the viewer's role, whatever the front-end


def test_admin_creates_tokens_never_wider_than_the_account(api: Api) -> None:
    r = api.client.post("/api/v1/admin/tokens", headers=api.auth("ada"),
                        json={"account": "una@api.example", "name": "crm", "expires_days": 1})  # fmt: skip
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id", "token", "kind", "name", "role", "expires_at"} and body["role"] == "member"
    me = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"}).json()
    assert me["name"] == "Una Outside" and me["via"] == "api"
    r = api.client.post("/api/v1/admin/tokens", headers=api.auth("ada"),
                        json={"account": "una@api.example", "name": "x", "role": "admin"})  # fmt: skip
    error_of(r, 403, "token.bad_scope")
    r = api.client.delete(f"/api/v1/admin/tokens/{body['id']}", headers=api.auth("ada"))
    assert r.json() == {"id": body["id"], "revoked": True}
    error_of(api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"}), 401)


def test_the_unknown_account_stand_in_hash_is_made_at_start(tmp_path: Path) -> None:
    """Made on the first login for an unknown identifier, the stand-in hash would make that answer slower than
    a known account's (a one-off signal that the identifier has no account)."""
    from whoknows.api import accounts
    from whoknows.api.app import create_app
    from whoknows.settings import Settings

    accounts._dummy_hash.cache_clear()
    create_app(Settings(data_dir=tmp_path, db=str(tmp_path / "w.db")))
    assert accounts._dummy_hash.cache_info().currsize == 1
