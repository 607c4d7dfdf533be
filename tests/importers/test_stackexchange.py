"""The Stack Exchange dump importer: mapping, idempotent re-import, real dumps, and bad or corrupted input."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from sqlalchemy import func, select

from whoknows.importers import ImportError_, reader_for
from whoknows.importers.html_text import html_to_text
from whoknows.importers.stackexchange import StackExchangeReader
from whoknows.importers.xml_records import MAX_TEXT
from whoknows.ingest import ingest
from whoknows.model import Batch, MessageKind
from whoknows.store import open_store, schema

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SITE = "tiny.stackexchange.com"


def real_dump(site: str) -> Path:
    path = (DATA / "stackexchange" / site).resolve()
    if not path.exists():
        pytest.skip(f"real data not available: {path} is missing (../shared/data next to the repo)")
    return path


def rows(root: str, items: list[dict[str, str]]) -> str:
    body = "".join("  <row " + " ".join(f"{k}={quoteattr(v)}" for k, v in item.items()) + " />\n" for item in items)
    return f'\ufeff<?xml version="1.0" encoding="utf-8"?>\n<{root}>\n{body}</{root}>\n'


def post(pid: int, kind: int, **extra: str) -> dict[str, str]:
    return {
        "Id": str(pid),
        "PostTypeId": str(kind),
        "CreationDate": f"2020-01-0{min(pid, 9)}T10:00:00.000",
        "Score": "1",
        **extra,
    }


POSTS = [
    post(
        1,
        1,
        AcceptedAnswerId="3",
        Title="How do I brew a stout?",
        Tags="<brewing><stout>",
        Body="<p>I want a <b>dark</b> beer &amp; foam.</p><pre><code>x = 1\n  y = 2\n</code></pre>",
        OwnerUserId="10",
        ViewCount="42",
        Score="5",
    ),
    post(2, 2, ParentId="1", Body="<p>Use roasted barley.</p>", OwnerUserId="11", Score="2"),
    post(
        3,
        2,
        ParentId="1",
        Body="<p>See <a href='https://x.example/stout'>this guide</a>.</p>",
        OwnerUserId="11",
        Score="7",
    ),
    post(4, 1, Title="Stout recipe?", Tags="<stout>", Body="<p>Dup.</p>", OwnerDisplayName="gone user"),
    post(5, 2, ParentId="4", Body="<p>Answer by a deleted user.</p>", OwnerDisplayName="ghost"),
    post(6, 4, Body="<p>tag wiki excerpt</p>"),
]
USERS = [
    {"Id": "-1", "DisplayName": "Community", "Reputation": "1", "CreationDate": "2020-01-01T00:00:00.000"},
    {
        "Id": "10",
        "DisplayName": "Alice",
        "Reputation": "101",
        "Location": "Berlin",
        "AccountId": "555",
        "CreationDate": "2020-01-01T00:00:00.000",
    },
    {"Id": "11", "DisplayName": "Bob", "Reputation": "2000", "CreationDate": "2020-01-01T00:00:00.000"},
]
COMMENTS = [
    {
        "Id": "100",
        "PostId": "1",
        "Score": "3",
        "Text": "Which yeast?",
        "UserId": "11",
        "CreationDate": "2020-01-02T00:00:00.000",
    },
    {
        "Id": "101",
        "PostId": "3",
        "Score": "0",
        "Text": "Thanks, works!",
        "UserId": "10",
        "CreationDate": "2020-01-04T00:00:00.000",
    },
    {
        "Id": "102",
        "PostId": "6",
        "Score": "0",
        "Text": "on a wiki",
        "UserId": "10",
        "CreationDate": "2020-01-04T00:00:00.000",
    },
]
LINKS = [
    {
        "Id": "1",
        "PostId": "4",
        "RelatedPostId": "1",
        "LinkTypeId": "3",
        "CreationDate": "2020-01-05T00:00:00",
    },
    {
        "Id": "2",
        "PostId": "1",
        "RelatedPostId": "9",
        "LinkTypeId": "1",
        "CreationDate": "2020-01-05T00:00:00",
    },
]
VOTES = [
    {"Id": "1", "PostId": "1", "VoteTypeId": "5", "CreationDate": "2020-01-05T00:00:00"},
    {
        "Id": "2",
        "PostId": "1",
        "VoteTypeId": "8",
        "BountyAmount": "50",
        "CreationDate": "2020-01-05T00:00:00",
    },
]


def make_dump(base: Path, posts: list[dict[str, str]] | None = None, *, skip: tuple[str, ...] = ()) -> Path:
    site = base / SITE
    site.mkdir(parents=True, exist_ok=True)
    files = {
        "Posts.xml": rows("posts", POSTS if posts is None else posts),
        "Users.xml": rows("users", USERS),
        "Comments.xml": rows("comments", COMMENTS),
        "PostLinks.xml": rows("postlinks", LINKS),
        "Votes.xml": rows("votes", VOTES),
    }
    for name, text in files.items():
        if name not in skip:
            (site / name).write_text(text, encoding="utf-8")
    return site


def read_all(path: Path) -> tuple[StackExchangeReader, Batch]:
    reader = StackExchangeReader(path, batch_size=3)
    reader.validate()
    merged = Batch()
    for batch in reader.batches():
        for name in ("people", "spaces", "threads", "messages"):
            getattr(merged, name).extend(getattr(batch, name))
    return reader, merged


def test_mapping(tmp_path: Path) -> None:
    reader, b = read_all(make_dump(tmp_path))
    assert reader.source == f"stackexchange:{SITE}" and reader.issues == []
    (space,) = b.spaces
    assert (space.kind, space.visibility, space.name) == ("qa_site", "public", SITE)
    people = {p.external_id: p for p in b.people}
    assert people["-1"].is_bot and people["10"].name == "Alice" and people["10"].meta["location"] == "Berlin"
    assert [(a.kind, a.value) for a in people["10"].aliases] == [
        ("stackexchange", f"{SITE}:10"),
        ("external", "stackexchange-account:555"),
    ]
    threads = {t.external_id: t for t in b.threads}
    assert set(threads) == {"1", "4"}
    assert threads["1"].url == f"https://{SITE}/questions/1" and threads["1"].title == "How do I brew a stout?"
    assert threads["1"].meta["tags"] == ["brewing", "stout"] and threads["1"].meta["related"] == ["9"]
    assert threads["4"].meta["duplicate_of"] == ["1"]
    m = {x.external_id: x for x in b.messages}
    assert set(m) == {"1", "2", "3", "4", "5", "c100", "c101"}  # the wiki post and its comment are not Q&A
    q = m["1"]
    assert q.kind == MessageKind.QUESTION and q.score == 5 and q.author_ref == "10"
    assert q.text.startswith("How do I brew a stout?\n\nI want a dark beer & foam.")
    assert "x = 1\n  y = 2" in q.text  # code block kept verbatim
    assert q.meta == {"favorites": 1, "bounty_offered": 50}
    assert m["3"].accepted and not m["2"].accepted and m["3"].reply_to_ref == "1"
    assert m["3"].text == "See this guide (https://x.example/stout)."
    assert m["5"].author_ref is None and m["5"].meta["owner_display_name"] == "ghost"
    assert m["4"].meta["owner_display_name"] == "gone user"
    c = m["c101"]
    assert (c.kind, c.thread_ref, c.reply_to_ref, c.author_ref) == (MessageKind.COMMENT, "1", "3", "10")
    assert m["c100"].score == 3 and m["c100"].reply_to_ref == "1"
    # people and the space come before anything that refers to them
    first_thread = next(i for i, x in enumerate(reader.batches()) if x.threads)
    assert first_thread >= 1


def test_html_to_text() -> None:
    html = "<h2>Title</h2><p>a&nbsp;b &lt;tag&gt;</p><ul><li>one</li><li>two</li></ul><img alt='diagram'><br>x"
    assert html_to_text(html) == "Title\n\na\xa0b <tag>\n\n- one\n- two\n\n[diagram]\nx"
    assert html_to_text("plain &amp; simple") == "plain & simple"


def test_answer_before_its_question_and_orphans(tmp_path: Path) -> None:
    posts = [
        post(5, 2, ParentId="7", Body="early"),
        post(7, 1, Title="Late q", Body="b", AcceptedAnswerId="5"),
        post(8, 2, ParentId="99", Body="orphan"),
    ]
    reader, b = read_all(make_dump(tmp_path, posts))
    m = {x.external_id: x for x in b.messages if x.kind != MessageKind.COMMENT}
    assert set(m) == {"5", "7"} and m["5"].accepted
    assert any("question id=99" in i.reason for i in reader.issues)


def test_ingest_is_idempotent_and_picks_up_changes(tmp_path: Path) -> None:
    dump = make_dump(tmp_path / "v1")
    store = open_store(str(tmp_path / "x.db"))
    first = ingest(store, "stackexchange", f"stackexchange:{SITE}", reader_for("stackexchange", dump).batches())
    assert first.stats.counts["messages"]["new"] == 7 and first.stats.counts["threads"]["new"] == 2
    again = ingest(store, "stackexchange", "x", reader_for("stackexchange", dump).batches())
    assert again.stats.total("new") == 0 and again.stats.total("updated") == 0
    assert again.stats.counts["messages"]["skipped"] == 7
    newer = [dict(p) for p in POSTS] + [post(9, 2, ParentId="4", Body="new answer", OwnerUserId="10")]
    newer[1]["Score"] = "12"
    newer_dump = make_dump(tmp_path / "v2", newer)
    third = ingest(store, "stackexchange", "x", reader_for("stackexchange", newer_dump).batches())
    assert third.stats.counts["messages"] == {"new": 1, "updated": 1, "skipped": 6, "rejected": 0}
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(schema.messages)).scalar_one() == 8
        accepted = conn.execute(select(schema.messages.c.external_id).where(schema.messages.c.accepted)).all()
        assert [r[0] for r in accepted] == ["3"]


def test_zip_of_the_folder(tmp_path: Path) -> None:
    folder = make_dump(tmp_path)
    archive = tmp_path / f"{SITE}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"{SITE}/{f.name}")
    reader, b = read_all(archive)
    assert reader.site == SITE and len(b.messages) == 7


def test_zip_bomb_and_escaping_members_are_refused(tmp_path: Path) -> None:
    folder = make_dump(tmp_path)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
        zf.writestr("Badges.xml", b"\0" * (40 * 2**20))  # 40 MiB of zeros: ratio ~1000
    with pytest.raises(ImportError_) as exc:
        reader_for("stackexchange", bomb)
    assert exc.value.code == "import.zip_bomb"
    sneaky = tmp_path / "sneaky.zip"
    with zipfile.ZipFile(sneaky, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
        zf.writestr("../../etc/evil.xml", b"<x/>")
    reader = reader_for("stackexchange", sneaky)
    assert any("escapes the export folder" in str(i) for i in reader.issues)


@pytest.mark.parametrize(
    "site,questions,answers,accepted",
    [("ai.stackexchange.com", 604, 1004, 285), ("beer.stackexchange.com", 591, 1398, 359)],
)
def test_real_dump_counts(tmp_path: Path, site: str, questions: int, answers: int, accepted: int) -> None:
    store = open_store(str(tmp_path / "x.db"))
    reader = reader_for("stackexchange", real_dump(site))
    result = ingest(store, "stackexchange", reader.source, reader.batches())
    assert reader.issues == [] and result.warnings == []
    m = schema.messages
    with store.read() as conn:
        kinds = dict(conn.execute(select(m.c.kind, func.count()).group_by(m.c.kind)).all())
        n_accepted = conn.execute(select(func.count()).where(m.c.accepted)).scalar_one()
        orphans = conn.execute(select(func.count()).where(m.c.kind == "answer", m.c.reply_to_id.is_(None)))
        assert orphans.scalar_one() == 0
    assert (kinds["question"], kinds["answer"], n_accepted) == (questions, answers, accepted)


# -- bad input -----------------------------------------------------------------------------------------------
def test_missing_posts_xml_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match=r"no Posts\.xml"):
        reader_for("stackexchange", make_dump(tmp_path, skip=("Posts.xml",)))


@pytest.mark.parametrize("content", [b"", b"<?xml version=", b'{"json": true}', b"<users></users>"])
def test_unusable_posts_xml_is_fatal(tmp_path: Path, content: bytes) -> None:
    dump = make_dump(tmp_path)
    (dump / "Posts.xml").write_bytes(content)
    with pytest.raises(ImportError_, match=r"Posts\.xml"):
        reader_for("stackexchange", dump)


def test_truncated_and_invalid_xml_keep_what_was_read(tmp_path: Path) -> None:
    dump = make_dump(tmp_path)
    data = (dump / "Posts.xml").read_bytes()
    (dump / "Posts.xml").write_bytes(data[: data.index(b'<row Id="4"') + 30])
    reader, b = read_all(dump)
    assert {x.external_id for x in b.messages if x.kind != "comment"} == {"1", "2", "3"}
    (issue,) = [i for i in reader.issues if "Posts.xml" in i.file]
    assert issue.where == "line 6" and "stopped reading" in issue.reason
    (dump / "Posts.xml").write_bytes(data.replace(b'<row Id="4"', b'<row <<Id="4"'))
    reader, b = read_all(dump)
    assert len([x for x in b.messages if x.kind != "comment"]) == 3 and "line 6" in str(reader.issues[0])


def test_wrong_encoding_control_chars_bad_dates_and_huge_posts(tmp_path: Path) -> None:
    posts = [
        post(1, 1, Title="caf\u00e9 \x01", Body="<p>ok</p>"),
        post(2, 2, ParentId="1", Body="x" * (MAX_TEXT + 10)),
        post(3, 2, ParentId="1", Body="far future", CreationDate="9999-01-01T00:00:00"),
        post(4, 2, ParentId="1", Body="no date", CreationDate="yesterday"),
    ]
    dump = make_dump(tmp_path, posts)
    raw = (dump / "Posts.xml").read_text(encoding="utf-8").replace("\x01", "&#x1;\x02")
    (dump / "Posts.xml").write_bytes(raw.encode("utf-8").replace("caf\u00e9".encode(), b"caf\xe9"))
    reader, b = read_all(dump)
    m = {x.external_id: x for x in b.messages}
    assert m["1"].text.startswith("caf\ufffd") and set(m) >= {"1", "2"} and not {"3", "4"} & set(m)
    assert len(m["2"].text) == MAX_TEXT and m["2"].meta["truncated"]
    reasons = " | ".join(str(i) for i in reader.issues)
    for expected in ("not valid utf-8", "control character", "out of range", "not a timestamp", "cut to"):
        assert expected in reasons


def test_declared_legacy_encoding(tmp_path: Path) -> None:
    dump = make_dump(tmp_path, [post(1, 1, Title="Bi\u00e8re", Body="<p>\u00e9</p>")])
    text = (dump / "Posts.xml").read_text(encoding="utf-8").lstrip("\ufeff").replace("utf-8", "iso-8859-1")
    (dump / "Posts.xml").write_bytes(text.encode("iso-8859-1"))
    reader, b = read_all(dump)
    assert b.messages[0].text == "Bi\u00e8re\n\n\u00e9" and reader.issues == []


def test_random_corruption_never_crashes(tmp_path: Path) -> None:
    """A few hundred byte-flipped dumps: each either fails validation cleanly or imports with warnings."""
    dump = make_dump(tmp_path)
    originals = {f.name: f.read_bytes() for f in dump.iterdir()}
    rng = random.Random(20240601)
    outcomes = {"fatal": 0, "imported": 0}
    for _ in range(300):
        name = rng.choice(sorted(originals))
        data = bytearray(originals[name])
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(data))
            action = rng.random()
            if action < 0.6:
                data[pos] = rng.randrange(256)
            elif action < 0.8:
                del data[pos : pos + rng.randint(1, 40)]
            else:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 5)))
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        (dump / name).write_bytes(bytes(data))
        try:
            read_all(dump)
            outcomes["imported"] += 1
        except ImportError_ as exc:
            assert name in str(exc) or "Posts.xml" in str(exc)
            outcomes["fatal"] += 1
        (dump / name).write_bytes(originals[name])
    assert outcomes["imported"] > 100 and outcomes["fatal"] > 0


def test_failed_import_keeps_db_unchanged_beyond_committed_batches(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "x.db"))
    reader = StackExchangeReader(make_dump(tmp_path), batch_size=2)

    def failing() -> object:
        for n, batch in enumerate(reader.batches()):
            if n == 3:
                raise RuntimeError("disk full")
            yield batch

    with pytest.raises(RuntimeError):
        ingest(store, "stackexchange", reader.source, failing())  # type: ignore[arg-type]
    counts = store.counts()
    with store.read() as conn:
        status = conn.execute(select(schema.imports.c.status)).scalar_one()
    assert status == "failed" and counts["people"] == 3 and counts["messages"] <= 2
    resumed = ingest(store, "stackexchange", reader.source, StackExchangeReader(reader.path).batches())
    assert store.counts()["messages"] == 7 and resumed.stats.counts["people"]["skipped"] == 3
