"""Login throttling keyed on the resolved account and the client address, counted in the database.

Issue 16 finding 5: ``@handle``, ``@@handle`` and ``@ handle`` logged into one account and each was a new
throttle key; the counts lived in each server process, and checking them was not atomic with counting, so
concurrent wrong logins and ``--workers N`` got more password checks than the limit. Every test here runs on
SQLite and, when ``WHOKNOWS_TEST_DATABASE_URL`` is set, on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apihelpers import error_of
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import PASSWORD
from whoknows.api.accounts import add_account
from whoknows.api.app import create_app
from whoknows.api.throttle import LoginThrottle, RateLimited
from whoknows.ingest import ingest
from whoknows.model import Alias, AliasKind, Batch, Person
from whoknows.settings import Settings
from whoknows.store import Store, login_failures, open_store

LIMIT = 5


def people_batch() -> Batch:
    """Ann and Bob, each with an e-mail address and a chat handle."""
    return Batch(
        people=[
            Person(
                "test:t", ext, name, aliases=[Alias(AliasKind.EMAIL, f"{ext}@t.example"), Alias(AliasKind.HANDLE, ext)]
            )
            for ext, name in (("ann", "Ann Example"), ("bob", "Bob Example"))
        ]
    )


@dataclass
class Org:
    app: FastAPI
    store: Store
    settings: Settings

    def login(self, identifier: str, password: str, address: str = "10.0.0.1") -> int:
        client = TestClient(self.app, client=(address, 50000))
        return int(client.post("/api/v1/auth/login", json={"email": identifier, "password": password}).status_code)


@pytest.fixture
def org(db_url: str, tmp_path: Path) -> Iterator[Org]:
    settings = Settings(data_dir=tmp_path, db=db_url, api_login_max_failures=LIMIT)
    store = open_store(db_url)
    ingest(store, "test", "test:t", [people_batch()])
    for who in ("ann", "bob"):
        add_account(store, f"{who}@t.example", role="member", password=PASSWORD)
    try:
        yield Org(create_app(settings, store=store), store, settings)
    finally:
        store.close()


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification this process makes (the hash it was checked against), in order."""
    checks: list[str] = []
    lock = threading.Lock()
    verify = PasswordHasher.verify

    def counted(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> Any:
        with lock:
            checks.append(hash if isinstance(hash, str) else hash.decode())
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    return checks


def test_identifier_variants_count_against_one_account(org: Org) -> None:
    variants = ["@ann", "@@ann", "@ ann", "ANN@t.example", " ann@T.EXAMPLE "]
    assert [org.login(v, "wrong password!", f"10.0.1.{i}") for i, v in enumerate(variants)] == [401] * LIMIT
    # The account is locked: another spelling, from an address that never failed, with the right password.
    assert org.login("@@@@ann", PASSWORD, "10.0.2.1") == 429
    assert org.login("ann@t.example", PASSWORD, "10.0.2.2") == 429
    assert org.login("@bob", PASSWORD, "10.0.2.3") == 200  # other accounts are not locked


def test_a_locked_account_refuses_the_right_password_from_a_new_address(org: Org) -> None:
    for i in range(LIMIT):
        assert org.login("ann@t.example", "wrong password!", f"10.0.3.{i}") == 401
    r = TestClient(org.app, client=("192.168.9.9", 50000)).post(
        "/api/v1/auth/login", json={"email": "@@@@ann", "password": PASSWORD}
    )
    err = error_of(r, 429, "auth.rate_limited")
    assert int(r.headers["Retry-After"]) >= 1 and err["details"]["limit"] == LIMIT


def test_unknown_identifiers_are_throttled_and_cost_the_same_work(org: Org, password_checks: list[str]) -> None:
    for i in range(LIMIT):
        assert org.login("@nobody", "wrong password!", f"10.0.4.{i}") == 401
    assert org.login("@@nobody", "wrong password!", "10.0.5.1") == 429  # same normalised identifier
    assert len(password_checks) == LIMIT  # every refused unknown login did one argon2 verification, as a known one
    assert org.login("ann\x00@t.example", PASSWORD, "10.0.5.2") == 401  # not a database error


def test_concurrent_wrong_logins_get_at_most_the_limit_of_password_checks(org: Org, password_checks: list[str]) -> None:
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(40)

    def attempt(i: int) -> None:
        start.wait()
        status = org.login(("ann@t.example", "@ann", "@@ann", "ANN@t.example")[i % 4], "wrong!", f"10.1.{i}.1")
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) == len(password_checks) <= LIMIT, (statuses.count(401), len(password_checks))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_window_address_limit_and_success_reset(store: Store) -> None:
    clock = Clock()
    t = LoginThrottle(store, 2, 60.0, clock=clock)
    t.reserve("account:1", "10.0.0.1")
    t.reserve("account:1", "10.0.0.1")
    with pytest.raises(RateLimited) as exc:
        t.reserve("account:1", "10.0.0.2")
    assert exc.value.details == {"retry_after": 60, "limit": 2, "window_seconds": 60}
    clock.now += timedelta(seconds=61)
    t.reserve("account:1", "10.0.0.1")  # the failures left the window
    for i in range(8):  # 4x the per-account limit from one address, spread over accounts
        t.reserve(f"account:{100 + i}", "10.0.0.9")
    with pytest.raises(RateLimited):
        t.reserve("account:200", "10.0.0.9")
    t.reserve("account:200", "10.0.0.10")
    t.reserve("account:300", None)
    t.succeeded(t.reserve("account:300", None))  # a success clears the account's count, itself included
    t.reserve("account:300", None)
    t.reserve("account:300", None)  # two failures after the reset: allowed
    assert LoginThrottle(store, 0, 60.0).reserve("account:1", "1.1.1.1") is None  # 0 switches it off


def test_old_rows_are_pruned_and_a_flood_of_identifiers_is_capped(store: Store) -> None:
    clock = Clock()
    t = LoginThrottle(store, 5, 60.0, clock=clock, max_rows=40)
    for i in range(3):
        t.reserve("account:7", f"10.9.0.{i}")
    for i in range(200):  # made-up names from ever new addresses
        t.reserve(f"login:{i}", f"10.8.{i // 250}.{i % 250}")
    assert login_failures.count(store, "account:7") == 3  # an account's rows are never dropped early
    assert login_failures.count(store) <= 40 + 3
    clock.now += timedelta(seconds=61)
    t.reserve("login:fresh", None)
    assert login_failures.count(store) == 1  # everything older than the window is gone
