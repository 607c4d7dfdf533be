"""``build_report``: the one core function behind ``whoknows report`` (library first; adapters format it).

Permission choice: analytics are computed from the spaces the :class:`~whoknows.access.Viewer` may read, so no
number can leak a private space; ``organisation=True`` computes over every space and needs an analyst, admin or
the system viewer (the operator of the installation). Neither grants individual-level views: those need the
viewer to be the person, or a job title listed in ``analytics_individual_roles``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from whoknows.access import Viewer
from whoknows.analytics import rows as rowsmod
from whoknows.analytics.busfactor import topic_stats
from whoknows.analytics.errors import AnalyticsDisabled, AnalyticsForbidden
from whoknows.analytics.ledger import HelpEvent, events_from_space, with_topics
from whoknows.analytics.metrics import NO_DEPARTMENT, GroupStats, department_of, flows, group_stats, person_stats
from whoknows.analytics.network import bridges
from whoknows.analytics.org import collaboration_index, monthly_trend, overload, silos
from whoknows.analytics.performers import TOP_SHARE, PerformersReport, know_how, read_performance
from whoknows.analytics.privacy import Access, access_for, counted_events, suppress_nested
from whoknows.analytics.report import Flow, Report, Scope
from whoknows.analytics.topics import derive_topics
from whoknows.settings import Settings
from whoknows.store import Store
from whoknows.store.directory import visible_names

DAYS_PER_MONTH = 30.44
#: ``progress(stage, done, total)``: how far a report is (large organisations take a while).
ReportProgress = Callable[[str, int, int | None], None]


def build_report(
    store: Store,
    viewer: Viewer,
    *,
    organisation: bool = False,
    months: int = 6,
    performance_csv: Path | None = None,
    settings: Settings | None = None,
    topics_k: int | None = None,
    progress: ReportProgress | None = None,
) -> Report:
    """Collaboration analytics of the organisation in ``store`` over the last ``months`` months of its data."""

    def step(stage: str, done: int, total: int | None) -> None:
        if progress is not None:
            progress(stage, done, total)

    settings = settings or Settings()
    if not settings.analytics_enabled:
        raise AnalyticsDisabled("analytics are switched off for this organisation (WHOKNOWS_ANALYTICS_ENABLED=false)")
    if organisation and not viewer.has_role("analyst"):
        raise AnalyticsForbidden("the organisation-wide report needs the analyst role")
    admin = organisation
    months = max(1, months)
    with store.read() as conn:
        people = rowsmod.load_people(conn)
    viewer_row = people.get(viewer.person_id) if viewer.person_id is not None else None
    access = access_for(
        viewer_row, admin=admin, min_group=settings.analytics_min_group,
        individual_roles=settings.analytics_individual_roles,
    )  # fmt: skip
    readable = None if admin else viewer.spaces
    with store.read() as conn:
        spaces = rowsmod.load_spaces(conn, readable)
    events: list[HelpEvent] = []
    asked: dict[int, tuple[int | None, datetime]] = {}
    texts: dict[int, str] = {}
    space_of: dict[int, int] = {}
    step("reading spaces", 0, len(spaces))
    for part in rowsmod.iter_spaces(store, spaces, on_read=lambda n: step("reading spaces", n, len(spaces))):
        events.extend(events_from_space(part))
        for q in part.questions:
            if q.asker_id is None or (q.asker_id in people and not people[q.asker_id].excluded):
                asked[q.question_id] = (q.asker_id, q.created_at)
                texts[q.question_id] = q.text
                space_of[q.question_id] = part.space.id
    events = counted_events(events, people)
    until = max([e.at for e in events] + [a[1] for a in asked.values()], default=None)
    since = until - timedelta(days=DAYS_PER_MONTH * months) if until else None
    scope = Scope(
        viewer_row.name if viewer_row else None, admin, len(spaces), access.individual, access.min_group,
        since.isoformat() if since else None, until.isoformat() if until else None, months,
    )  # fmt: skip
    report = Report(scope)
    if since is None:
        report.messages.append("no interactions recorded in the spaces this report may read: nothing to measure")
        return report
    events = [e for e in events if e.asked_at >= since]
    asked = {q: a for q, a in asked.items() if a[1] >= since}
    qids = sorted(asked)
    # An organisation-wide report for a person (not the operator's own ``--admin`` run) counts every space, but its
    # topic labels use only words from spaces that person may read.
    may_label = None
    if admin and viewer.spaces is not None:
        may_label = [viewer.can_read(space_of[q]) for q in qids]
    step("topics", 0, 1)
    with store.read() as conn:  # a colleague's name is never a topic (only names the viewer may know of)
        names = visible_names(conn, viewer)
    topics = derive_topics(qids, [texts[q] for q in qids], k=topics_k, may_label=may_label, names=names)
    step("topics", 1, 1)
    events = with_topics(events, topics.of_question)
    report.topic_method = (
        f"TF-IDF over {len(qids)} question texts, spherical k-means into {len(topics.labels)} topics, labelled by "
        "their most distinctive words and phrases"
    )
    step("measures", 0, 1)
    _fill(report, events, people, asked, access)
    report.topics = topic_stats(events, topics, {q: a[1] for q, a in asked.items()}, since=since)
    step("measures", 1, 1)
    for t in report.topics:
        if t.top_person_id is not None and access.may_see_person(t.top_person_id):
            t.top_person = people[t.top_person_id].name
    if performance_csv is not None:
        report.performers = _performers(store, viewer, performance_csv, events, people, topics, asked, access)
        report.messages.extend(report.performers.warnings)
    return report


def _fill(
    report: Report,
    events: list[HelpEvent],
    people: Mapping[int, rowsmod.PersonRow],
    asked: Mapping[int, tuple[int | None, datetime]],
    access: Access,
) -> None:
    active = {p for e in events for p in (e.helper_id, e.helped_id)}
    kinds = Counter(e.kind.value for e in events)
    report.totals = {
        "questions": len(asked),
        "answered": len({e.question_id for e in events if e.strong}),
        "help_events": len(events),
        "help": round(sum(e.weight for e in events), 2),
        "active_people": len(active),
        "helpers": len({e.helper_id for e in events}),
        "by_kind": dict(kinds.most_common()),
        "by_source": dict(Counter(e.source_kind for e in events).most_common()),
    }
    if not events:
        report.messages.append("no help between two colleagues in this period: no give/take measures")
        return
    if len(active) < access.min_group:
        report.messages.append(
            f"only {len(active)} people exchanged help (fewer than the minimum group of {access.min_group}): "
            "organisation-wide aggregates are suppressed"
        )
        return
    depts = group_stats(events, people, department_of)
    teams = group_stats(events, people, lambda p: " / ".join(_team(p)))
    hidden_d, hidden_t = suppress_nested(
        {d: g.people for d, g in depts.items()},
        {_split(t): g.people for t, g in teams.items()},
        access.min_group,
    )
    for d, g in depts.items():
        g.suppressed = d in hidden_d
    for t, g in teams.items():
        g.suppressed = _split(t) in hidden_t
    report.departments = sorted(depts.values(), key=lambda g: (g.suppressed, -g.given - g.received, g.name))
    report.teams = sorted(teams.values(), key=lambda g: (g.suppressed, g.name))
    report.flows = [
        Flow(a, b, w)
        for (a, b), w in sorted(flows(events, people, department_of).items(), key=lambda kv: -kv[1])
        if a not in hidden_d and b not in hidden_d
    ]
    questions_per_month = Counter(a[1].strftime("%Y-%m") for a in asked.values())
    report.index = collaboration_index(events, people, len(asked))
    report.trend = monthly_trend(events, people, questions_per_month, access.min_group)
    report.silos = silos(depts.values(), len(active))
    report.team_silos = silos(teams.values(), len(active))
    found = bridges(events, people)
    report.bridges = [b for b in found if access.may_see_person(b.person_id)]
    report.bridges_hidden = len(found) - len(report.bridges)
    report.overload = overload(events)
    stats = person_stats(events, people)
    report.people = sorted(
        (s for pid, s in stats.items() if access.may_see_person(pid)), key=lambda s: (-s.given, s.person_id)
    )
    report.balance_histogram = _histogram([s.balance for s in stats.values()])
    _data_messages(report, depts, active, people)


def _team(p: rowsmod.PersonRow) -> tuple[str, str]:
    from whoknows.analytics.metrics import team_of

    return team_of(p)


def _split(team_key: str) -> tuple[str, str]:
    d, _, t = team_key.rpartition(" / ")
    return d, t


def _histogram(balances: list[float], bins: int = 10) -> list[tuple[str, int]]:
    counts = [0] * bins
    for b in balances:
        counts[min(bins - 1, int((b + 1) / 2 * bins))] += 1
    edges = [-1 + 2 * i / bins for i in range(bins + 1)]
    return [(f"{edges[i]:+.1f}..{edges[i + 1]:+.1f}", counts[i]) for i in range(bins)]


def _data_messages(
    report: Report, depts: Mapping[str, GroupStats], active: set[int], people: Mapping[int, rowsmod.PersonRow]
) -> None:
    missing = sum(1 for p in active if department_of(people[p]) == NO_DEPARTMENT)
    named = [d for d in depts if d != NO_DEPARTMENT]
    if missing == len(active):
        report.messages.append(
            "no department data for anyone: department measures (cross-department share, silos, mixing) are "
            "undefined; import a directory with departments (see docs/formats.md)"
        )
    elif missing:
        report.messages.append(
            f"{missing} of {len(active)} active people have no department: grouped as {NO_DEPARTMENT}"
        )
    if len(named) == 1 and not missing:
        report.messages.append(f"only one department ({named[0]}): cross-department measures are undefined")
    hidden = sum(1 for g in depts.values() if g.suppressed)
    if hidden:
        report.messages.append(
            f"{hidden} department(s) suppressed: fewer than {report.scope.min_group} active people, or needed to "
            "keep a small group from being computed by difference"
        )


def _performers(
    store: Store,
    viewer: Viewer,
    path: Path,
    events: list[HelpEvent],
    people: Mapping[int, rowsmod.PersonRow],
    topics: object,
    asked: Mapping[int, tuple[int | None, datetime]],
    access: Access,
) -> PerformersReport:
    from whoknows.analytics.topics import Topics

    assert isinstance(topics, Topics)
    rows, warnings = read_performance(store, path, viewer)
    rows = [r for r in rows if r.person_id in people and not people[r.person_id].excluded]
    out = PerformersReport(matched=len(rows), top=None, rest=None, warnings=warnings)
    if not rows:
        out.note = f"no usable rows in {path}: no top performers to measure"
        return out
    ranked = sorted(rows, key=lambda r: -r.value)
    n_top = max(1, round(TOP_SHARE * len(ranked)))
    top = {r.person_id for r in ranked[:n_top]}
    helpers = {e.helper_id for e in events}
    rest = helpers - top
    if len(top) >= access.min_group:
        out.top = know_how(top, events, people, topics, asked)
    else:
        out.note = (
            f"{len(top)} top performers (the top quarter of {len(rows)}): fewer than the minimum group of "
            f"{access.min_group}, so their aggregate is suppressed"
        )
    if len(rest) >= access.min_group:
        out.rest = know_how(rest, events, people, topics, asked)
    value = {r.person_id: r.value for r in rows}
    for pid in sorted(top, key=lambda p: -value[p]):
        if access.may_see_person(pid):
            k = know_how({pid}, events, people, topics, asked)
            out.individuals.append({"person_id": pid, "name": people[pid].name, "value": value[pid], **k.as_dict()})
    return out
