"""The planted structure of the demo organisation is found: the silo department and the single-expert topic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from whoknows.access import Viewer
from whoknows.analytics import build_report, write_html
from whoknows.analytics.report import Report
from whoknows.analytics.topics import agreement, derive_topics
from whoknows.demo import DemoConfig, load_demo
from whoknows.memory import rebuild_memory
from whoknows.settings import Settings
from whoknows.store import Store, open_store, schema


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, object]]]:
    path = tmp_path_factory.mktemp("demo")
    store = open_store(path / "demo.db")
    load_demo(store, DemoConfig(messages=20_000), truth_path=path / "truth.json")
    rebuild_memory(store)
    yield store, json.loads((path / "truth.json").read_text())
    store.close()


@pytest.fixture(scope="module")
def report(demo: tuple[Store, dict[str, object]]) -> Report:
    return build_report(demo[0], Viewer.system(), organisation=True, settings=Settings())


def test_planted_silo_is_a_silo(report: Report, demo: tuple[Store, dict[str, object]]) -> None:
    silo = demo[1]["silo_department"]
    assert silo == "Partner Alliances"
    assert [s.group for s in report.silos] == [silo]
    assert report.silos[0].external_share < 0.1


def test_single_expert_topic_depends_on_one_person(report: Report, demo: tuple[Store, dict[str, object]]) -> None:
    assert demo[1]["single_expert_topics"] == ["fedramp"]
    labels = [t.label for t in report.one_person_topics]
    assert any("fedramp" in label.lower() for label in labels), labels
    fedramp = next(t for t in report.topics if "fedramp" in [w.lower() for w in t.terms])
    assert fedramp.bus_factor == 1 and fedramp.top_share > 0.9
    assert fedramp.top_person is None  # admin without an individual role: not named


def test_topics_match_the_planted_topics(demo: tuple[Store, dict[str, object]]) -> None:
    store, truth = demo
    threads = truth["threads"]
    assert isinstance(threads, dict)
    with store.read() as conn:
        rows = conn.execute(
            select(schema.qa_pairs.c.question_id, schema.qa_pairs.c.question_text, schema.threads.c.external_id).join(
                schema.threads, schema.threads.c.id == schema.qa_pairs.c.thread_id
            )
        ).all()
    rows = [r for r in rows if r[2] in threads]
    topics = derive_topics([r[0] for r in rows], [r[1] for r in rows])
    score = agreement([topics.of_question[r[0]] for r in rows], [threads[r[2]]["topic"] for r in rows])
    assert score["purity"] > 0.6 and score["nmi"] > 0.7, score


def test_differencing_cannot_reveal_a_small_group(demo: tuple[Store, dict[str, object]]) -> None:
    store = demo[0]
    min_group = 16  # Partner Alliances, Legal ... have fewer active people
    report = build_report(store, Viewer.system(), organisation=True, settings=Settings(analytics_min_group=min_group))
    hidden = [g for g in report.departments if g.suppressed]
    assert hidden and "Partner Alliances" in {g.name for g in hidden}
    # What "organisation − shown departments" reveals covers at least the minimum group.
    shown_people = sum(g.people for g in report.departments if not g.suppressed)
    assert report.totals["active_people"] - shown_people >= min_group
    for dept in (g for g in report.departments if not g.suppressed):
        teams = [t for t in report.teams if t.name.startswith(dept.name + " / ")]
        hidden_teams = [t.people for t in teams if t.suppressed]
        assert not hidden_teams or sum(hidden_teams) >= min_group
    for g in hidden:
        assert g.as_dict() == {"name": g.name, "suppressed": True}
    assert all(f.source not in {g.name for g in hidden} and f.target not in {g.name for g in hidden}
               for f in report.flows)  # fmt: skip


def test_viewer_only_gets_readable_spaces(demo: tuple[Store, dict[str, object]], tmp_path: Path) -> None:
    store = demo[0]
    public = build_report(store, store.viewer(None), settings=Settings())
    assert not public.scope.all_spaces
    assert (
        public.totals["help_events"]
        < build_report(store, Viewer.system(), organisation=True, settings=Settings()).totals["help_events"]
    )
    assert "Partner Alliances" not in {s.group for s in public.silos if s.external_share > 0.5}
    out = write_html(public, tmp_path / "r.html")
    assert out.read_text().startswith("<!doctype html>")
