"""Refreshes of several imports at once (the server's import threads) are serialised by the derive lock: every
import's knowledge ends up searchable, the bookkeeping is consistent, and none of them fails."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from whoknows.derive import refresh_after_import, reindex
from whoknows.ingest import ingest
from whoknows.memory.ask import MemorySearch
from whoknows.memory.memory_index import index_path
from whoknows.model import Alias, AliasKind, Batch, Message, MessageKind, Person, Space, SpaceKind, Thread, Visibility
from whoknows.settings import Settings
from whoknows.store import open_store

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
WORDS = ["walrus", "pelican", "narwhal", "axolotl"]


def _batch(n: int) -> Batch:
    src = f"test:derive{n}"
    word = WORDS[n]
    people = [Person(src, u, u.title(), aliases=[Alias(AliasKind.EMAIL, f"{u}@d.example")]) for u in ("ask", "help")]
    return Batch(
        people=people,
        spaces=[Space(src, "c", SpaceKind.CHANNEL, f"#general{n}", Visibility.PUBLIC)],
        threads=[Thread(src, "t", "c", None, T0)],
        messages=[
            Message(
                src, "q", "t", "ask", T0, f"How do I configure the {word} gateway timeout?", kind=MessageKind.QUESTION
            ),
            Message(
                src,
                "a",
                "t",
                "help",
                T0 + timedelta(minutes=3),
                f"Set {word}.timeout to 30 seconds in the gateway settings.",
                reply_to_ref="q",
                reactions={"white_check_mark": 2},
            ),
            Message(src, "c", "t", "ask", T0 + timedelta(minutes=7), "Thanks, that worked!", reply_to_ref="a"),
        ],
    )


def test_concurrent_refreshes_all_land(tmp_path: Path) -> None:
    store = open_store(Settings(data_dir=tmp_path, db=str(tmp_path / "w.db")))
    first = ingest(store, "test", "test:derive0", [_batch(0)])
    reindex(store, tmp_path)
    ids = [ingest(store, "test", f"test:derive{n}", [_batch(n)]).import_id for n in (1, 2, 3)]
    errors: list[BaseException] = []

    def refresh(import_id: int) -> None:
        try:
            refresh_after_import(store, tmp_path, import_id)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=refresh, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    state = json.loads((tmp_path / "derive-state.json").read_text())
    assert state["pending"] == [] and state["through"] == max(ids) > first.import_id
    memory = MemorySearch(store, index_path(tmp_path))
    for word in WORDS:
        found = memory.ask(f"{word} gateway timeout", store.viewer(None)).solutions
        assert found and word in str(found[0].solution), word
