"""Property-based fuzzing of every importer, end to end (reader → ingest → store).

The byte-flipping tests next to each importer check the readers alone; here hypothesis builds *structurally
plausible* exports and breaks them the way real exports break: wrong JSON types in any field, huge, negative,
NaN and fractional numbers, lone surrogates, control characters and NULs, odd or lying encodings (UTF-16,
Latin-1, BOMs, unknown charsets), broken MIME, XML entities and truncation, CSV with missing/duplicated columns,
truncated zips and plain random bytes. Every example goes through :func:`whoknows.ingest.ingest` into one store
that already holds other data, and:

* the only exception allowed is a :class:`~whoknows.errors.WhoknowsError` whose message is not empty and says
  where (the file or folder it is about);
* a failure leaves the store exactly as the last committed batch left it (nothing of the failed batch is
  written) and the data imported before the fuzzing is untouched;
* a success counts what it skipped or rejected (warnings, ``rejected``), never more rows than the input has.

CI runs 150 examples per format; ``-m extended`` runs 1,000 per format.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from whoknows.errors import WhoknowsError
from whoknows.importers import reader_for
from whoknows.ingest import ingest
from whoknows.store import Store, open_store, schema

CI_EXAMPLES = 150
EXTENDED_EXAMPLES = int(os.environ.get("WHOKNOWS_FUZZ_EXAMPLES", "1000"))
SENTINEL_CSV = (
    "note_id,account,author,created_at,body\n"
    "s1,Globex,ann@acme.example,2024-02-01 09:00,Does anyone have a pharma reference for Globex?\n"
    "s2,Globex,bob@acme.example,2024-02-01 10:00,Try Initech; they bought the same bundle.\n"
)

# -- weird values ------------------------------------------------------------------------------------------------
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**63, -(2**63) - 1, 10**20, 253402300800, -62135596801]),
    st.floats(allow_nan=True, allow_infinity=True),
)
NASTY_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8", exclude_categories=()), max_size=20),
    st.sampled_from(["", " ", "\x00", "\ud800", "\ufeff", "\u202e", "a\x00b", "x" * 5000, "💥" * 300, "null",
                     "NaN", "-1", "9" * 40, "1e308", "2024-13-45T25:61:61Z", "0000-00-00", "9999-12-31T23:59:59",
                     "<@U1>", "&amp;", "]]>", "\r\n", "=?utf-8?b?###?=", "Ann <>", "@", "<script>x</script>"]),
)  # fmt: skip
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, NASTY_TEXT)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY_TEXT, inner, max_size=3), max_leaves=6
)
#: JSON no record-by-record mutation produces: nesting deeper than any parser's recursion limit, numbers too large
#: for a float, keys repeated, a lone high surrogate escape.
RAW_JSON = st.sampled_from([
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'[{"ts": 1e999, "user": "U1", "text": "x", "type": "message"}]',
    b'[{"ts": "1e999", "created": -1e999, "user": "U1", "text": "x"}]',
    b'{"ticket_id": "T", "ticket_id": {"x": 1}, "subject": "s", "requester": "a", "created_at": 1e30}',
    rb'[{"id": "U9", "name": "\ud800", "profile": {"email": "\ud800@x"}}]',
    b'{"note_id": 1e400, "account": [], "author": {}, "created_at": true, "body": 5}',
])  # fmt: skip
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "utf-32-le"])


def json_bytes(value: Any) -> bytes:
    """JSON as an exporter would write it (NaN/Infinity are what Python's json writes for them)."""
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


def encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


@st.composite
def mutated_records(draw: st.DrawFn, records: list[dict[str, Any]], max_mutations: int = 4) -> list[Any]:
    """``records`` with a few fields replaced by weird values, deleted, or whole records replaced."""
    out: list[Any] = json.loads(json.dumps(records))
    for _ in range(draw(st.integers(0, max_mutations))):
        i = draw(st.integers(0, len(out) - 1))
        action = draw(st.sampled_from(["field", "field", "field", "drop", "record", "nested"]))
        if not isinstance(out[i], dict) or action == "record":
            out[i] = draw(JSON_VALUES)
        elif action == "drop" and out[i]:
            out[i].pop(draw(st.sampled_from(sorted(out[i]))))
        elif action == "nested":
            key = draw(st.sampled_from(sorted(out[i]) or ["x"]))
            out[i][key] = draw(st.lists(JSON_VALUES, max_size=3) | st.dictionaries(NASTY_TEXT, JSON_VALUES, max_size=3))
        else:
            key = draw(st.sampled_from([*sorted(out[i]), "extra"]))
            out[i][key] = draw(JSON_VALUES)
    return out


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """Bytes truncated, with a slice replaced, or unharmed."""
    how = draw(st.sampled_from(["keep", "keep", "truncate", "splice"]))
    if how == "truncate" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "splice" and data:
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + draw(st.binary(max_size=16)) + data[at + draw(st.integers(0, 16)) :]
    return data


# -- exports -----------------------------------------------------------------------------------------------------
Files = dict[str, bytes]  # relative path -> content; "" means: the file itself is the export


def slack_base() -> dict[str, list[dict[str, Any]]]:
    t0 = 1_600_000_000
    return {
        "users.json": [
            {"id": "U1", "team_id": "T1", "name": "ann", "real_name": "Ann Lee", "tz": "Europe/Berlin",
             "profile": {"email": "ann@acme.com", "display_name": "Ann", "real_name": "Ann Lee"}},
            {"id": "U2", "team_id": "T1", "name": "bob", "profile": {"real_name": "Bob Roe", "email": "bob@acme.com"}},
            {"id": "UB", "team_id": "T1", "name": "ci", "is_bot": True, "profile": {"real_name": "CI"}},
        ],
        "channels.json": [{"id": "C1", "name": "general", "created": t0 - 100, "members": ["U1", "U2"],
                           "purpose": {"value": "all"}, "topic": {"value": "hi"}}],
        "groups.json": [{"id": "G1", "name": "sales", "created": t0, "members": ["U1", "U2"]}],
        "general/2020-09-13.json": [
            {"type": "message", "user": "U1", "ts": f"{t0 + 10}.000100", "thread_ts": f"{t0 + 10}.000100",
             "reply_count": 1, "text": "How do I reset the <https://vpn.acme.com|VPN>, <@U2>?",
             "reactions": [{"name": "eyes", "users": ["U2"], "count": 1}]},
            {"type": "message", "user": "U2", "ts": f"{t0 + 20}.000200", "thread_ts": f"{t0 + 10}.000100",
             "text": "Use the portal &amp; restart", "edited": {"user": "U2", "ts": f"{t0 + 25}.0"},
             "files": [{"id": "F1", "name": "a.pdf", "title": "A"}]},
            {"type": "message", "subtype": "bot_message", "bot_id": "B9", "username": "deploy", "ts": f"{t0 + 30}.0",
             "text": "", "attachments": [{"fallback": "Deployed"}]},
        ],
        "sales/2020-09-13.json": [{"type": "message", "user": "U1", "ts": f"{t0 + 40}.0", "text": "Deal closed"}],
    }  # fmt: skip


@st.composite
def slack_exports(draw: st.DrawFn) -> tuple[str, Files]:
    files: Files = {}
    for name, records in slack_base().items():
        if draw(st.integers(0, 9)) == 0:
            continue  # a file missing
        value: Any = draw(mutated_records(records)) if draw(st.booleans()) else records
        if draw(st.integers(0, 14)) == 0:
            value = draw(JSON_VALUES)  # the file is not a list at all
        content = json_bytes(value)
        if draw(st.integers(0, 19)) == 0:
            content = draw(RAW_JSON)
        if draw(st.integers(0, 9)) == 0:
            content = encode(content.decode("utf-8", "surrogatepass"), draw(ENCODINGS))
        files[name] = draw(damaged(content)) if draw(st.integers(0, 5)) == 0 else content
    if draw(st.booleans()):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            prefix = draw(st.sampled_from(["", "export/", "../", "a/b/"]))
            for name, content in files.items():
                zf.writestr(prefix + name, content)
        return "export.zip", {"": draw(damaged(buf.getvalue()))}
    return "export", files


def xml_doc(root: str, rows: list[dict[str, str]], encoding: str = "utf-8") -> str:
    body = "".join("  <row " + " ".join(f"{k}={quoteattr(v)}" for k, v in r.items()) + " />\n" for r in rows)
    return f'<?xml version="1.0" encoding="{encoding}"?>\n<{root}>\n{body}</{root}>\n'


XML_ATTR = st.one_of(
    NUMBERS.map(lambda n: str(n)),
    NASTY_TEXT.map(lambda s: "".join(c for c in s if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff"))),
)


@st.composite
def mutated_rows(draw: st.DrawFn, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    out = [dict(r) for r in rows]
    for _ in range(draw(st.integers(0, 5))):
        row = out[draw(st.integers(0, len(out) - 1))]
        key = draw(st.sampled_from([*sorted(row), "Extra"]))
        if draw(st.integers(0, 3)) == 0:
            row.pop(key, None)
        else:
            row[key] = draw(XML_ATTR)
    return out


def se_post(pid: str, kind: str, **extra: str) -> dict[str, str]:
    return {"Id": pid, "PostTypeId": kind, "CreationDate": "2020-01-02T10:00:00.000", "Score": "1", **extra}


SE_FILES = {
    "Posts.xml": ("posts", [
        se_post("1", "1", AcceptedAnswerId="3", Title="How to brew a stout?", Tags="<stout>",
                Body="<p>dark &amp; foam</p>", OwnerUserId="10", ViewCount="4"),
        se_post("2", "2", ParentId="1", Body="<p>Roasted barley.</p>", OwnerUserId="11"),
        se_post("3", "2", ParentId="1", Body="<p>See <a href='x'>guide</a></p>", OwnerUserId="11", Score="7"),
        se_post("4", "1", Title="Dup?", Body="<p>Dup.</p>", OwnerDisplayName="gone"),
    ]),
    "Users.xml": ("users", [
        {"Id": "10", "DisplayName": "Alice", "Reputation": "101", "AccountId": "555",
         "CreationDate": "2020-01-01T00:00:00.000"},
        {"Id": "11", "DisplayName": "Bob", "Reputation": "2000", "CreationDate": "2020-01-01T00:00:00.000"},
    ]),
    "Comments.xml": ("comments", [
        {"Id": "100", "PostId": "3", "Score": "0", "Text": "Thanks, works!", "UserId": "10",
         "CreationDate": "2020-01-04T00:00:00.000"},
    ]),
    "PostLinks.xml": ("postlinks", [
        {"Id": "1", "PostId": "4", "RelatedPostId": "1", "LinkTypeId": "3", "CreationDate": "2020-01-05T00:00:00.000"},
    ]),
}  # fmt: skip


@st.composite
def stackexchange_dumps(draw: st.DrawFn) -> tuple[str, Files]:
    files: Files = {}
    for name, (root, rows) in SE_FILES.items():
        if name != "Posts.xml" and draw(st.integers(0, 5)) == 0:
            continue
        rows = draw(mutated_rows(rows)) if draw(st.booleans()) else rows
        encoding = draw(st.sampled_from(["utf-8", "utf-8", "iso-8859-1", "utf-16", "x-unknown", "ascii"]))
        text = xml_doc(root, rows, encoding)
        data = encode(text, encoding if encoding not in ("x-unknown", "ascii") else "utf-8")
        if draw(st.integers(0, 6)) == 0:
            data = data.replace(b"<row ", b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><row ', 1)
        files[name] = draw(damaged(data)) if draw(st.integers(0, 4)) == 0 else data
    if draw(st.integers(0, 3)) == 0:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for name, content in files.items():
                zf.writestr(name, content)
        return "site.stackexchange.com.zip", {"": draw(damaged(buf.getvalue()))}
    return "site.stackexchange.com", files


@st.composite
def slack_chats_files(draw: st.DrawFn) -> tuple[str, Files]:
    messages = [("1", "2017-06-16T10:51:34.290598", "Kristie", "Is it possible to switch conda?"),
                ("1", "2017-06-16T10:55:34.384740", "Glennis", "What is it that <@Kristie> needs?"),
                ("2", "2017-06-16T11:05:27.626658", "Ann", "hello &amp; everyone")]  # fmt: skip
    parts = []
    for conv, ts, user, text in messages:
        fields = {"conv": conv, "ts": ts, "user": user, "text": text}
        for key in draw(st.lists(st.sampled_from(sorted(fields)), max_size=2)):
            fields[key] = draw(XML_ATTR)
        tag = draw(st.sampled_from(["ts", "ts", "ts", "user", "text"]))
        body = "".join(f"<{k}>{_xml_text(v)}</{k}>" for k, v in fields.items() if k != "conv" and k != tag)
        if draw(st.integers(0, 4)):
            body += f"<{tag}>{_xml_text(fields[tag])}</{tag}>"  # sometimes a child is missing
        parts.append(f"<message conversation_id={quoteattr(fields['conv'])}>{body}</message>\n")
    team = draw(st.sampled_from(["python", "", "a/b", "x" * 300]))
    doc = f"<slack><team_domain>{team}</team_domain><channel_name>help</channel_name>\n{''.join(parts)}</slack>\n"
    data = encode(doc, draw(ENCODINGS))
    return "python-help-2017.xml", {"": draw(damaged(data))}


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;") if "&amp;" not in value else value


TICKETS = [
    {"ticket_id": "T-1", "queue": "Billing", "subject": "Invoice missing VAT", "requester": "Ann Lee <ann@acme.com>",
     "assignee": "bob@acme.com", "status": "solved", "created_at": "2024-01-02T09:00:00Z",
     "description": "Why no VAT?",
     "comments": [{"author": "bob@acme.com", "created_at": "2024-01-02T11:00:00Z", "body": "Re-issued.", "public": True,
                   "id": "c1"}, {"author": "ann@acme.com", "created_at": 1704193200, "body": "Thanks!"}]},
    {"ticket_id": "T-2", "queue": "IT", "subject": "Laptop", "requester": "Carl", "status": "open",
     "created_at": "02.01.2024 10:00", "comments": []},
]  # fmt: skip
CRM = [
    {"note_id": "n1", "account": "Globex", "opportunity": "Renewal", "stage": "Negotiation",
     "author": "ann@acme.com", "created_at": "2024-02-01 09:00", "body": "Does anyone have a pharma reference?"},
    {"note_id": "n2", "account": "Globex", "opportunity": "Renewal", "author": "bob@acme.com",
     "created_at": "2024-02-01 10:00", "body": "Try Initech.", "reply_to": "n1"},
]  # fmt: skip


@st.composite
def tabular_files(draw: st.DrawFn, records: list[dict[str, Any]]) -> tuple[str, Files]:
    rows = draw(mutated_records(records, max_mutations=5))
    encoding = draw(ENCODINGS)
    if draw(st.booleans()):  # JSON Lines
        lines = [json_bytes(r).decode("utf-8", "surrogatepass") for r in rows]
        if draw(st.integers(0, 4)) == 0:
            junk = draw(st.sampled_from(["{", "[]", "", "nul", "{}"]) | RAW_JSON.map(lambda b: b.decode()))
            lines.insert(draw(st.integers(0, len(lines))), junk)
        ext = draw(st.sampled_from(["jsonl", "ndjson", "json"]))
        return f"export.{ext}", {"": draw(damaged(encode("\n".join(lines) + "\n", encoding)))}
    flat = [r for r in rows if isinstance(r, dict)] or [{}]
    header = sorted({k for r in flat for k in r if isinstance(k, str)} | set(records[0]))
    if draw(st.integers(0, 4)) == 0:
        header.remove(draw(st.sampled_from(header)))  # a required column may go missing
    if draw(st.integers(0, 6)) == 0:
        header.append(header[0])  # a duplicated column
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(header)
    for r in flat:
        writer.writerow(["" if r.get(h) is None else str(r.get(h)) for h in header])
    return f"export.{draw(st.sampled_from(['csv', 'tsv', 'CSV']))}", {
        "": draw(damaged(encode(buf.getvalue(), encoding)))
    }


EMAIL_HEADERS = st.sampled_from(["Date", "From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References",
                                 "Content-Type", "Content-Transfer-Encoding", "MIME-Version"])  # fmt: skip
EMAIL_VALUES = st.one_of(
    XML_ATTR,
    st.sampled_from(["Mon, 99 Foo 99999 99:99:99 +9999", "Thu, 1 Jan 1970 00:00:00 +0000", "0", "-1",
                     "text/plain; charset=x-unknown", "text/plain; charset=utf-7", "text/html; charset=idna",
                     "multipart/mixed", 'multipart/mixed; boundary=""', "message/rfc822", "base64",
                     "quoted-printable", "x-uuencode", "=?utf-8?b?####?=", "=?x-bad?q?=FF?=", "<>", "<" * 200,
                     " ".join(f"<r{i}@x>" for i in range(300)), "undisclosed-recipients:;", "a@b@c"]),
)  # fmt: skip


def mail(i: int, reply: bool) -> dict[str, str]:
    headers = {"Message-ID": f"<m{i}@acme.com>", "From": f"User {i} <u{i}@acme.com>", "To": "team@acme.com",
               "Subject": "Re: VPN reset" if reply else "VPN reset", "Date": f"Mon, {2 + i} Mar 2020 09:00:00 +0000",
               "Content-Type": "text/plain; charset=utf-8"}  # fmt: skip
    if reply:
        headers["In-Reply-To"] = headers["References"] = "<m0@acme.com>"
    return headers


@st.composite
def email_exports(draw: st.DrawFn) -> tuple[str, Files]:
    mails = []
    for i in range(3):
        headers = mail(i, i > 0)
        for _ in range(draw(st.integers(0, 3))):
            headers[draw(EMAIL_HEADERS)] = draw(EMAIL_VALUES)
        body = draw(st.sampled_from(["How do I reset the VPN?", "Use the portal.\n\n> quoted\n-- \nBob",
                                     "SGVsbG8gd29ybGQ=", "==not base64==", "=E9=\n=ZZ", "<p>html &amp; </p>",
                                     "--XX\nContent-Type: text/plain\n\npart\n--XX--"]))  # fmt: skip
        head = "".join(f"{k}: {v.replace(chr(10), ' ').replace(chr(13), ' ')}\n" for k, v in headers.items())
        mails.append(encode(head + "\n" + body + "\n", draw(st.sampled_from(["utf-8", "latin-1", "utf-16"]))))
    layout = draw(st.sampled_from(["mbox", "mbox", "eml", "maildir"]))
    if layout == "mbox":
        data = b"".join(b"From u@acme.com Mon Mar  2 09:00:00 2020\n" + m + b"\n" for m in mails)
        return "support.mbox", {"": draw(damaged(data))}
    if layout == "eml":
        return "mails", {f"{i}.eml": draw(damaged(m)) for i, m in enumerate(mails)}
    return "Maildir", {f"cur/{i}.host:2,S": draw(damaged(m)) for i, m in enumerate(mails)} | {
        "new/.keep": b"",
        "tmp/.keep": b"",
    }


@st.composite
def random_bytes(draw: st.DrawFn) -> tuple[str, Files]:
    name = draw(st.sampled_from(["x.zip", "x.xml", "x.csv", "x.jsonl", "x.mbox", "x.json", "x"]))
    return name, {"": draw(st.binary(max_size=300))}


FORMATS: dict[str, Callable[[], st.SearchStrategy[tuple[str, Files]]]] = {
    "slack": slack_exports,
    "stackexchange": stackexchange_dumps,
    "slack-chats": slack_chats_files,
    "tickets": lambda: tabular_files(TICKETS),
    "crm": lambda: tabular_files(CRM),
    "email": email_exports,
}


# -- the harness -------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    imported: int = 0
    refused: int = 0
    warnings: int = 0
    messages: Counter[str] = field(default_factory=Counter)


@pytest.fixture(scope="module")
def fuzz_store() -> Iterator[tuple[Store, Path]]:
    with tempfile.TemporaryDirectory(prefix="wk-fuzz-") as tmp:
        root = Path(tmp)
        store = open_store(str(root / "fuzz.db"))
        (root / "sentinel.csv").write_text(SENTINEL_CSV)
        reader = reader_for("crm", root / "sentinel.csv", space_name="sentinel")
        ingest(store, reader.kind, reader.source, reader.batches())
        yield store, root
        store.close()


def sentinel(store: Store) -> list[tuple[str, str]]:
    m = schema.messages
    with store.read() as conn:
        rows = conn.execute(select(m.c.external_id, m.c.text).where(m.c.source == "crm:sentinel").order_by(m.c.id))
        return [(str(e), str(t)) for e, t in rows]


def write_export(root: Path, name: str, files: Files) -> Path:
    path = root / uuid.uuid4().hex / name
    for rel, content in files.items():
        target = path / rel if rel else path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    if not files:
        path.mkdir(parents=True)
    return path


def import_once(store: Store, kind: str, path: Path, outcome: Outcome) -> None:
    """One import; any failure must be a WhoknowsError that says where, and must not leave a partial batch."""
    committed = store.counts()

    def snapshot(_batch: object, _stats: object) -> None:
        nonlocal committed
        committed = store.counts()

    try:
        reader = reader_for(kind, path, batch_size=50)
        reader.total_hint()  # what the CLI asks for its progress bar
        result = ingest(store, reader.kind, reader.source, reader.batches(), progress=snapshot)
    except WhoknowsError as exc:
        message = str(exc)
        assert message.strip(), f"empty error message: {exc!r}"
        names = {path.name, *(p.name for p in path.rglob("*"))} if path.is_dir() else {path.name}
        assert any(n and n in message for n in names) or kind in message, f"error does not say where: {message!r}"
        assert store.counts() == committed, "a failed batch left rows behind"
        outcome.refused += 1
        outcome.messages[re.sub(r"/tmp/\S+?/[0-9a-f]{32}/", "", message)[:90]] += 1
    else:
        outcome.imported += 1
        outcome.warnings += len(reader.issues) + len(result.warnings)
        for table, c in result.stats.counts.items():
            assert min(c.values()) >= 0, (table, c)


def run_fuzz(kind: str, store: Store, root: Path, examples: int) -> Outcome:
    before = sentinel(store)
    outcome = Outcome()
    strategy = st.one_of(FORMATS[kind](), random_bytes()) if kind != "slack" else FORMATS[kind]()

    @settings(max_examples=examples, deadline=None, database=None, derandomize=examples <= CI_EXAMPLES,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=strategy)
    def one(case: tuple[str, Files]) -> None:
        name, files = case
        import_once(store, kind, write_export(root, name, files), outcome)

    one()
    assert sentinel(store) == before, "data imported before the fuzzing changed"
    check = store.engine.raw_connection()
    try:
        assert check.cursor().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        check.close()
    return outcome


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_fuzzed_imports_fail_cleanly(kind: str, fuzz_store: tuple[Store, Path]) -> None:
    outcome = run_fuzz(kind, *fuzz_store, CI_EXAMPLES)
    print(f"\n[fuzz {kind}] imported {outcome.imported}, refused {outcome.refused}, warnings {outcome.warnings}")
    assert outcome.imported + outcome.refused >= CI_EXAMPLES * 0.5


@pytest.mark.extended
@pytest.mark.timeout(3_600)
@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_fuzzed_imports_fail_cleanly_extended(kind: str, fuzz_store: tuple[Store, Path]) -> None:
    outcome = run_fuzz(kind, *fuzz_store, EXTENDED_EXAMPLES)
    print(f"\n[fuzz {kind}] imported {outcome.imported}, refused {outcome.refused}, warnings {outcome.warnings}")
    for message, n in outcome.messages.most_common(6):
        print(f"  {n:4d} × {message}")


# -- regressions: the crashes the fuzzers found (each was a traceback, not a clean error) --------------------------
def _zip_bytes(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytearray:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return bytearray(buf.getvalue())


def test_found_lone_surrogate_escapes_are_replaced_with_a_warning(fuzz_store: tuple[Store, Path]) -> None:
    """hypothesis: ``"\\ud800"`` in a JSON string decodes to text no database driver can encode (UnicodeEncodeError)."""
    store, root = fuzz_store
    users = rb'[{"id": "U9", "team_id": "T9", "name": "x\ud800", "profile": {"real_name": "Sur \udc00 Rogate"}}]'
    day = rb'[{"type": "message", "user": "U9", "ts": "1600000000.0", "text": "hi \ud83d"}]'
    files = {"users.json": users, "channels.json": b'[{"id": "C9", "name": "sur", "members": ["U9"]}]',
             "sur/2020-09-13.json": day}  # fmt: skip
    outcome = Outcome()
    import_once(store, "slack", write_export(root, "surrogates", files), outcome)
    line = rb'{"ticket_id": "S\ud800", "subject": "s\udfff", "requester": "a@b.c", "created_at": "2024-01-02"}'
    import_once(store, "tickets", write_export(root, "t.jsonl", {"": line + b"\n"}), outcome)
    assert outcome.imported == 2 and outcome.warnings >= 2
    m = schema.messages
    with store.read() as conn:
        texts = list(conn.execute(select(m.c.text).where(m.c.source.in_(["slack:T9", "tickets:default"]))).scalars())
    assert "hi \ufffd" in texts


def test_found_unsupported_zip_version_is_refused(fuzz_store: tuple[Store, Path]) -> None:
    """atheris: a zip declaring "version needed to extract 23.6" raised NotImplementedError."""
    store, root = fuzz_store
    data = _zip_bytes({"users.json": b"[]", "channels.json": b"[]", "Posts.xml": b"<posts/>"})
    at = data.find(b"PK\x01\x02")
    data[at + 6 : at + 8] = (236).to_bytes(2, "little")
    for kind in ("slack", "stackexchange"):
        outcome = Outcome()
        import_once(store, kind, write_export(root, "v.zip", {"": bytes(data)}), outcome)
        assert outcome.refused == 1, kind


def test_found_corrupt_deflate_stream_in_a_stack_exchange_zip(fuzz_store: tuple[Store, Path]) -> None:
    """A corrupt compressed Posts.xml raised zlib.error (from the progress-bar hint, then from reading)."""
    store, root = fuzz_store
    posts = xml_doc("posts", [se_post(str(i), "1", Title=f"T{i}", Body=f"b {i} " * 20) for i in range(1, 300)])
    data = _zip_bytes({"Posts.xml": posts.encode()})
    for i in range(200, 260):
        data[i] ^= 0x5A
    outcome = Outcome()
    import_once(store, "stackexchange", write_export(root, "se.zip", {"": bytes(data)}), outcome)
    assert outcome.imported + outcome.refused == 1


def test_found_zip_member_with_an_empty_name(fuzz_store: tuple[Store, Path]) -> None:
    """atheris: a central-directory entry with an empty file name made ``ZipInfo.is_dir()`` raise IndexError."""
    store, root = fuzz_store
    data = _zip_bytes({"users.json": b"[]", "channels.json": b"[]", "x": b"[]"}, zipfile.ZIP_STORED)
    entry = data.rfind(b"PK\x01\x02")  # the last entry ("x"): name length 0, name removed, directory size fixed
    data[entry + 28 : entry + 30] = (0).to_bytes(2, "little")
    del data[entry + 46]
    end = data.rfind(b"PK\x05\x06")
    data[end + 12 : end + 16] = (int.from_bytes(data[end + 12 : end + 16], "little") - 1).to_bytes(4, "little")
    assert "" in zipfile.ZipFile(io.BytesIO(bytes(data))).namelist()
    outcome = Outcome()
    import_once(store, "slack", write_export(root, "empty-name.zip", {"": bytes(data)}), outcome)
    assert outcome.imported + outcome.refused == 1


def test_found_member_name_flagged_utf8_that_is_not(fuzz_store: tuple[Store, Path]) -> None:
    """atheris: a local header flagged UTF-8 with a name that is not made ``ZipFile.open`` raise UnicodeDecodeError."""
    store, root = fuzz_store
    users = b'[{"id": "U1", "team_id": "T7", "name": "ann"}]'
    posts = xml_doc("posts", [se_post("1", "1", Title="T", Body="b")]).encode()
    for kind, name, content in (("slack", b"users.json", users), ("stackexchange", b"Posts.xml", posts)):
        data = _zip_bytes({name.decode(): content, "channels.json": b"[]"})
        local = data.find(b"PK\x03\x04")
        data[local + 6 : local + 8] = (int.from_bytes(data[local + 6 : local + 8], "little") | 0x800).to_bytes(
            2, "little"
        )
        data[local + 30] = 0xFF  # the name's first byte
        outcome = Outcome()
        import_once(store, kind, write_export(root, f"{kind}.zip", {"": bytes(data)}), outcome)
        assert outcome.imported + outcome.refused == 1, kind
