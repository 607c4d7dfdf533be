"""Hostile exports that are small on disk but huge once read: each is refused with an error naming the member and
the bound, before the memory is spent (time and traced memory bounded), and nothing stored before is lost."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_slack_export import counts, export_files, write_folder

from whoknows.importers.base import ImportError_
from whoknows.importers.json_bounds import MAX_JSON_DEPTH, MAX_JSON_VALUES
from whoknows.importers.slack_export import SlackExportReader
from whoknows.importers.tickets import TicketsReader
from whoknows.ingest import ingest
from whoknows.store import open_store

#: What refusing one of these bombs may cost at most.
MAX_SECONDS = 5.0
MAX_TRACED_BYTES = 48 << 20


def encoded(files: dict[str, Any]) -> dict[str, bytes]:
    return {k: v if isinstance(v, bytes) else json.dumps(v).encode() for k, v in files.items()}


def write_zip(path: Path, files: dict[str, Any], extra: Callable[[zipfile.ZipFile], None] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, content in encoded(files).items():
            zf.writestr(name, content)
        if extra is not None:
            extra(zf)
    return path


def import_into(db: Path, path: Path) -> None:
    reader = SlackExportReader(path)
    store = open_store(str(db))
    try:
        ingest(store, reader.kind, reader.source, reader.batches())
    finally:
        store.close()


def refused(db: Path, path: Path) -> str:
    """Import ``path`` into ``db`` (holding a good export); the error's message, checking the cost and the data."""
    before = stored(db)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ImportError_) as info:
            import_into(db, path)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < MAX_SECONDS, f"refusing took {seconds:.1f} s"
    assert peak < MAX_TRACED_BYTES, f"refusing used {peak / 2**20:.0f} MiB"
    assert stored(db) == before
    return str(info.value)


def stored(db: Path) -> dict[str, int]:
    """What the database holds, but the record of import runs (a refused run is recorded as failed)."""
    return {k: v for k, v in counts(db).items() if k != "imports"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "x.db"
    import_into(path, write_folder(tmp_path / "good", export_files()))
    return path


def test_five_million_entries_in_a_small_zip_are_refused(tmp_path: Path, db: Path) -> None:
    files = export_files()
    files["general/2020-09-15.json"] = b"[" + b",".join([b"0"] * 5_000_000) + b"]"
    bomb = write_zip(tmp_path / "bomb.zip", files)
    assert bomb.stat().st_size < 64 << 10
    message = refused(db, bomb)
    assert "general/2020-09-15.json" in message and "ratio" in message


def test_entries_past_the_bound_are_refused_in_a_folder(tmp_path: Path, db: Path) -> None:
    files = export_files()
    files["general/2020-09-15.json"] = b"[" + b",".join([b"0"] * (MAX_JSON_VALUES + 1)) + b"]"
    message = refused(db, write_folder(tmp_path / "exp", files))
    assert "2020-09-15.json" in message and f"more than {MAX_JSON_VALUES:,} JSON values" in message


def test_deep_nesting_is_refused(tmp_path: Path, db: Path) -> None:
    files = export_files()
    files["general/2020-09-16.json"] = b"[" * 200_000 + b"]" * 200_000
    message = refused(db, write_zip(tmp_path / "deep.zip", files))
    assert "general/2020-09-16.json" in message and f"the limit is {MAX_JSON_DEPTH}" in message


def test_whitespace_members_are_refused(tmp_path: Path, db: Path) -> None:
    padding = b" " * (15 << 20)

    def pad(zf: zipfile.ZipFile) -> None:
        for i in range(120):
            zf.writestr(f"general/2021-{1 + i // 28:02d}-{1 + i % 28:02d}.json", padding)

    message = refused(db, write_zip(tmp_path / "ws.zip", export_files(), pad))
    assert "general/2021-01-01.json" in message and "ratio" in message
    # Uncompressed (a folder), the whitespace share itself is the bound.
    files = export_files()
    files["general/2021-01-01.json"] = b"[" + b" " * (2 << 20) + b"]"
    message = refused(db, write_folder(tmp_path / "wsdir", files))
    assert "2021-01-01.json" in message and "whitespace" in message


def test_many_members_each_under_the_ratio_floor_are_refused(tmp_path: Path, db: Path) -> None:
    def pad(zf: zipfile.ZipFile) -> None:
        for i in range(200):
            zf.writestr(f"general/2021-{1 + i // 28:02d}-{1 + i % 28:02d}.json", b"[" + b" " * (900 << 10) + b"]")

    message = refused(db, write_zip(tmp_path / "many.zip", export_files(), pad))
    assert "many.zip" in message and "ratio" in message


def test_warnings_per_file_are_capped(tmp_path: Path) -> None:
    files = export_files()
    files["general/2020-09-15.json"] = [0] * 50_000  # 50,000 records that are not messages
    reader = SlackExportReader(write_folder(tmp_path / "exp", files))
    for _ in reader.batches():
        pass
    about = [i for i in reader.issues if i.file.endswith("2020-09-15.json")]
    assert 100 <= len(about) <= 1_001
    assert "not listed" in about[-1].reason


def test_cli_names_the_member_and_exits_nonzero(tmp_path: Path) -> None:
    files = export_files()
    files["general/2020-09-16.json"] = b"[" * 100_000 + b"]" * 100_000
    bomb = write_zip(tmp_path / "deep.zip", files)
    run = subprocess.run(
        [sys.executable, "-m", "whoknows", "--db", str(tmp_path / "c.db"), "import", "slack", str(bomb), "--no-index"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "deep.zip:general/2020-09-16.json" in run.stderr and "Traceback" not in run.stderr


def test_jsonl_record_past_the_bounds_is_skipped_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    good = {"id": 1, "title": "VPN down?", "requester": "ann@acme.com", "created_at": "2024-01-02"}
    deep = "[" * 10_000 + "]" * 10_000
    path.write_text(json.dumps(good) + "\n" + deep + "\n" + json.dumps({**good, "id": 2}) + "\n")
    reader = TicketsReader(path)
    reader.validate()
    got = [m for b in reader.batches() for m in b.messages]
    assert len(got) == 2
    assert any(i.where == "line 2" and f"the limit is {MAX_JSON_DEPTH}" in i.reason for i in reader.issues)


def test_one_enormous_xml_element_costs_bounded_memory(tmp_path: Path) -> None:
    from test_slack_chats import chat_xml

    from whoknows.importers.slack_chats import SlackChatsXmlReader
    from whoknows.importers.xml_records import MAX_TEXT

    path = tmp_path / "python-help-2017.xml"
    path.write_text(chat_xml([("1", "2017-06-16T10:55:34.384740", "Ann", "a" * (40 << 20))]))
    reader = SlackChatsXmlReader(path)
    reader.validate()
    tracemalloc.start()
    try:
        (message,) = [m for b in reader.batches() for m in b.messages]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(message.text) == MAX_TEXT and message.meta["truncated"]
    assert peak < MAX_TRACED_BYTES, f"used {peak / 2**20:.0f} MiB"


def _reference(text: str) -> tuple[int, int]:
    """Deepest nesting and values (containers and separators outside strings), one character at a time."""
    depth = deepest = values = run = 0
    inside = False
    for c in text:
        if c == '"' and run % 2 == 0:
            inside = not inside
        elif not inside and c != '"':
            if c in "[{":
                depth, values = depth + 1, values + 1
                deepest = max(deepest, depth)
            elif c in "]}":
                depth -= 1
            elif c == ",":
                values += 1
        run = run + 1 if c == "\\" else 0
    return deepest, values


@pytest.mark.parametrize("slice_bytes", [1, 2, 7, 1 << 20])
def test_scanner_agrees_with_a_reference_reader(slice_bytes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from whoknows.importers import json_bounds

    monkeypatch.setattr(json_bounds, "SLICE", slice_bytes)  # escapes and strings cut between slices
    rng = random.Random(slice_bytes)
    for _ in range(1_500):
        text = "".join(rng.choice('[[]{},"\\\\ab') for _ in range(rng.randint(1, 60)))
        deepest, values = _reference(text)
        for depth_bound, values_bound in ((deepest, values), (deepest - 1, 10**9), (10**9, values - 1)):
            if depth_bound < 1 or values_bound < 0:
                continue
            bounds = json_bounds.JsonBounds(max_depth=depth_bound, max_values=values_bound)
            try:
                json_bounds.check_json_bounds(text.encode(), bounds)
                passed = True
            except json_bounds.JsonBoundError:
                passed = False
            assert passed == (deepest <= depth_bound and values <= values_bound), (text, bounds)
