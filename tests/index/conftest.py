from __future__ import annotations

from pathlib import Path

import pytest

from whoknows.index import Doc, SearchIndex
from whoknows.index.embedders import StaticEmbedder, train_static

TOY = [
    Doc(1, "How do I reset my VPN password?", 1, "question", 100.0),
    Doc(2, "Pricing discount for annual enterprise plans", 2, "question", 200.0),
    Doc(3, "The VPN client crashes on macOS after the update", 1, "answer", 300.0),
    Doc(4, "Enterprise pricing: annual discount approved by finance", 3, "answer", 400.0),
    Doc(5, "Password policy for the VPN and the wiki", 2, "message", None),
    Doc(6, "Lunch menu on Friday", 3, "message", 600.0),
]


@pytest.fixture
def toy_docs() -> list[Doc]:
    return list(TOY)


@pytest.fixture(scope="session")
def toy_embedder() -> StaticEmbedder:
    return train_static([d.text for d in TOY] * 4, dim=4)


@pytest.fixture
def toy_index(tmp_path: Path, toy_embedder: StaticEmbedder) -> SearchIndex:
    return SearchIndex.build(tmp_path / "index", TOY, toy_embedder, fingerprint={"max_id": 6, "count": 6})
