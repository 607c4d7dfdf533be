"""The expert benchmark's sources: chat files judged by the chat protocol, source detection, the cross-source
choice of the ranker's configuration and the diversity measure."""

from __future__ import annotations

import sys
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select

from whoknows.store import schema

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from expert_sources import CONFIGS, SHIPPED, choose_config, diversity, open_source, source_kind


def chat_xml(messages: list[tuple[str, str, str, str]]) -> str:
    body = "".join(
        f'<message conversation_id="{c}"><ts>{ts}</ts><user>{u}</user><text>{escape(t)}</text></message>\n'
        for c, ts, u, t in messages
    )
    return f"<slack><team_domain>racket</team_domain><channel_name>general</channel_name>\n{body}</slack>\n"


CHAT = [
    ("1", "2017-06-01T10:00:00", "ann", "how do I install the package offline?"),
    ("1", "2017-06-01T10:01:00", "bob", "no idea"),
    ("1", "2017-06-01T10:02:00", "cy", "download the wheel and use pip install --no-index"),
    ("1", "2017-06-01T10:03:00", "ann", "thanks, that worked"),
    ("1", "2017-06-01T10:04:00", "bob", "nice"),
    ("2", "2017-06-02T10:00:00", "dee", "the build is green again"),
    ("3", "2017-06-03T10:00:00", "eve", "anyone around"),
    ("3", "2017-06-03T10:01:00", "eve", "hello?"),
    ("4", "2017-06-04T10:00:00", "bob", "what does raco setup do"),
    ("4", "2017-06-04T10:05:00", "cy", "it compiles collections"),
]


def test_chat_conversations_are_judged_opener_asks_repliers_answer(tmp_path: Path) -> None:
    f = tmp_path / "racket-general-2017.xml"
    f.write_text(chat_xml(CHAT), encoding="utf-8")
    assert source_kind(f) == "chat"
    src = open_source(str(f), tmp_path, 0)
    with src.store.read() as conn:
        person = dict(conn.execute(select(schema.people.c.id, schema.people.c.name)).all())
    judged = [(person[q.asker_id], {person[p]: g for p, g in q.grades.items()}) for q in src.questions]
    # conversation 1: the thanked replier grade 2 (not the first replier); 2 and 3 have no other replier
    assert judged == [("ann", {"bob": 1, "cy": 2}), ("bob", {"cy": 2})]
    src.store.close()


def test_a_source_that_is_neither_a_dump_nor_a_chat_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "Posts.xml").write_text("<posts/>", encoding="utf-8")
    assert source_kind(tmp_path / "site") == "stackexchange"
    other = tmp_path / "notes.xml"
    other.write_text("<notes/>", encoding="utf-8")
    with pytest.raises(SystemExit, match="neither a Stack Exchange dump folder"):
        source_kind(other)
    with pytest.raises(SystemExit, match="neither"):
        source_kind(tmp_path / "missing")


def test_a_source_gets_the_configuration_the_other_sources_prefer() -> None:
    a, b = sorted(c for c in CONFIGS if c != SHIPPED)[:2]
    flat = dict.fromkeys(CONFIGS, 1.0)
    ratios = {
        "held out": {**flat, a: 5.0},  # would pick a for itself
        "x": {**flat, b: 1.5},
        "y": {**flat, b: 1.2, a: 0.8},
    }
    assert choose_config(ratios, exclude="held out") == b
    assert choose_config(ratios) == a  # over every source its large ratio wins
    assert choose_config({"x": flat}) == SHIPPED  # a tie goes to what ships


def test_diversity_counts_distinct_top_three_lists() -> None:
    assert diversity({"q1": [1, 2, 3, 4], "q2": [1, 2, 3, 5], "q3": [3, 2, 1]}) == pytest.approx(2 / 3)
    assert diversity({}) == 0.0
