"""The disentangled Slack chats importer: mapping, idempotence, the real racket data, and bad input."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select

from whoknows.importers import ImportError_, reader_for
from whoknows.importers.slack_chats import SlackChatsXmlReader
from whoknows.ingest import ingest
from whoknows.model import Batch, MessageKind
from whoknows.store import open_store, schema

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

MESSAGES = [  # conversation, ts, user, text
    ("1", "2017-06-16T10:51:34.290598", "Kristie", "Is it possible to switch between conda and virtualenv?"),
    ("2", "2017-06-16T10:52:00.000001", "Ann", "hello everyone"),
    ("1", "2017-06-16T10:55:34.384740", "Glennis", "What is it that <@Kristie> needs?"),
    (
        "1",
        "2017-06-16T11:05:27.626658",
        "Kristie",
        "<@Glennis> zappa, see <https://zappa.io|the docs> &amp; more",
    ),
    ("1", "2017-06-16T11:12:26.790435", "Glory", "use a virtualenv"),
]


def chat_xml(messages: list[tuple[str, str, str, str]], *, team: str = "python", channel: str = "help") -> str:
    body = "".join(
        f'  <message conversation_id="{c}">\n    <ts>{ts}</ts>\n    <user>{u}</user>\n'
        f"    <text>{escape(t)}</text>\n  </message>\n"
        for c, ts, u, t in messages
    )
    return (
        f"<slack>\n  <team_domain>{team}</team_domain>\n  <channel_name>{channel}</channel_name>\n"
        f"  <start_date>2017-01-01T00:00:00</start_date>\n{body}</slack>\n"
    )


def read_all(path: Path, **kwargs: object) -> tuple[SlackChatsXmlReader, Batch]:
    reader = SlackChatsXmlReader(path, batch_size=2, **kwargs)  # type: ignore[arg-type]
    reader.validate()
    merged = Batch()
    for batch in reader.batches():
        for name in ("people", "spaces", "threads", "messages"):
            getattr(merged, name).extend(getattr(batch, name))
    return reader, merged


def test_mapping(tmp_path: Path) -> None:
    f = tmp_path / "python-help-2017.xml"
    f.write_text(chat_xml(MESSAGES), encoding="utf-8")
    reader, b = read_all(f)
    assert reader.source == "slack-chats:python" and reader.issues == []
    (space,) = b.spaces
    assert (space.name, space.kind, space.visibility, space.external_id) == (
        "python #help",
        "channel",
        "public",
        "python#help",
    )
    assert {p.name for p in b.people} == {"Kristie", "Ann", "Glennis", "Glory"}
    assert [(a.kind, a.value) for a in b.people[0].aliases] == [("handle", "python:Kristie")]
    t1, t2 = b.threads
    assert t1.external_id == "python#help@2017-06-16T10:51:34.290598" and t1.meta["conversation_id"] == "1"
    assert t1.created_at == datetime(2017, 6, 16, 10, 51, 34, 290598, tzinfo=UTC)
    q, hello, glennis, kristie, glory = b.messages
    assert q.kind == MessageKind.QUESTION and hello.kind == MessageKind.MESSAGE  # "hello" is no question
    assert glennis.reply_to_ref == q.external_id and glennis.thread_ref == t1.external_id
    assert kristie.reply_to_ref == glennis.external_id  # the asker answers the person she mentions
    assert kristie.text == "@Glennis zappa, see the docs (https://zappa.io) & more"
    assert kristie.meta["mentions"] == ["Glennis"]
    assert glory.reply_to_ref == q.external_id and hello.thread_ref == t2.external_id


def test_space_name_and_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "python-help-2017.xml").write_text(chat_xml(MESSAGES[:2]), encoding="utf-8")
    later = [("1", "2018-01-02T00:00:00.5", "Kristie", "How again?")]  # conversation ids restart per file
    (tmp_path / "a" / "python-help-2018.xml").write_text(chat_xml(later), encoding="utf-8")
    _, b = read_all(tmp_path, space_name="Python help")
    assert [s.name for s in b.spaces] == ["Python help"] and len(b.threads) == 3
    assert len({t.external_id for t in b.threads}) == 3


def test_ingest_is_idempotent(tmp_path: Path) -> None:
    f = tmp_path / "python-help-2017.xml"
    f.write_text(chat_xml(MESSAGES), encoding="utf-8")
    store = open_store(str(tmp_path / "x.db"))
    first = ingest(store, "slack-chats", "x", reader_for("slack-chats", f).batches())
    assert first.stats.counts["messages"]["new"] == 5 and first.warnings == []
    again = ingest(store, "slack-chats", "x", reader_for("slack-chats", f).batches())
    assert again.stats.total("new") == 0 and again.stats.total("updated") == 0
    f.write_text(chat_xml([*MESSAGES, ("2", "2017-06-16T12:00:00", "Glory", "hi Ann")]), encoding="utf-8")
    third = ingest(store, "slack-chats", "x", reader_for("slack-chats", f).batches())
    assert third.stats.counts["messages"] == {"new": 1, "updated": 0, "skipped": 5, "rejected": 0}


def test_real_racket_data(tmp_path: Path) -> None:
    folder = (DATA / "slack-chats").resolve()
    if not folder.exists():
        pytest.skip(f"real data not available: {folder} is missing (../shared/data next to the repo)")
    store = open_store(str(tmp_path / "x.db"))
    reader = reader_for("slack-chats", folder)
    result = ingest(store, "slack-chats", reader.source, reader.batches())
    assert reader.issues == [] and result.warnings == []
    counts = store.counts()
    # the data README says "about 22k messages, 2.4k conversations, 85-144 users a year"
    assert (counts["messages"], counts["threads"], counts["spaces"]) == (22_172, 2_364, 1)
    m = schema.messages
    with store.read() as conn:
        questions = conn.execute(select(func.count()).where(m.c.kind == "question")).scalar_one()
        first, last = conn.execute(select(func.min(m.c.created_at), func.max(m.c.created_at))).one()
    assert 1_000 < questions < 2_364 and first.year == 2017 and last.year == 2019


# -- bad input -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("content", [b"", b"<slack><team_dom", b"not xml at all", b"<posts></posts>"])
def test_unusable_file_is_fatal(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "x.xml"
    f.write_bytes(content)
    with pytest.raises(ImportError_, match=r"x\.xml"):
        reader_for("slack-chats", f)


def test_empty_folder_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match=r"no \*\.xml"):
        reader_for("slack-chats", tmp_path)


def test_bad_records_are_skipped_with_line_numbers(tmp_path: Path) -> None:
    bad = [
        *MESSAGES[:2],
        ("1", "1970-01-01T00:00:00", "Old", "epoch zero"),
        ("1", "soon", "X", "bad ts"),
        ("1", "2017-06-16T10:59:00", "", "no user"),
        ("3", "2017-06-16T11:00:00", "Y", " "),
        ("1", "2017-06-16T11:00:01", "Z", "ok \x07 bell"),
        ("1", "2017-06-16T11:00:02", "H", "x" * 1_000_010),
    ]
    f = tmp_path / "python-help-2017.xml"
    f.write_bytes(chat_xml(bad).encode("utf-8").replace(b"epoch zero", b"epoch \xff zero"))
    reader, b = read_all(f)
    assert [m.meta["conversation_id"] for m in b.messages] == ["1", "2", "1", "1"]
    assert b.messages[2].text == "ok  bell" and b.messages[3].meta["truncated"]
    text = " | ".join(str(i) for i in reader.issues)
    for expected in (
        "line 20",
        "out of range",
        "not a timestamp",
        "without user",
        "empty text",
        "control character",
        "not valid utf-8",
        "cut to",
    ):
        assert expected in text


def test_truncated_file_keeps_what_was_read(tmp_path: Path) -> None:
    f = tmp_path / "python-help-2017.xml"
    data = chat_xml(MESSAGES).encode()
    f.write_bytes(data[: data.index(b"Glory") + 3])
    reader, b = read_all(f)
    assert len(b.messages) == 4 and "stopped reading" in reader.issues[0].reason
    assert reader.issues[0].where == "line 27"  # where the file ends


def test_random_corruption_never_crashes(tmp_path: Path) -> None:
    original = chat_xml(MESSAGES * 4).encode()
    f = tmp_path / "python-help-2017.xml"
    rng = random.Random(7)
    fatal = imported = 0
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 6)):
            pos = rng.randrange(len(data))
            if rng.random() < 0.7:
                data[pos] = rng.randrange(256)
            else:
                del data[pos : pos + rng.randint(1, 30)]
        f.write_bytes(bytes(data[: rng.randrange(len(data))] if rng.random() < 0.2 else data))
        try:
            read_all(f)
            imported += 1
        except ImportError_ as exc:
            assert "python-help-2017.xml" in str(exc)
            fatal += 1
    assert imported > 200 and fatal > 0
