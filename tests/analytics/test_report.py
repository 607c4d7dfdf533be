"""build_report end to end on small organisations, on every backend: bad input, privacy, renderings."""

from __future__ import annotations

from pathlib import Path

import pytest
from analytics_orgs import SRC, load_org, person
from rich.console import Console
from sqlalchemy import update

from whoknows.access import Viewer
from whoknows.analytics import AnalyticsDisabled, PerformanceFileError, build_report, render_html, render_terminal
from whoknows.settings import Settings
from whoknows.store import Store, schema

S = Settings(analytics_min_group=3)


def _two_departments(store: Store) -> None:
    people = [person(i, "Sales" if i < 6 else "Support", role="Sales Manager" if i == 0 else None) for i in range(10)]
    load_org(store, people, [(i % 6, 6 + i % 4) for i in range(24)] + [(1, 2), (3, 4)])


def test_empty_org(store: Store) -> None:
    report = build_report(store, store.viewer(None), settings=S)
    assert report.index is None and report.departments == []
    assert "no interactions" in report.messages[0]
    render_terminal(report, Console(file=open("/dev/null", "w")))  # noqa: SIM115
    assert "<svg" in render_html(report) or "Collaboration report" in render_html(report)


def test_two_departments_give_and_take(store: Store) -> None:
    _two_departments(store)
    report = build_report(store, store.viewer(None), settings=S)
    depts = {g.name: g for g in report.departments}
    assert depts["Support"].given > depts["Support"].received and depts["Sales"].balance < 0
    assert 0.9 < depts["Support"].cross_department_share <= 1.0
    assert report.index is not None and report.index.value is not None
    assert report.people == []  # no viewer: no individual rows
    assert report.bridges == []


def test_individual_views_only_for_self_or_configured_roles(store: Store) -> None:
    _two_departments(store)
    own = build_report(store, _as(store, "p7@x.example"), settings=S)
    assert [p.name for p in own.people] == ["Person 7"]
    manager = build_report(store, _as(store, "p0@x.example"), settings=S.model_copy(update={
        "analytics_individual_roles": ["sales manager"]}))  # fmt: skip
    assert len(manager.people) == 10


def test_opted_out_people_are_excluded_everywhere(store: Store) -> None:
    _two_departments(store)
    with store.write() as conn:
        conn.execute(update(schema.people).where(schema.people.c.external_id == "u6").values(opted_out=True))
    report = build_report(store, _as(store, "p0@x.example"), settings=S.model_copy(update={
        "analytics_individual_roles": ["Sales Manager"]}))  # fmt: skip
    assert "Person 6" not in {p.name for p in report.people}
    assert report.totals["active_people"] == 9
    assert {g.name: g.people for g in report.departments}["Support"] == 3


def test_small_groups_suppressed(store: Store) -> None:
    _two_departments(store)
    report = build_report(store, store.viewer(None), settings=Settings(analytics_min_group=5))
    support = {g.name: g for g in report.departments}["Support"]
    assert support.suppressed and support.as_dict() == {"name": "Support", "suppressed": True}
    # Sales alone would be "organisation − Support": hidden as its complement.
    assert all(g.suppressed for g in report.departments)
    assert report.flows == []


def test_one_department_and_missing_departments(store: Store) -> None:
    people = [person(i, "Sales" if i < 3 else None) for i in range(8)]
    load_org(store, people, [(i % 4, 4 + i % 4) for i in range(16)])
    report = build_report(store, store.viewer(None), settings=S)
    assert any("have no department" in m for m in report.messages)
    assert report.index is not None


def test_no_department_data(store: Store) -> None:
    load_org(store, [person(i, None) for i in range(6)], [(i % 3, 3 + i % 3) for i in range(9)])
    report = build_report(store, store.viewer(None), settings=S)
    assert any("no department data" in m for m in report.messages)
    assert report.index is not None and report.index.components["mixing"] is None
    assert report.silos == []


def test_disabled(store: Store) -> None:
    with pytest.raises(AnalyticsDisabled) as exc:
        build_report(store, store.viewer(None), settings=Settings(analytics_enabled=False))
    assert exc.value.code == "analytics.disabled"


def test_performance_csv_with_unknown_people(store: Store, tmp_path: Path) -> None:
    _two_departments(store)
    csv = tmp_path / "quota.csv"
    csv.write_text("email,quota_attainment\np6@x.example,130%\nghost@x.example,120\np7@x.example,abc\n"
                   "p8@x.example,110\np9@x.example,90\np0@x.example,50\np1@x.example,40\np2@x.example,30\n"
                   "p3@x.example,20\np4@x.example,10\np5@x.example,5\n#6,1\n")  # fmt: skip
    report = build_report(store, _as(store, "p7@x.example"), performance_csv=csv, settings=S)
    perf = report.performers
    assert perf is not None and perf.matched == 9
    assert f"{csv}:3: no person matches 'ghost@x.example'" in " ".join(perf.warnings)
    assert any(w.startswith(f"{csv}:4:") and "not a number" in w for w in perf.warnings)
    assert any(w.startswith(f"{csv}:13:") and "same person" in w for w in perf.warnings)
    assert perf.top is None or perf.top.people >= 3  # top quarter of 9 = 2 people: below the minimum group
    assert perf.note is not None and "suppressed" in perf.note
    assert perf.individuals == []  # the viewer is not a top performer and has no role
    with pytest.raises(PerformanceFileError):
        build_report(store, store.viewer(None), performance_csv=tmp_path / "missing.csv", settings=S)


def test_html_is_self_contained(store: Store, tmp_path: Path) -> None:
    _two_departments(store)
    html = render_html(build_report(store, store.viewer(None), settings=S))
    assert (
        html.count("<svg") >= 3
        and "<script" not in html
        and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        and "https://" not in html
    )
    assert SRC not in html


def test_internal_notes_are_read_as_not_public(store: Store) -> None:
    """A ticket's internal note (``meta.public`` False) is read as such from the database; others are public."""
    from datetime import timedelta

    from analytics_orgs import T0

    from whoknows.analytics.rows import iter_spaces, load_spaces
    from whoknows.ingest import ingest
    from whoknows.memory import rebuild_memory
    from whoknows.model import Batch, Message, MessageKind, Space, SpaceKind, Thread

    queue = Space(SRC, "q", SpaceKind.TICKET_QUEUE, "Q")
    batch = Batch(people=[person(i, "Support") for i in range(3)], spaces=[queue])
    batch.threads.append(Thread(SRC, "t", "q", created_at=T0))
    batch.messages += [
        Message(SRC, "m0", "t", "u0", T0, "How do I export invoices as CSV?", MessageKind.QUESTION),
        Message(SRC, "m1", "t", "u1", T0 + timedelta(minutes=5), "Escalating to billing.", reply_to_ref="m0",
                meta={"public": False}),
        Message(SRC, "m2", "t", "u2", T0 + timedelta(minutes=9), "Settings > Billing > Export, choose CSV.",
                reply_to_ref="m0", meta={"public": True, "channel": "web"}),
    ]  # fmt: skip
    ingest(store, "test", SRC, [batch])
    rebuild_memory(store)
    with store.read() as conn:
        spaces = load_spaces(conn, None)
    rows = [m for sr in iter_spaces(store, spaces) for m in sr.messages]
    assert len(rows) == 3
    assert [m.public for m in sorted(rows, key=lambda m: m.created_at)] == [True, False, True]


def test_progress_reports_every_space_and_stage(store: Store) -> None:
    _two_departments(store)
    seen: list[tuple[str, int, int | None]] = []
    build_report(
        store, store.viewer(None), settings=S, progress=lambda stage, done, total: seen.append((stage, done, total))
    )
    stages = [s for s, _, _ in seen]
    assert stages.index("reading spaces") < stages.index("topics") < stages.index("measures")
    reading = [(d, t) for s, d, t in seen if s == "reading spaces"]
    assert reading[0][0] == 0 and reading[-1][0] == reading[-1][1] and reading[-1][1] is not None
    assert reading[-1][1] >= 1
    assert ("topics", 1, 1) in seen and seen[-1] == ("measures", 1, 1)


def _as(store: Store, email: str) -> Viewer:
    return store.viewer(store.find_person(email, Viewer.system()).id)
