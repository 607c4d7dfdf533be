"""Helpers of the web UI tests: the demo organisation with accounts, and the live server's address."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from whoknows.api.accounts import add_account
from whoknows.api.app import create_app
from whoknows.model import AliasKind
from whoknows.settings import Settings
from whoknows.store import Store

PASSWORD = "correct horse battery staple"
ROLES = {"asker": "member", "analyst": "analyst", "admin": "admin"}


@dataclass
class WebOrg:
    store: Store
    settings: Settings
    people: dict[str, int] = field(default_factory=dict)  # role name -> person id
    emails: dict[int, str] = field(default_factory=dict)  # person id -> e-mail

    @property
    def derived(self) -> Path:
        """The database's derived folder in the data dir: what the server uses (the core's ``data_dir``)."""
        from whoknows.derive import derived_dir

        return derived_dir(self.settings.data_dir, self.store)

    def email(self, person_id: int) -> str:
        if person_id not in self.emails:
            person = self.store.get_person(person_id)
            self.emails[person_id] = next(a.value for a in person.aliases if a.kind == AliasKind.EMAIL)
        return self.emails[person_id]

    def account(self, person_id: int, role: str = "member") -> str:
        """Give ``person_id`` an account (idempotent) and return their login e-mail."""
        add_account(self.store, f"#{person_id}", role=role, password=PASSWORD)
        return self.email(person_id)

    def client(self, person_id: int | None = None) -> TestClient:
        """A TestClient with its own cookie jar, logged in as ``person_id`` (if given)."""
        client = TestClient(create_app(self.settings, store=self.store))
        if person_id is not None:
            r = client.post("/api/v1/auth/login", json={"email": self.email(person_id), "password": PASSWORD})
            assert r.status_code == 200, r.text
        return client


@dataclass
class LiveServer:
    url: str
    org: WebOrg
    artifacts: Path
