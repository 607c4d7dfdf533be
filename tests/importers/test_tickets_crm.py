"""The tickets and CRM-notes importers: CSV and JSONL schemas, column aliases, heuristics, bad rows."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from whoknows.importers.base import ImportError_
from whoknows.importers.crm import CrmNotesReader
from whoknows.importers.tickets import TicketsReader
from whoknows.ingest import ingest
from whoknows.model import Batch, MessageKind, SpaceKind, Visibility
from whoknows.store import open_store

TICKETS_CSV = """\
Ticket ID;Queue;Subject;Requester;Assignee;Status;Created;Comment Author;Comment Created;Comment Body;Public
T-1;Billing;Invoice missing VAT;Ann Lee <ann@acme.com>;bob@acme.com;Solved;2024-01-02T09:00:00Z;ann@acme.com;\
2024-01-02T09:00:00Z;Our invoice has no VAT line, why?;true
T-1;Billing;;;;;2024-01-02T09:00:00Z;bob@acme.com;2024-01-02 10:00;Checking with finance;false
T-1;Billing;;;;;2024-01-02T09:00:00Z;bob@acme.com;2024-01-02 11:00;Fixed: re-issued with VAT;true
T-1;Billing;;;;;2024-01-02T09:00:00Z;ann@acme.com;2024-01-02 12:00;Thanks!;true
T-2;;Laptop;Carl;;open;not a date;;;;
T-3;IT;Laptop broken;Carl;Dana;open;2024-01-03;Carl;2024-01-03;Screen is black;yes
"""


def read_all(reader: TicketsReader | CrmNotesReader) -> Batch:
    out = Batch()
    for b in reader.batches():
        out.people += b.people
        out.spaces += b.spaces
        out.threads += b.threads
        out.messages += b.messages
    return out


def test_tickets_csv_mapping(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_text(TICKETS_CSV)
    reader = TicketsReader(path)
    reader.validate()
    assert reader.source == "tickets:default"
    got = read_all(reader)
    spaces = {s.external_id: s for s in got.spaces}
    assert set(spaces) == {"queue:Billing", "queue:IT"}
    billing = spaces["queue:Billing"]
    assert (billing.kind, billing.visibility) == (SpaceKind.TICKET_QUEUE, Visibility.PRIVATE)
    assert billing.member_refs == ["ann@acme.com", "bob@acme.com"]
    assert spaces["queue:IT"].member_refs == ["name:carl", "name:dana"]
    msgs = {m.external_id: m for m in got.messages}
    q = msgs["ticket:T-1/c1"]
    assert q.kind == MessageKind.QUESTION and q.text == "Invoice missing VAT\n\nOur invoice has no VAT line, why?"
    assert [(m.external_id, m.kind, m.accepted) for m in got.messages if m.thread_ref == "ticket:T-1"] == [
        ("ticket:T-1/c1", MessageKind.QUESTION, False), ("ticket:T-1/c2", MessageKind.COMMENT, False),
        ("ticket:T-1/c3", MessageKind.ANSWER, True), ("ticket:T-1/c4", MessageKind.COMMENT, False)]  # fmt: skip
    assert msgs["ticket:T-1/c2"].meta == {"public": False} and msgs["ticket:T-1/c3"].reply_to_ref == q.external_id
    assert msgs["ticket:T-1/c3"].author_ref == "bob@acme.com"
    (thread,) = [t for t in got.threads if t.external_id == "ticket:T-1"]
    assert thread.title == "Invoice missing VAT" and thread.meta["status"] == "Solved"
    assert [i.where for i in reader.issues] == ["line 6"]  # T-2: bad date


def test_tickets_jsonl_and_store_round_trip(tmp_path: Path) -> None:
    rows = [
        {"id": 7, "queue": "IT", "title": "VPN down?", "requester": "ann@acme.com", "agent": "bob@acme.com",
         "state": "closed", "created_at": 1704186000, "description": "Cannot connect since 9am",
         "comments": [{"author": "bob@acme.com", "created_at": "2024-01-02T10:00:00+01:00", "body": "Restarted it",
                       "public": True, "id": "c-9"}]},
        {"id": 8, "title": "x", "requester": "ann@acme.com", "created_at": "2024-01-02", "comments": "oops"},
        "not an object",
    ]  # fmt: skip
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n")
    reader = TicketsReader(path, space_name="Acme Helpdesk")
    got = read_all(reader)
    assert reader.source == "tickets:acme-helpdesk"
    assert {s.name for s in got.spaces} == {"Acme Helpdesk / IT", "Acme Helpdesk / (no queue)"}
    msgs = {m.external_id: m for m in got.messages}
    assert msgs["ticket:7/q"].text == "VPN down?\n\nCannot connect since 9am"
    assert msgs["ticket:7/c:c-9"].kind == MessageKind.ANSWER and msgs["ticket:7/c:c-9"].accepted
    assert [i.where for i in reader.issues] == ["line 2", "line 3", "line 4"]
    store = open_store(str(tmp_path / "x.db"))
    first = ingest(store, reader.kind, reader.source, TicketsReader(path, space_name="Acme Helpdesk").batches())
    again = ingest(store, reader.kind, reader.source, TicketsReader(path, space_name="Acme Helpdesk").batches())
    store.close()
    assert first.stats.counts["messages"]["new"] == 3
    assert again.stats.counts["messages"] == {"new": 0, "updated": 0, "skipped": 3, "rejected": 0}


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Ticket ID,Subject,Created\n1,x,2024-01-01\n")
    with pytest.raises(ImportError_, match=r"t\.csv: missing required column 'requester'"):
        TicketsReader(path).validate()
    notes = tmp_path / "n.csv"
    notes.write_text("id,account,author,body\n1,a,b,c\n")
    with pytest.raises(ImportError_, match=r"n\.csv: missing required column 'created_at'"):
        CrmNotesReader(notes).validate()


def test_crm_notes(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(
        "Note ID,Account Name,Deal,Stage,Owner,Created Date,Notes,Parent ID\n"
        "n1,Globex,Renewal 2024,Negotiation,Ann Lee <ann@acme.com>,2024-02-01 09:00,Does anyone have a reference "
        "customer in pharma?,\n"
        "n2,Globex,Renewal 2024,Negotiation,bob@acme.com,2024-02-01 10:00,Try Initech – Jörg knows them,n1\n"
        "n3,Globex,,Prospect,ann@acme.com,2024-01-01,Intro call done,\n"
        "n4,Globex,Renewal 2024,Won,ann@acme.com,2024-03-01,Signed,\n"
        ",Globex,,x,ann@acme.com,2024-01-01,no id,\n".encode("cp1252")
    )
    reader = CrmNotesReader(path)
    got = read_all(reader)
    assert reader.source == "crm:default"
    (space,) = got.spaces
    assert (space.kind, space.visibility, space.name) == (SpaceKind.CRM, Visibility.PRIVATE, "CRM notes")
    assert space.member_refs == ["ann@acme.com", "bob@acme.com"]
    threads = {t.external_id: t for t in got.threads}
    assert threads["opp:Globex:Renewal 2024"].title == "Globex — Renewal 2024"
    assert threads["opp:Globex:Renewal 2024"].meta["stage"] == "Won" and "account:Globex" in threads
    msgs = {m.external_id: m for m in got.messages}
    assert msgs["note:n1"].kind == MessageKind.QUESTION
    assert msgs["note:n2"].kind == MessageKind.ANSWER and msgs["note:n2"].reply_to_ref == "note:n1"
    assert msgs["note:n2"].text == "Try Initech – Jörg knows them"
    assert msgs["note:n3"].kind == MessageKind.MESSAGE and msgs["note:n4"].kind == MessageKind.MESSAGE
    issues = [(i.where, i.reason) for i in reader.issues]
    assert issues[0][1] == "not valid UTF-8; read as Windows-1252"
    assert issues[1] == ("line 6", "missing required value 'note_id'; skipped")


def test_random_corruption_never_crashes(tmp_path: Path) -> None:
    rng = random.Random(99)
    pristine = TICKETS_CSV.encode()
    for case in range(200):
        data = bytearray(pristine)
        for _ in range(rng.randint(1, 6)):
            pos = rng.randrange(len(data))
            data[pos : pos + rng.randint(0, 4)] = bytes(rng.randrange(256) for _ in range(rng.randint(0, 4)))
        path = tmp_path / f"c{case}.{'csv' if case % 2 else 'jsonl'}"
        path.write_bytes(bytes(data))
        reader: TicketsReader | CrmNotesReader = TicketsReader(path) if case % 4 < 2 else CrmNotesReader(path)
        try:
            reader.validate()
        except ImportError_:
            continue
        read_all(reader)
