"""Fixtures: the toy organisation loaded into the store, with its expertise model built."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from expertise_toy import load_toy

from whoknows.expertise import ExpertiseModel, build_expertise
from whoknows.store import Store


@pytest.fixture
def toy(store: Store, tmp_path: Path) -> Iterator[tuple[Store, ExpertiseModel]]:
    load_toy(store)
    yield store, build_expertise(store, tmp_path / "expertise")
