"""Coverage-guided fuzzing of every importer with atheris (libFuzzer), end to end into a SQLite store.

    pip install atheris
    python bench/fuzz_importers.py --seconds 120 [--corpus DIR] [-- extra libFuzzer flags]

The first byte of an input picks the format and layout (Slack zip, Slack folder with a fuzzed day file, Stack
Exchange Posts.xml, Slack chats XML, mbox, .eml folder, tickets CSV/JSONL, CRM CSV/JSONL); the rest is the file.
Each input is read with :func:`whoknows.importers.reader_for` and written with :func:`whoknows.ingest.ingest`.
A crash is any exception other than :class:`~whoknows.errors.WhoknowsError`, a ``WhoknowsError`` with an empty
message, or a failed import that left rows of the failed batch behind. The corpus starts from small valid exports
of each format (written to ``--corpus``, default a temporary folder). libFuzzer prints ``Done N runs in S
second(s)`` at the end; crashing inputs are written as ``crash-*`` files in the current folder.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

try:
    import atheris
except ImportError:  # pragma: no cover - optional tool
    sys.exit("atheris is not installed: pip install atheris")

with atheris.instrument_imports(include=["whoknows"]):
    import importlib

    from whoknows.errors import WhoknowsError
    from whoknows.importers import READERS, reader_for
    from whoknows.ingest import ingest
    from whoknows.store import open_store

    for _target in READERS.values():  # the readers are imported lazily: import them here, instrumented
        importlib.import_module(_target.split(":")[0])

USERS = [{"id": "U1", "team_id": "T1", "name": "ann", "profile": {"real_name": "Ann Lee", "email": "ann@acme.com"}},
         {"id": "U2", "team_id": "T1", "name": "bob", "profile": {"real_name": "Bob Roe"}}]  # fmt: skip
CHANNELS = [{"id": "C1", "name": "general", "created": 1600000000, "members": ["U1", "U2"]}]
DAY = [{"type": "message", "user": "U1", "ts": "1600000010.000100", "thread_ts": "1600000010.000100",
        "text": "How do I reset the VPN, <@U2>?", "reactions": [{"name": "eyes", "users": ["U2"], "count": 1}]},
       {"type": "message", "user": "U2", "ts": "1600000020.000200", "thread_ts": "1600000010.000100",
        "text": "Use the portal &amp; restart"}]  # fmt: skip
POSTS = (
    '<?xml version="1.0" encoding="utf-8"?>\n<posts>\n'
    '  <row Id="1" PostTypeId="1" AcceptedAnswerId="2" CreationDate="2020-01-02T10:00:00.000" Score="3" '
    'Title="How to brew a stout?" Body="&lt;p&gt;dark&lt;/p&gt;" OwnerUserId="10" Tags="&lt;stout&gt;" />\n'
    '  <row Id="2" PostTypeId="2" ParentId="1" CreationDate="2020-01-02T11:00:00.000" Score="5" '
    'Body="&lt;p&gt;Roasted barley.&lt;/p&gt;" OwnerUserId="11" />\n</posts>\n'
)
CHATS = (
    "<slack><team_domain>python</team_domain><channel_name>help</channel_name>\n"
    '<message conversation_id="1"><ts>2017-06-16T10:51:34.290598</ts><user>Kris</user>'
    "<text>Is it possible to switch conda?</text></message>\n"
    '<message conversation_id="1"><ts>2017-06-16T10:55:34.384740</ts><user>Glen</user>'
    "<text>&lt;@Kris&gt; use a venv</text></message>\n</slack>\n"
)
MAIL = (
    "From ann@acme.com Mon Mar  2 09:00:00 2020\nMessage-ID: <q1@acme.com>\nFrom: Ann Lee <ann@acme.com>\n"
    "To: bob@acme.com\nSubject: VPN reset\nDate: Mon, 2 Mar 2020 09:00:00 +0000\n"
    "Content-Type: text/plain; charset=utf-8\n\nHow do I reset my VPN token?\n\n"
    "From bob@acme.com Mon Mar  2 10:00:00 2020\nMessage-ID: <r1@acme.com>\nFrom: Bob <bob@acme.com>\n"
    "To: ann@acme.com\nSubject: Re: VPN reset\nIn-Reply-To: <q1@acme.com>\nDate: Mon, 2 Mar 2020 10:00:00 +0000\n"
    "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
    "Use the portal, caf=E9.\n"
)
TICKETS_JSONL = json.dumps({"ticket_id": "T-1", "queue": "Billing", "subject": "Invoice missing VAT",
                            "requester": "ann@acme.com", "assignee": "bob@acme.com", "status": "solved",
                            "created_at": "2024-01-02T09:00:00Z", "description": "Why no VAT?",
                            "comments": [{"author": "bob@acme.com", "created_at": "2024-01-02T11:00:00Z",
                                          "body": "Re-issued.", "public": True}]}) + "\n"  # fmt: skip
TICKETS_CSV = ("Ticket ID;Subject;Requester;Created;Comment Author;Comment Body;Status\n"
               "T-1;Invoice;ann@acme.com;2024-01-02;bob@acme.com;Re-issued;solved\n")  # fmt: skip
CRM_CSV = ("note_id,account,author,created_at,body,reply_to\nn1,Globex,ann@acme.com,2024-02-01 09:00,Any pharma "
           "reference?,\nn2,Globex,bob@acme.com,2024-02-01 10:00,Try Initech.,n1\n")  # fmt: skip


def _zip(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


#: selector byte -> (importer, layout, seed content)
LAYOUTS: list[tuple[str, str, bytes]] = [
    (
        "slack",
        "zip",
        _zip(
            {
                "users.json": json.dumps(USERS),
                "channels.json": json.dumps(CHANNELS),
                "general/2020-09-13.json": json.dumps(DAY),
            }
        ),
    ),
    ("slack", "day-file", json.dumps(DAY).encode()),
    ("slack", "users-file", json.dumps(USERS).encode()),
    ("stackexchange", "posts", POSTS.encode()),
    ("slack-chats", "xml", CHATS.encode()),
    ("email", "mbox", MAIL.encode("latin-1")),
    ("email", "eml", MAIL.split("\n", 1)[1].split("\n\nFrom bob")[0].encode()),
    ("tickets", "jsonl", TICKETS_JSONL.encode()),
    ("tickets", "csv", TICKETS_CSV.encode()),
    ("crm", "csv", CRM_CSV.encode()),
    (
        "crm",
        "jsonl",
        b'{"note_id": "n1", "account": "A", "author": "a@b.c", "created_at": 1706778000, "body": "Hi?"}\n',
    ),
]


def materialise(root: Path, selector: int, content: bytes) -> tuple[str, Path]:
    """Write one input as the export its selector says; returns (importer, path)."""
    kind, layout, _ = LAYOUTS[selector % len(LAYOUTS)]
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    if layout == "zip":
        path = root / "export.zip"
        path.write_bytes(content)
    elif layout in ("day-file", "users-file"):
        path = root / "export"
        (path / "general").mkdir(parents=True)
        (path / "users.json").write_bytes(content if layout == "users-file" else json.dumps(USERS).encode())
        (path / "channels.json").write_text(json.dumps(CHANNELS))
        (path / "general" / "2020-09-13.json").write_bytes(
            content if layout == "day-file" else json.dumps(DAY).encode()
        )
    elif layout == "posts":
        path = root / "site.stackexchange.com"
        path.mkdir()
        (path / "Posts.xml").write_bytes(content)
    elif layout == "eml":
        path = root / "mails"
        path.mkdir()
        (path / "1.eml").write_bytes(content)
    else:
        path = root / f"export.{layout}"
        path.write_bytes(content)
    return kind, path


#: Inputs per store: then it starts afresh.
RESET_EVERY = 5_000


class Harness:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.store = open_store(str(work / "fuzz.db"))
        self.runs = self.refused = 0

    def one(self, data: bytes) -> None:
        if not data:
            return
        self.runs += 1
        if self.runs % RESET_EVERY == 0:  # a store that grows without end makes every input slower
            self.store.close()
            for f in self.work.glob("fuzz.db*"):
                f.unlink()
            self.store = open_store(str(self.work / "fuzz.db"))
        kind, path = materialise(self.work / "input", data[0], data[1:])
        committed = self.store.counts()

        def snapshot(_batch: object, _stats: object) -> None:
            nonlocal committed
            committed = self.store.counts()

        try:
            reader = reader_for(kind, path, batch_size=50)
            reader.total_hint()  # what the CLI asks for its progress bar
            ingest(self.store, reader.kind, reader.source, reader.batches(), progress=snapshot)
        except WhoknowsError as exc:
            self.refused += 1
            if not str(exc).strip():
                raise AssertionError(f"{kind}: an error without a message: {exc!r}") from exc
            if self.store.counts() != committed:
                raise AssertionError(f"{kind}: a failed batch left rows behind ({exc})") from exc


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="time budget (libFuzzer -max_total_time)")
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder (seeded with valid exports)")
    args, extra = parser.parse_known_args(argv)
    work = Path(tempfile.mkdtemp(prefix="wk-atheris-"))
    corpus = args.corpus or work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for i, (_kind, _layout, seed) in enumerate(LAYOUTS):
        (corpus / f"seed-{i:02d}").write_bytes(bytes([i]) + seed)
    harness = Harness(work)
    flags = [sys.argv[0], f"-max_total_time={args.seconds}", "-print_final_stats=1", "-rss_limit_mb=4096",
             "-timeout=30", *[e for e in extra if e != "--"], str(corpus)]  # fmt: skip
    atheris.Setup(flags, harness.one)
    try:
        atheris.Fuzz()
    finally:
        harness.store.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
