"""The e-mail importer: mbox, maildir and .eml folders; threading, decoding, quote and signature stripping."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from whoknows.importers.base import ImportError_
from whoknows.importers.email import EmailReader
from whoknows.importers.email_parse import normalize_subject
from whoknows.importers.email_text import html_to_text, strip_reply
from whoknows.ingest import ingest
from whoknows.model import AliasKind, Batch, MessageKind, SpaceKind, Visibility
from whoknows.store import open_store

Q = (b"From ann@acme.com Mon Mar  2 09:00:00 2020\n"
     b"Message-ID: <q1@acme.com>\nFrom: Ann Lee <ann@acme.com>\nTo: Bob Roe <bob@acme.com>\n"
     b"Cc: team@acme.com\nSubject: VPN token reset\nDate: Mon, 2 Mar 2020 09:00:00 +0000\n"
     b"Content-Type: text/plain; charset=utf-8\n\n"
     b"How do I reset my VPN token?\n\n-- \nAnn Lee\nSales, ACME\n\n")  # fmt: skip
R1 = (b"From bob@acme.com Mon Mar  2 10:00:00 2020\n"
      b"Message-ID: <r1@acme.com>\nFrom: Bob Roe <bob@acme.com>\nTo: ann@acme.com\n"
      b"Subject: Re: VPN token reset\nIn-Reply-To: <q1@acme.com>\nReferences: <q1@acme.com>\n"
      b"Date: Mon, 2 Mar 2020 10:00:00 +0000\nMIME-Version: 1.0\n"
      b'Content-Type: multipart/alternative; boundary="XX"\n\n--XX\n'
      b"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
      b"Use the self-service portal, caf=E9 =\nincluded.\n\nBest regards,\nBob\n\n"
      b"On Mon, 2 Mar 2020 at 09:00, Ann Lee <ann@acme.com> wrote:\n> How do I reset my VPN token?\n\n"
      b"--XX\nContent-Type: text/html; charset=utf-8\n\n<p>Use the portal</p>\n--XX--\n\n")  # fmt: skip
R2 = (b"From ann@acme.com Mon Mar  2 11:00:00 2020\n"
      b"Message-ID: <r2@acme.com>\nFrom: Ann Lee <ann@acme.com>\nTo: bob@acme.com\n"
      b"Subject: AW: Re: VPN token reset\nDate: Mon, 2 Mar 2020 11:00:00 +0000\n"
      b"Content-Type: text/plain; charset=latin-1\n\nDanke sch\xf6n, it works.\n\n"
      b"-----Original Message-----\nFrom: Bob Roe\nSent: Monday\nUse the portal\n\n")  # fmt: skip
H = (b"From carl@acme.com Tue Mar  3 08:00:00 2020\n"
     b"Message-ID: <h1@acme.com>\nFrom: =?utf-8?q?Carl_M=C3=BCller?= <carl@acme.com>\nTo: ann@acme.com\n"
     b"Subject: Lunch\nDate: Tue, 3 Mar 2020 08:00:00 +0100\n"
     b"Content-Type: text/html; charset=x-unknown-charset\n\n"
     b"<html><style>p{}</style><body><p>Lunch at <b>noon</b> &amp; cake.</p>"
     b"<blockquote>old stuff</blockquote></body></html>\n\n")  # fmt: skip
NO_ID = (b"From dan@acme.com Wed Mar  4 08:00:00 2020\n"
         b"From: dan@acme.com\nTo: ann@acme.com\nSubject: Lunch\nDate: Wed, 4 Mar 2020 08:00:00 +0000\n\n"
         b">From the kitchen: soup.\n\n")  # fmt: skip
NO_DATE = b"From x@y Wed Mar  4 08:00:00 2020\nMessage-ID: <nd@acme.com>\nFrom: x@acme.com\nSubject: hi\n\nbody\n\n"


def read_all(reader: EmailReader) -> Batch:
    out = Batch()
    for b in reader.batches():
        out.people += b.people
        out.spaces += b.spaces
        out.threads += b.threads
        out.messages += b.messages
    return out


def test_mbox_mapping_threads_and_text(tmp_path: Path) -> None:
    mbox = tmp_path / "support.mbox"
    mbox.write_bytes(R2 + Q + R1 + H + NO_ID + NO_DATE)  # out of order on purpose
    reader = EmailReader(mbox)
    reader.validate()
    assert reader.format == "mbox" and reader.source == "email:support"
    got = read_all(reader)
    (space,) = got.spaces
    assert (space.kind, space.visibility, space.name, space.external_id) == (
        SpaceKind.MAILBOX, Visibility.PRIVATE, "support", "mailbox")  # fmt: skip
    assert set(space.member_refs) == {"ann@acme.com", "bob@acme.com", "team@acme.com", "carl@acme.com",
                                      "dan@acme.com"}  # fmt: skip
    people = {p.external_id: p for p in got.people}
    assert people["ann@acme.com"].name == "Ann Lee" and people["carl@acme.com"].name == "Carl Müller"
    assert {(a.kind, a.value) for a in people["ann@acme.com"].aliases} == {
        (AliasKind.EMAIL, "ann@acme.com"), (AliasKind.NAME, "Ann Lee")}  # fmt: skip
    msgs = {m.external_id: m for m in got.messages}
    q, r1, r2 = msgs["<q1@acme.com>"], msgs["<r1@acme.com>"], msgs["<r2@acme.com>"]
    assert q.kind == MessageKind.QUESTION and q.text == "How do I reset my VPN token?"
    assert q.author_ref == "ann@acme.com" and q.meta["to"] == ["bob@acme.com"] and q.meta["cc"] == ["team@acme.com"]
    assert r1.text == "Use the self-service portal, café included."
    assert (r1.thread_ref, r1.reply_to_ref, r1.kind) == ("<q1@acme.com>", "<q1@acme.com>", MessageKind.MESSAGE)
    assert r2.text == "Danke schön, it works."  # latin-1, Outlook block removed
    assert (r2.thread_ref, r2.reply_to_ref) == ("<q1@acme.com>", "<r1@acme.com>")  # subject fallback
    html = msgs["<h1@acme.com>"]
    assert html.text == "Lunch at noon & cake." and html.thread_ref == "<h1@acme.com>"
    assert html.kind == MessageKind.MESSAGE
    no_id = next(m for m in got.messages if m.external_id.endswith("@whoknows.invalid>"))
    assert no_id.text == "From the kitchen: soup." and no_id.thread_ref == no_id.external_id  # no Re: prefix
    threads = {t.external_id: t for t in got.threads}
    assert threads["<q1@acme.com>"].title == "VPN token reset" and len(threads) == 3
    reasons = [i.reason for i in reader.issues]
    assert any("unknown charset 'x-unknown-charset'" in r for r in reasons)
    assert any("no valid Date" in r for r in reasons) and len(got.messages) == 5


def test_maildir_and_eml_folder_and_idempotent_import(tmp_path: Path) -> None:
    box = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    (box / "cur" / "1.host:2,S").write_bytes(Q.split(b"\n", 1)[1])
    (box / "new" / "2.host").write_bytes(R1.split(b"\n", 1)[1])
    reader = EmailReader(box, space_name="Ann's inbox")
    reader.validate()
    assert reader.format == "maildir" and reader.source == "email:ann-s-inbox"
    db = tmp_path / "x.db"
    store = open_store(str(db))
    first = ingest(store, reader.kind, reader.source, reader.batches())
    assert first.stats.counts["messages"]["new"] == 2
    (box / "new" / "3.host").write_bytes(R2.split(b"\n", 1)[1])
    again = EmailReader(box, space_name="Ann's inbox")
    second = ingest(store, again.kind, again.source, again.batches())
    store.close()
    assert second.stats.counts["messages"] == {"new": 1, "updated": 0, "skipped": 2, "rejected": 0}
    eml = tmp_path / "emls"
    eml.mkdir()
    (eml / "a.eml").write_bytes(Q.split(b"\n", 1)[1])
    folder = EmailReader(eml)
    folder.validate()
    assert folder.format == "eml" and len(read_all(folder).messages) == 1


def test_quote_and_signature_stripping() -> None:
    assert strip_reply("Yes.\n\nOn Tue, Jan 5, 2021 at 9:00 AM Ann <a@x.com>\nwrote:\n> q?\n") == "Yes."
    assert strip_reply("Ja.\n\nAm 05.01.2021 um 09:00 schrieb Ann <a@x.com>:\n> q?") == "Ja."
    assert strip_reply("Ok\n\nFrom: Bob\nSent: Monday\nTo: Ann\nSubject: x\nold") == "Ok"
    assert strip_reply("> quoted\nmine\n> more\nalso mine") == "mine\nalso mine"
    assert strip_reply("Answer here.\n\nThanks,\nBob\nACME Corp") == "Answer here."
    assert strip_reply("Thanks!") == "Thanks!"
    assert strip_reply("Text\n\nSent from my iPhone") == "Text"
    assert html_to_text("<div>a<br>b</div><script>x()</script>") == "a\nb"
    assert normalize_subject("Re: AW: [list] Fwd: Hello  World") == "hello world"


def test_bad_input(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportError_, match="no maildir"):
        EmailReader(tmp_path / "empty").validate()
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02 binary")
    with pytest.raises(ImportError_, match="not an mbox"):
        EmailReader(junk).validate()
    rng = random.Random(7)
    pristine = Q + R1 + R2 + H
    for case in range(200):
        data = bytearray(pristine)
        for _ in range(rng.randint(1, 10)):
            pos = rng.randrange(len(data))
            data[pos : pos + rng.randint(0, 3)] = bytes(rng.randrange(256) for _ in range(rng.randint(0, 5)))
        path = tmp_path / f"c{case}.mbox"
        path.write_bytes(b"From x\n" + bytes(data))
        reader = EmailReader(path)
        read_all(reader)  # never raises
