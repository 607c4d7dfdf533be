"""Accounts, roles, API tokens and browser sessions (no FastAPI here: the CLI bootstraps admins with it too).

* An account belongs to a person of the store (``accounts.person_id``) and has one role: ``member`` <
  ``analyst`` < ``admin``. Local passwords are argon2id hashes (argon2-cffi defaults; rehashed on login when the
  parameters change).
* A token (``wk_…``, 256 random bits) is either an API token for integrations or a browser session created by
  login. Only its SHA-256 is stored. A token has a role scope that never exceeds its account's role, an optional
  expiry and a revocation time.
* :func:`authenticate_token` is the one place a presented token becomes a :class:`Principal`.
* :func:`resolve_login` is the one place a login identifier (e-mail address or ``@handle``, any spelling) becomes
  an account: login checks that account's password, and its throttle counts failures against it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update

from whoknows.access import Viewer
from whoknows.api.errors import AuthInvalid, Forbidden
from whoknows.errors import InputError, NotFoundError
from whoknows.model import AliasKind, normalize_alias
from whoknows.store import Store, schema

ROLES = ("member", "analyst", "admin")
Role = Literal["member", "analyst", "admin"]
TokenKind = Literal["api", "session"]
TOKEN_PREFIX = "wk_"
MIN_PASSWORD_CHARS = 10


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account, the person it belongs to, the effective role, and how they authenticated."""

    account_id: int
    person_id: int
    role: str
    via: TokenKind
    token_id: int

    def has_role(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class IssuedToken:
    id: int
    token: str  # shown once; only its hash is stored
    kind: str
    name: str
    role: str
    expires_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["expires_at"] = self.expires_at.isoformat() if self.expires_at else None
        return d


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the account does not exist, so both cases take the same time."""
    return _hasher().hash(secrets.token_hex(16))


def prepare_logins() -> None:
    """Compute the stand-in hash up front (a server calls this on start): made on the first login for an
    unknown identifier, it would make that one answer slower, telling the identifier has no account."""
    _dummy_hash()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a session: derived from the (HttpOnly) session token, so a page on another site that
    cannot read the cookie cannot compute it either."""
    return hashlib.sha256(b"whoknows-csrf:" + session_token.encode()).hexdigest()


def csrf_matches(session_token: str, presented: str) -> bool:
    return hmac.compare_digest(csrf_token_for(session_token), presented)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; use one of {', '.join(ROLES)}", code="account.bad_role")
    return role


def add_account(store: Store, person_ref: str, *, role: str, password: str | None) -> dict[str, Any]:
    """Create the account of an existing person (e-mail, handle, name or #id), or update its role and password."""
    check_role(role)
    if password is not None and len(password) < MIN_PASSWORD_CHARS:
        raise InputError(f"the password needs at least {MIN_PASSWORD_CHARS} characters", code="account.weak_password")
    person = store.find_person(person_ref, Viewer.system())
    assert person.id is not None
    digest = _hasher().hash(password) if password is not None else None
    a = schema.accounts
    now = datetime.now(UTC)
    with store.write() as conn:
        existing = conn.execute(select(a.c.id).where(a.c.person_id == person.id)).scalar()
        if existing is None:
            account_id = int(
                conn.execute(
                    insert(a)
                    .values(person_id=person.id, password_hash=digest, role=role, created_at=now)
                    .returning(a.c.id)
                ).scalar_one()
            )
            action = "created"
        else:
            account_id = int(existing)
            values: dict[str, Any] = {"role": role, "disabled_at": None}
            if digest is not None:
                values["password_hash"] = digest
            conn.execute(update(a).where(a.c.id == account_id).values(values))
            action = "updated"
    return {"account_id": account_id, "person_id": person.id, "name": person.name, "role": role, "action": action}


def account_of(store: Store, person_ref: str) -> int:
    """The account id of a person (by e-mail, handle, name or #id)."""
    person = store.find_person(person_ref, Viewer.system())
    with store.read() as conn:
        found = conn.execute(select(schema.accounts.c.id).where(schema.accounts.c.person_id == person.id)).scalar()
    if found is None:
        raise NotFoundError(f"{person.name} (#{person.id}) has no account", code="account.not_found")
    return int(found)


@dataclass(frozen=True)
class LoginSubject:
    """What a login identifier names: the one account it resolves to (``None``: none, or several), its password
    hash (``None`` also when the account is disabled or has no local password), and the identifier as
    normalised. :attr:`throttle_key` is what failed attempts count against."""

    identifier: str
    account_id: int | None
    password_hash: str | None

    @property
    def throttle_key(self) -> str:
        if self.account_id is not None:
            return f"account:{self.account_id}"
        # A digest, not the text: people type passwords into the e-mail field too.
        return "login:" + hashlib.sha256(self.identifier.encode()).hexdigest()[:32]


def login_identifier(text: str) -> tuple[AliasKind, str]:
    """The alias a login identifier is compared as: ``@handle`` (any number of ``@`` and spaces before it) is a
    handle, anything else an e-mail address; both case-insensitive, as the store keeps them."""
    text = text.strip()
    if text.startswith("@"):
        return AliasKind.HANDLE, normalize_alias(AliasKind.HANDLE, text.lstrip("@"))
    return AliasKind.EMAIL, normalize_alias(AliasKind.EMAIL, text)


def resolve_login(store: Store, identifier: str) -> LoginSubject:
    """The account a login identifier names: the one place both login and its throttle resolve it."""
    kind, value = login_identifier(identifier)
    normalised = f"{kind.value}:{value}"
    if "\x00" in value:  # no alias holds one (and PostgreSQL refuses it in a query)
        return LoginSubject(normalised, None, None)
    a, pa = schema.accounts, schema.person_aliases
    with store.read() as conn:
        rows = conn.execute(
            select(a.c.id, a.c.password_hash, a.c.disabled_at)
            .join(pa, pa.c.person_id == a.c.person_id)
            .where(pa.c.kind == kind.value, pa.c.value == value)
            .distinct()
            .limit(2)
        ).all()
    if len(rows) != 1:  # nobody, or an identifier several accounts share: it logs into none of them
        return LoginSubject(normalised, None, None)
    row = rows[0]
    usable = row.password_hash if row.disabled_at is None and row.password_hash else None
    return LoginSubject(normalised, int(row.id), usable)


def check_password(store: Store, subject: LoginSubject, password: str) -> int:
    """The account id when ``password`` is the subject's; :class:`AuthInvalid` otherwise (same message, same
    work, whether the account, its password or the password given was missing or wrong)."""
    stored = subject.password_hash or _dummy_hash()
    try:
        _hasher().verify(stored, password)
        ok = subject.password_hash is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or subject.account_id is None:
        raise AuthInvalid("wrong e-mail or password", code="auth.bad_credentials")
    if _hasher().check_needs_rehash(stored):
        with store.write() as conn:
            conn.execute(
                update(schema.accounts)
                .where(schema.accounts.c.id == subject.account_id)
                .values(password_hash=_hasher().hash(password))
            )
    return subject.account_id


def verify_login(store: Store, identifier: str, password: str) -> int:
    """The account id for a correct identifier (e-mail or ``@handle``) and password, unthrottled (the API's
    login route throttles with :class:`whoknows.api.throttle.LoginThrottle` between the two steps)."""
    return check_password(store, resolve_login(store, identifier), password)


def issue_token(
    store: Store,
    account_id: int,
    *,
    kind: TokenKind,
    name: str,
    role: str | None = None,
    ttl: timedelta | None = None,
) -> IssuedToken:
    """A new token for ``account_id``; ``role`` defaults to (and may not exceed) the account's role."""
    a, t = schema.accounts, schema.api_tokens
    name = name.strip()
    if not name or len(name) > 200:
        raise InputError("a token needs a name of 1 to 200 characters", code="token.bad_name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    expires = now + ttl if ttl is not None else None
    with store.write() as conn:
        account_role = conn.execute(select(a.c.role).where(a.c.id == account_id)).scalar()
        if account_role is None:
            raise NotFoundError(f"no account #{account_id}", code="account.not_found")
        scope = check_role(role) if role is not None else str(account_role)
        if ROLES.index(scope) > ROLES.index(str(account_role)):
            raise Forbidden(
                f"a token cannot have more rights ({scope}) than its account ({account_role})", code="token.bad_scope"
            )
        token_id = int(
            conn.execute(
                insert(t)
                .values(
                    token_sha256=token_digest(token),
                    kind=kind,
                    name=name,
                    account_id=account_id,
                    role=scope,
                    created_at=now,
                    expires_at=expires,
                )
                .returning(t.c.id)
            ).scalar_one()
        )
    return IssuedToken(token_id, token, kind, name, scope, expires)


def revoke_token(store: Store, token_id: int, *, account_id: int | None = None) -> bool:
    """Revoke a token (only one of ``account_id``'s when given). False when it was already revoked."""
    t = schema.api_tokens
    where = [t.c.id == token_id] + ([t.c.account_id == account_id] if account_id is not None else [])
    with store.write() as conn:
        if conn.execute(select(t.c.id).where(*where)).first() is None:
            raise NotFoundError(f"no token #{token_id}", code="token.not_found")
        done = conn.execute(
            update(t).where(*where, t.c.revoked_at.is_(None)).values(revoked_at=datetime.now(UTC))
        ).rowcount
    return bool(done)


def authenticate_token(store: Store, token: str, *, kind: TokenKind) -> Principal:
    """The principal behind a presented token of ``kind``; :class:`AuthInvalid` when it is unknown, of the wrong
    kind, expired, revoked, or its account is disabled. The effective role is the lesser of token and account."""
    a, t = schema.accounts, schema.api_tokens
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise AuthInvalid("invalid token", code="auth.invalid_token")
    with store.read() as conn:
        row = conn.execute(
            select(t.c.id, t.c.kind, t.c.role, t.c.expires_at, t.c.revoked_at, a.c.id.label("account_id"),
                   a.c.person_id, a.c.role.label("account_role"), a.c.disabled_at)
            .join(a, a.c.id == t.c.account_id)
            .where(t.c.token_sha256 == token_digest(token))
        ).first()  # fmt: skip
    if row is None or row.kind != kind or row.disabled_at is not None:
        raise AuthInvalid("invalid token", code="auth.invalid_token")
    if row.revoked_at is not None:
        raise AuthInvalid("this token was revoked", code="auth.token_revoked")
    expires = row.expires_at
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if expires is not None and expires <= datetime.now(UTC):
        raise AuthInvalid("this token has expired", code="auth.token_expired")
    role = min(str(row.role), str(row.account_role), key=ROLES.index)
    return Principal(int(row.account_id), int(row.person_id), role, kind, int(row.id))
