"""One small organisation behind a real API app for all API tests: the demo org, a private canary channel,
accounts of every role and their API tokens (built once per session: ~2 s)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from whoknows.api.accounts import add_account, issue_token
from whoknows.api.app import create_app
from whoknows.demo import DemoConfig, load_demo
from whoknows.derive import derived_dir, reindex
from whoknows.ingest import ingest
from whoknows.model import Alias, AliasKind, Batch, Message, MessageKind, Person, Space, SpaceKind, Thread, Visibility
from whoknows.settings import Settings
from whoknows.store import Store, open_store

SRC = "test:api"
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
SECRET = "ZQX-CANARY-4471"
PASSWORD = "correct horse battery staple"
CANARY_QUESTION = "What is the walrus discount code for Zanzibar Freight?"


def _person(ext: str, name: str) -> Person:
    return Person(SRC, ext, name, aliases=[Alias(AliasKind.EMAIL, f"{ext}@api.example")])


def canary_batch() -> Batch:
    """A private deal room (Ida and Ole) where Ole answers Ida with a secret; Una, Ada and Alan are outside."""
    return Batch(
        people=[
            _person("ida", "Ida Inside"),
            _person("ole", "Ole Inside"),
            _person("una", "Una Outside"),
            _person("ada", "Ada Admin"),
            _person("alan", "Alan Analyst"),
        ],
        spaces=[Space(SRC, "room", SpaceKind.CHANNEL, "#deal-room", Visibility.PRIVATE, member_refs=["ida", "ole"])],
        threads=[Thread(SRC, "t1", "room", None, T0)],
        messages=[
            Message(SRC, "q1", "t1", "ida", T0, CANARY_QUESTION, kind=MessageKind.QUESTION),
            Message(
                SRC,
                "a1",
                "t1",
                "ole",
                T0 + timedelta(minutes=5),
                f"The walrus discount code for Zanzibar Freight is {SECRET}.",
                reply_to_ref="q1",
                reactions={"white_check_mark": 1},
            ),
            Message(SRC, "a2", "t1", "ida", T0 + timedelta(minutes=9), "Thanks, that worked!", reply_to_ref="a1"),
        ],
    )


@dataclass
class Api:
    client: TestClient
    store: Store
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)  # person ext id -> API token

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data = tmp_path_factory.mktemp("api")
    # Login throttling is off here (many tests log in, some on purpose wrongly); test_api_admin_optout covers it.
    settings = Settings(data_dir=data, db=str(data / "whoknows.db"), api_max_body_bytes=64 * 1024,
                        api_max_upload_bytes=256 * 1024, api_login_max_failures=0)  # fmt: skip
    store = open_store(settings)
    load_demo(store, DemoConfig(messages=1500, people=60), truth_path=data / "truth.json")
    ingest(store, "test", SRC, [canary_batch()])
    reindex(store, derived_dir(data, store))  # where the server looks
    roles = {"ida": "member", "ole": "member", "una": "member", "ada": "admin", "alan": "analyst"}
    api = Api(TestClient(create_app(settings, store=store)), store, settings)
    for ext, role in roles.items():
        account = add_account(store, f"{ext}@api.example", role=role, password=PASSWORD)
        api.tokens[ext] = issue_token(store, account["account_id"], kind="api", name="tests").token
    try:
        yield api
    finally:
        api.client.close()
        store.close()
