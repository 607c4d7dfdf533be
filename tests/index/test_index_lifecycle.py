from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from whoknows.errors import WhoknowsError
from whoknows.index import (
    Doc,
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    SearchIndex,
)
from whoknows.index.embedders import StaticEmbedder, train_static
from whoknows.index.search_index import MAX_SEGMENTS


def ids(index: SearchIndex, q: str, mode: str = "lexical") -> list[int]:
    return [h.doc_id for h in index.search(q, 10, mode=mode).hits]  # type: ignore[arg-type]


def grep(folder: Path, needle: str) -> str:
    return subprocess.run(["grep", "-ril", needle, str(folder)], capture_output=True, text=True).stdout


def test_open_roundtrip(toy_index: SearchIndex) -> None:
    again = SearchIndex.open(toy_index.path)
    assert len(again) == 6
    assert ids(again, "vpn password") == ids(toy_index, "vpn password")
    assert ids(again, "vpn password", "hybrid") == ids(toy_index, "vpn password", "hybrid")
    assert isinstance(again.embedder, StaticEmbedder)


def test_add_replaces_and_delete_removes(toy_index: SearchIndex) -> None:
    toy_index.add([Doc(7, "Kubernetes cluster upgrade runbook", 1), Doc(1, "Office wifi password", 1)])
    assert ids(toy_index, "kubernetes") == [7]
    assert 1 not in ids(toy_index, "vpn reset")
    assert 1 in ids(toy_index, "wifi")
    assert toy_index.delete([7, 999]) == 1
    assert ids(toy_index, "kubernetes") == []
    reopened = SearchIndex.open(toy_index.path)
    assert len(reopened) == 6 and ids(reopened, "kubernetes") == []


def test_many_adds_are_merged(toy_index: SearchIndex) -> None:
    for i in range(MAX_SEGMENTS + 3):
        toy_index.add([Doc(100 + i, f"note number {i} about invoices", 1)])
    assert len(toy_index.segments) <= MAX_SEGMENTS
    assert len(ids(toy_index, "invoices")) == 10
    assert len(SearchIndex.open(toy_index.path)) == 6 + MAX_SEGMENTS + 3


def test_erasure_removes_text_from_index_files(tmp_path: Path, toy_docs: list[Doc]) -> None:
    secret = Doc(50, "zanzibarite merger codename", 9)
    docs = [*toy_docs, secret, Doc(51, "zanzibarite again", 9)]
    emb = train_static([d.text for d in docs] * 3, dim=4)  # the secret word is in the embedder's vocabulary
    index = SearchIndex.build(tmp_path / "ix", docs, emb)
    assert grep(index.path, "zanzibarit")  # stored verbatim (stemmed) before erasure: the check is meaningful
    index.delete([50, 51])
    assert grep(index.path, "zanzibarit") == ""
    assert grep(index.path, "merger") == ""
    assert ids(index, "zanzibarite") == []
    assert ids(index, "vpn") != []


def test_rebuild_replaces_old_index(toy_index: SearchIndex) -> None:
    rebuilt = SearchIndex.build(toy_index.path, [Doc(1, "fresh start", 1)])
    assert len(SearchIndex.open(rebuilt.path)) == 1
    assert not any(p.name.endswith((".old", ".building")) for p in rebuilt.path.parent.iterdir())


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError) as err:
        SearchIndex.open(tmp_path / "nowhere")
    assert err.value.code == "index.missing"
    assert isinstance(err.value, WhoknowsError)


def test_stale_index(toy_index: SearchIndex) -> None:
    SearchIndex.open(toy_index.path, fingerprint={"max_id": 6, "count": 6})
    with pytest.raises(IndexStaleError) as err:
        SearchIndex.open(toy_index.path, fingerprint={"max_id": 9, "count": 7})
    assert err.value.code == "index.stale"
    assert toy_index.is_stale({"max_id": 9, "count": 7})
    toy_index.add([Doc(9, "new", 1)], fingerprint={"max_id": 9, "count": 7})
    SearchIndex.open(toy_index.path, fingerprint={"max_id": 9, "count": 7})


def test_corrupt_index(toy_index: SearchIndex) -> None:
    (toy_index.path / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorruptError):
        SearchIndex.open(toy_index.path)
    (toy_index.path / "manifest.json").write_text(json.dumps({"format": 1, "segments": ["seg-missing"]}))
    with pytest.raises(IndexCorruptError) as err:
        SearchIndex.open(toy_index.path)
    assert err.value.code == "index.corrupt"
