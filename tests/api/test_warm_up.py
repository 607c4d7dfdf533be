"""The server warms up on start: the memory index and the expertise model are opened and asked once in the
background, so the first person to ask does not wait for what is loaded on first use."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from conftest import Api
from whoknows.api.app import create_app
from whoknows.api.deps import AppState
from whoknows.derive import derived_dir, expertise_path
from whoknows.expertise import finder
from whoknows.index import Doc, SearchIndex
from whoknows.settings import Settings
from whoknows.store import open_store


def _model_open(data_dir: Path) -> bool:
    want = str(expertise_path(data_dir).resolve())
    return any(key.endswith("|" + want) for key in finder._open_models)


def test_server_start_opens_memory_and_expertise_in_the_background(api: Api) -> None:
    app = create_app(api.settings, store=api.store)
    state: AppState = app.state.whoknows
    finder._open_models.clear()
    derived = derived_dir(api.settings.data_dir, api.store)
    assert state._memory is None and not _model_open(derived)
    with TestClient(app):  # runs the lifespan: the server's start
        deadline = time.monotonic() + 60
        while not (state._memory is not None and _model_open(derived)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state._memory is not None, "the memory index was not opened on start"
        assert _model_open(derived), "the expertise model was not opened on start"


def test_warm_up_without_an_index_does_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, db=str(tmp_path / "wk.db"))
    store = open_store(settings)
    try:
        assert AppState(settings, store).warm_up() is None  # no index yet: the first question reports it
    finally:
        store.close()


def test_common_term_is_a_word_most_documents_use(tmp_path: Path) -> None:
    docs = [
        Doc(1, "renewal pricing for the enterprise plan", 1),
        Doc(2, "pricing of the starter plan", 1),
        Doc(3, "which pricing tier includes SSO", 1),
        Doc(4, "SSO setup with Okta", 1),
    ]
    index = SearchIndex.build(tmp_path / "ix", docs)
    assert index.common_term() == "price"  # the analysed (stemmed) form, which a query analyses to itself
    assert SearchIndex.build(tmp_path / "empty", []).common_term() is None
