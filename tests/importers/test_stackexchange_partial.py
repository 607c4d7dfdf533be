"""A Stack Exchange dump with only Posts.xml (a legitimate partial export): authors come from the posts, and the
expert benchmark's split and evaluation report a tiny site instead of crashing; its truth follows the protocol
and agrees with an independent computation straight from Posts.xml."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from xml.sax.saxutils import quoteattr

import pytest
from sqlalchemy import select

from whoknows.importers.stackexchange import StackExchangeReader
from whoknows.ingest import ingest
from whoknows.model import Batch
from whoknows.store import open_store, schema

REPO = Path(__file__).resolve().parents[2]
SITE = "partial.stackexchange.com"
TOPICS = ("hops bitterness", "yeast fermentation", "barrel aging", "lager temperature", "stout roasted barley")


def rows(root: str, items: list[dict[str, str]]) -> str:
    body = "".join("  <row " + " ".join(f"{k}={quoteattr(v)}" for k, v in item.items()) + " />\n" for item in items)
    return f'<?xml version="1.0" encoding="utf-8"?>\n<{root}>\n{body}</{root}>\n'


def when(day: int, minute: int = 0) -> str:
    return f"2021-{1 + day // 28:02d}-{1 + day % 28:02d}T10:{minute:02d}:00.000"


def posts_only_dump(base: Path, posts: list[dict[str, str]]) -> Path:
    site = base / SITE
    site.mkdir(parents=True, exist_ok=True)
    (site / "Posts.xml").write_text(rows("posts", posts), encoding="utf-8")
    return site


def small_site(questions: int) -> list[dict[str, str]]:
    """``questions`` questions by askers 100+, answered by experts 1..5 (the topic's expert first, accepted), one
    day each; every 7th is answered only by its asker; every 11th has no answer post (only a comment elsewhere)."""
    posts: list[dict[str, str]] = []
    pid = 1
    for i in range(questions):
        topic = i % len(TOPICS)
        qid, asker = pid, str(100 + i % 9)
        q = {"Id": str(qid), "PostTypeId": "1", "CreationDate": when(i), "OwnerUserId": asker, "Score": "1"}
        q |= {"Title": f"Question about {TOPICS[topic]} {i}?", "Body": f"<p>How does {TOPICS[topic]} work?</p>"}
        posts.append(q)
        pid += 1
        if i % 11 == 10:
            continue
        answerers = [asker] if i % 7 == 6 else [str(1 + topic), str(1 + (topic + 1) % len(TOPICS))]
        for j, who in enumerate(answerers):
            posts.append(
                {
                    "Id": str(pid),
                    "PostTypeId": "2",
                    "ParentId": str(qid),
                    "CreationDate": when(i, 10 + j),
                    "OwnerUserId": who,
                    "Body": f"<p>About {TOPICS[topic]}: it depends.</p>",
                    "Score": "2",
                }
            )
            if j == 0:
                q["AcceptedAnswerId"] = str(pid)
            pid += 1
    return posts


def read_all(path: Path) -> tuple[StackExchangeReader, Batch]:
    reader = StackExchangeReader(path, batch_size=3)
    reader.validate()
    merged = Batch()
    for batch in reader.batches():
        ids = {p.external_id for p in batch.people}
        seen = {p.external_id for p in merged.people}
        # a message's author is in its own batch or an earlier one (people are written before messages)
        assert all(m.author_ref is None or m.author_ref in ids | seen for m in batch.messages)
        for name in ("people", "spaces", "threads", "messages"):
            getattr(merged, name).extend(getattr(batch, name))
    return reader, merged


def test_posts_only_dump_names_authors_from_the_posts(tmp_path: Path) -> None:
    posts = [
        {"Id": "1", "PostTypeId": "1", "CreationDate": when(0), "OwnerUserId": "10", "OwnerDisplayName": "Ann Lee"},
        {"Id": "2", "PostTypeId": "2", "ParentId": "1", "CreationDate": when(1), "OwnerUserId": "11"},
        {"Id": "3", "PostTypeId": "2", "ParentId": "1", "CreationDate": when(2), "OwnerUserId": "10"},
        {"Id": "4", "PostTypeId": "2", "ParentId": "1", "CreationDate": when(3), "OwnerDisplayName": "ghost"},
        {"Id": "5", "PostTypeId": "2", "ParentId": "1", "CreationDate": when(4), "OwnerUserId": "-1"},
        {"Id": "6", "PostTypeId": "2", "ParentId": "1", "CreationDate": when(5), "OwnerUserId": "x7"},
        {"Id": "7", "PostTypeId": "2", "ParentId": "1", "CreationDate": when(6), "OwnerUserId": "--5"},
        {"Id": "8", "PostTypeId": "2", "ParentId": "1", "CreationDate": when(7), "OwnerUserId": "\u00b2"},
    ]
    for p in posts:
        p.setdefault("Body", "<p>text</p>")
    site = posts_only_dump(tmp_path, posts)
    reader, b = read_all(site)
    people = {p.external_id: p for p in b.people}
    assert set(people) == {"10", "11", "-1"} and len(b.people) == 3  # each person once
    assert people["10"].name == "Ann Lee" and people["11"].name == "user 11"
    assert people["-1"].is_bot and not people["10"].is_bot and not people["10"].listed
    assert [(a.kind, a.value) for a in people["10"].aliases] == [("stackexchange", f"{SITE}:10")]
    m = {x.external_id: x for x in b.messages}
    assert (m["1"].author_ref, m["2"].author_ref, m["3"].author_ref) == ("10", "11", "10")
    assert m["4"].author_ref is None and m["4"].meta["owner_display_name"] == "ghost"
    # a bad owner id: a clear warning naming file and post, the post kept without an author
    assert m["6"].author_ref is None and m["6"].meta["owner_user_id"] == "x7"
    bad = [i for i in reader.issues if "x7" in str(i)]
    assert len(bad) == 1 and "Posts.xml" in str(bad[0]) and "post id=6" in str(bad[0])
    assert m["7"].author_ref is None and m["8"].author_ref is None  # "--5" and "²" are not numbers either
    assert sum("is not a number" in str(i) for i in reader.issues) == 3
    assert any("no Users.xml" in str(i) for i in reader.issues)

    store = open_store(tmp_path / "wk.db")
    ingest(store, reader.kind, reader.source, StackExchangeReader(site).batches())
    with store.read() as conn:
        names = dict(conn.execute(select(schema.people.c.external_id, schema.people.c.name)).all())
        authored = conn.execute(
            select(schema.messages.c.external_id).where(schema.messages.c.author_id.is_not(None))
        ).all()
    assert names == {"10": "Ann Lee", "11": "user 11", "-1": "user -1"}
    assert {r[0] for r in authored} == {"1", "2", "3", "5"}
    store.close()


@pytest.fixture
def be() -> Iterator[ModuleType]:
    """bench/bench_experts.py as a module."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import bench_experts

        yield bench_experts
    finally:
        sys.path.remove(str(REPO / "bench"))


def bench(be: ModuleType, site: Path, work: Path, cuts: list[float]) -> dict[str, object]:
    """``bench_site`` on a dump folder, as the benchmark's main runs it."""
    work.mkdir(parents=True, exist_ok=True)
    src = be.open_source(str(site), work, 0)
    try:
        report, _ = be.bench_site(src, work, False, 50, cuts, 0.0)
    finally:
        src.store.close()
    assert isinstance(report, dict)
    return report


def test_tiny_sites_are_reported_not_crashed(tmp_path: Path, be: ModuleType) -> None:
    # no answered question at all, then too few test questions: reported as skipped with the counts
    empty = posts_only_dump(tmp_path / "a", small_site(1)[:1])
    got = bench(be, empty, tmp_path / "wa", [])
    assert got["skipped"] == "skipped: 0 test questions (fewer than 10)" and got["test"] == 0
    few = posts_only_dump(tmp_path / "b", small_site(12))
    got = bench(be, few, tmp_path / "wb", [0.5])
    assert str(got["skipped"]).startswith("skipped: 3 test questions")
    assert be.split_site([]).skipped == "skipped: 0 test questions (fewer than 10)"


def test_small_posts_only_site_is_scored_by_the_protocol(tmp_path: Path, be: ModuleType) -> None:
    site = posts_only_dump(tmp_path, small_site(66))
    store = open_store(tmp_path / "wk.db")
    reader = StackExchangeReader(site)
    ingest(store, reader.kind, reader.source, reader.batches())
    questions = be.protocol_questions(store)
    with store.read() as conn:
        ext = dict(conn.execute(select(schema.people.c.id, schema.people.c.external_id)).all())
    # 66 questions, 6 without an answer post; the self-answered ones are kept, judged by their asker
    assert len(questions) == 60
    self_only = [q for q in questions if set(q.grades) == {q.asker_id}]
    assert len(self_only) == 9 and all(q.grades[q.asker_id] == 2 for q in self_only)
    assert all(sorted(q.grades.values()) == [1, 2] for q in questions if q not in self_only)
    assert {ext[p] for q in questions for p in q.grades} >= {"1", "2", "3", "4", "5"}
    store.close()

    out = bench(be, site, tmp_path / "work", [])
    assert "skipped" not in out and out["test"] == 12
    check = out["independent_check"]
    assert isinstance(check, dict) and check["ok"] and check["test"] == 12 and check["answered"] == 60
    table = out["table"]
    assert isinstance(table, dict)
    assert abs(table["most-active"]["mrr"] - check["most_active_mrr"]) <= be.MOST_ACTIVE_TOLERANCE


def test_no_answer_post_means_no_answerers(tmp_path: Path, be: ModuleType) -> None:
    """A question with comments but no answer post is not answered (commenters are not answerers)."""
    site = posts_only_dump(tmp_path, small_site(2)[:1])
    (site / "Comments.xml").write_text(
        rows("comments", [{"Id": "9", "PostId": "1", "CreationDate": when(0, 5), "UserId": "42", "Text": "try X"}]),
        encoding="utf-8",
    )
    store = open_store(tmp_path / "wk.db")
    reader = StackExchangeReader(site)
    ingest(store, reader.kind, reader.source, reader.batches())
    with store.read() as conn:
        assert conn.execute(select(schema.people.c.name).where(schema.people.c.external_id == "42")).scalar() == (
            "user 42"
        )
    assert be.protocol_questions(store) == []
    store.close()
