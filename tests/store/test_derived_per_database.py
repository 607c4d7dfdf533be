"""Everything derived from a database (memory index, expertise model, derive state, locks, uploads) lives in that
database's own folder under the data dir, and an artefact that belongs to another database is refused, never used.

Two databases share one data dir here: ``a.db`` (the demo organisation) and ``b.db`` (a few support tickets).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from whoknows.store import open_store, schema

# ann asks about a missing VAT line; bob (billing) answers it. Nothing like it is in the demo organisation.
TICKETS = """\
Ticket ID;Queue;Subject;Requester;Assignee;Status;Created;Comment Author;Comment Created;Comment Body;Public
T-1;Billing;Invoice missing VAT;Ann Lee <ann@acme.com>;bob@acme.com;Solved;2024-01-02T09:00:00Z;ann@acme.com;\
2024-01-02T09:00:00Z;Our invoice has no VAT line, why?;true
T-1;Billing;;;;;2024-01-02T09:00:00Z;bob@acme.com;2024-01-02 10:00;Checking with finance;false
T-1;Billing;;;;;2024-01-02T09:00:00Z;bob@acme.com;2024-01-02 11:00;Fixed: re-issued the invoice with VAT;true
T-1;Billing;;;;;2024-01-02T09:00:00Z;ann@acme.com;2024-01-02 12:00;Thanks!;true
T-3;Billing;Refund for a duplicate charge;Ann Lee <ann@acme.com>;bob@acme.com;Solved;2024-01-03;ann@acme.com;\
2024-01-03;We were charged twice this month, can we get a refund?;yes
T-3;Billing;;;;;2024-01-03;bob@acme.com;2024-01-03 15:00;Refund issued for the duplicate charge;yes
""".replace("\\\n", "")
MORE_TICKETS = """\
Ticket ID;Queue;Subject;Requester;Assignee;Status;Created;Comment Author;Comment Created;Comment Body;Public
T-9;Billing;Wrong currency on invoice;Ann Lee <ann@acme.com>;bob@acme.com;Solved;2024-02-01;ann@acme.com;\
2024-02-01;The invoice is in dollars but we pay in euros, can you fix it?;yes
T-9;Billing;;;;;2024-02-01;bob@acme.com;2024-02-01 10:00;Re-issued the invoice in euros;yes
""".replace("\\\n", "")


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WHOKNOWS_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "whoknows", *args], capture_output=True, text=True, timeout=300, env=env
    )


def run_json(data_dir: Path, *args: str) -> Any:
    proc = run(data_dir, *args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def pairs_of(db: Path) -> dict[int, str]:
    with open_store(db, create=False) as store, store.read() as conn:
        qp = schema.qa_pairs
        return {int(i): str(t) for i, t in conn.execute(select(qp.c.question_id, qp.c.question_text))}


def people_of(db: Path) -> dict[int, str]:
    with open_store(db, create=False) as store, store.read() as conn:
        p = schema.people
        return {int(i): str(n) for i, n in conn.execute(select(p.c.id, p.c.name))}


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, dict[str, Any]]:
    """a.db with the demo organisation, then b.db with the tickets, both in one data dir (through the CLI)."""
    root = tmp_path_factory.mktemp("two")
    data, a, b = root / "data", root / "data" / "a.db", root / "data" / "b.db"
    (root / "tickets.csv").write_text(TICKETS)
    run_json(data, "--db", str(a), "demo", "--messages", "2000", "--people", "60", "--no-accounts")
    imported = run_json(data, "--db", str(b), "import", "tickets", str(root / "tickets.csv"))
    return data, a, b, imported


def test_each_database_gets_its_own_identity(db_url: str, tmp_path: Path) -> None:
    with open_store(db_url) as first:
        ident = first.database_id
        assert len(ident) == 32 and int(ident, 16) >= 0
    with open_store(db_url) as again:
        assert again.database_id == ident  # created once, by the migration
    with open_store(tmp_path / "other.db") as other:
        assert other.database_id != ident


def test_import_into_the_second_database_derives_its_own_memory(two: tuple[Path, Path, Path, Any]) -> None:
    data, _a, b, imported = two
    pairs = pairs_of(b)
    assert len(pairs) == 2
    memory = imported["derived"]["memory"]
    assert memory["questions"] == 2 and memory["solved"] == 2, memory  # not "0 questions from 0 threads"
    assert imported["derived"]["index"].get("documents", 2) == 2
    # Nothing derived is left at the top of the data dir: each database has its own folder.
    assert not (data / "index").exists() and not (data / "expertise").exists()
    assert not (data / "derive-state.json").exists() and not (data / "derive.lock").exists()


def test_ask_and_experts_answer_from_their_own_database(two: tuple[Path, Path, Path, Any]) -> None:
    data, a, b, _ = two
    pairs_b, people_b = pairs_of(b), people_of(b)
    got = run_json(data, "--db", str(b), "ask", "--as", "ann@acme.com", "invoice has no VAT line")
    assert got["warnings"] == [], got["warnings"]  # not the other database's (stale) index
    hits = got["solutions"] + got["similar"]
    assert hits and got["solutions"][0]["question"] == pairs_b[got["solutions"][0]["question_id"]]
    for hit in hits:
        assert pairs_b[hit["question_id"]] == hit["question"]
    assert "re-issued the invoice with VAT" in got["solutions"][0]["solution"]
    nothing = run_json(data, "--db", str(b), "ask", "--as", "ann@acme.com", "can we sign a BAA for HIPAA?")
    assert nothing["solutions"] == [], nothing["solutions"]  # a.db's demo answers are not b's

    experts = run_json(data, "--db", str(b), "experts", "--as", "ann@acme.com", "invoice VAT refund")
    assert experts["stale"] is False
    assert experts["experts"], experts["reason"]
    for e in experts["experts"]:
        assert people_b[e["person_id"]] == e["name"]

    # a.db still answers from its own memory, untouched by b's import.
    pairs_a = pairs_of(a)
    got_a = run_json(data, "--db", str(a), "ask", "can we sign a BAA for HIPAA?")
    assert got_a["solutions"] and got_a["warnings"] == []
    for hit in got_a["solutions"]:
        assert pairs_a[hit["question_id"]] == hit["question"]


def test_the_api_of_the_second_database_serves_its_own_answers(two: tuple[Path, Path, Path, Any]) -> None:
    from whoknows.api.accounts import add_account, issue_token
    from whoknows.api.app import create_app
    from whoknows.settings import Settings

    data, _a, b, _ = two
    settings = Settings(db=str(b), data_dir=data, api_login_max_failures=0)
    store = open_store(settings)
    try:
        account = add_account(store, "ann@acme.com", role="admin", password=None)
        token = issue_token(store, account["account_id"], kind="api", name="tests").token
        with TestClient(create_app(settings, store=store)) as client:
            auth = {"Authorization": f"Bearer {token}"}
            r = client.post("/api/v1/ask", json={"question": "invoice has no VAT line"}, headers=auth)
            assert r.status_code == 200, r.text
            memory = r.json()["memory"]
            assert memory["solutions"] and "re-issued the invoice with VAT" in memory["solutions"][0]["solution"]
            assert memory["warnings"] == []
            assert client.app.state.whoknows.data_dir.parent.parent == data  # type: ignore[attr-defined]
    finally:
        store.close()


def test_an_artefact_of_another_database_is_refused_or_rebuilt(
    two: tuple[Path, Path, Path, Any], tmp_path: Path
) -> None:
    from whoknows.derive import derived_dir, expertise_path, refresh_after_import
    from whoknows.errors import WhoknowsError
    from whoknows.expertise import open_model
    from whoknows.importers import reader_for
    from whoknows.ingest import ingest
    from whoknows.memory.ask import MemorySearch, ask
    from whoknows.memory.memory_index import index_path

    data, a, b, _ = two
    copy = tmp_path / "b-copy.db"  # a copy of b's file is the same database: work on it, keep b as it is
    shutil.copy(b, copy)
    with open_store(a, create=False) as store_a, open_store(copy, create=False) as store_b:
        folder_a, folder_b = derived_dir(data, store_a), derived_dir(data, store_b)
        assert folder_a != folder_b and folder_a.parent == folder_b.parent
        viewer = store_b.viewer(None)
        with pytest.raises(WhoknowsError) as exc:
            MemorySearch(store_b, index_path(folder_a))
        assert exc.value.code == "index.wrong_database" and str(folder_a) in exc.value.message
        with pytest.raises(WhoknowsError) as exc:
            ask(store_b, folder_a, "invoice VAT", viewer)
        assert exc.value.code == "index.wrong_database"
        with pytest.raises(WhoknowsError) as exc:
            open_model(store_b, expertise_path(folder_a))
        assert exc.value.code == "expertise.wrong_database"

        # a's folder copied over b's (a restored backup, a moved data dir): never used, rebuilt by the next import.
        elsewhere = tmp_path / "data"
        shutil.copytree(folder_a, derived_dir(elsewhere, store_b))
        with pytest.raises(WhoknowsError) as exc:
            MemorySearch(store_b, index_path(derived_dir(elsewhere, store_b)))
        assert exc.value.code == "index.wrong_database"
        (tmp_path / "more.csv").write_text(MORE_TICKETS)
        reader = reader_for("tickets", tmp_path / "more.csv")
        result = ingest(store_b, reader.kind, reader.source, reader.batches())
        derived = refresh_after_import(store_b, derived_dir(elsewhere, store_b), result.import_id)
        # a's derive state was not taken for b's: every import of b is derived (3 questions), the index rebuilt.
        assert derived.memory["questions"] == 3, derived.memory
        assert derived.index["documents"] == 3 and derived.index["rebuilt"] is True
        search = MemorySearch(store_b, index_path(derived_dir(elsewhere, store_b)))
        found = search.ask("invoice in euros", store_b.viewer(None, "admin"))
        texts = pairs_of(copy)
        for hit in found.solutions + found.similar:
            assert texts[hit.question_id] == hit.question
        model, stale = open_model(store_b, expertise_path(derived_dir(elsewhere, store_b)))
        assert not stale and model.manifest["database_id"] == store_b.database_id


def test_an_old_layout_is_not_adopted(tmp_path: Path) -> None:
    """Artefacts left directly in the data dir by an older version record no database: they are not used."""
    from whoknows.derive import reindex

    data = tmp_path / "data"
    db = data / "whoknows.db"
    (tmp_path / "tickets.csv").write_text(TICKETS)
    run_json(data, "import", "tickets", str(tmp_path / "tickets.csv"), "--no-index")
    with open_store(db, create=False) as store:
        reindex(store, data)  # where an older version put them
    proc = run(data, "ask", "--as", "ann@acme.com", "invoice has no VAT line", "--json")
    assert proc.returncode != 0 and "no memory index yet" in proc.stderr, (proc.stdout, proc.stderr)
    run_json(data, "reindex")
    got = run_json(data, "ask", "--as", "ann@acme.com", "invoice has no VAT line")
    assert got["solutions"] and got["warnings"] == []
