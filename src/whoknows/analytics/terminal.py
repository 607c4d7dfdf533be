"""Rendering a :class:`Report` in the terminal (rich tables)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from whoknows.analytics.report import Report

SUPPRESSED = "[dim]suppressed[/dim]"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def render_terminal(report: Report, console: Console) -> None:
    s = report.scope
    where = "every space (admin)" if s.all_spaces else f"{s.spaces} spaces readable by {s.viewer or 'anyone (public)'}"
    console.print(
        f"[bold]Collaboration report[/bold] — {where}; {s.since or '?'} … {s.until or '?'} ({s.months} months)"
    )
    for m in report.messages:
        console.print(f"[yellow]• {m}[/yellow]")
    t = report.totals
    if t:
        console.print(
            f"{t['questions']} questions, {t['answered']} answered; {t['help_events']} help events between "
            f"{t['active_people']} people ({t['helpers']} helped someone)"
        )
    if report.index and report.index.value is not None:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in report.index.components.items() if v is not None)
        console.print(f"[bold]Collaboration index: {report.index.value:.1f}[/bold] / 100  ({parts})")
    if report.overload:
        o = report.overload
        console.print(
            f"Overload: the top 5% of helpers ({o.top_helpers} of {o.helpers}) give {_pct(o.top_share)} of help"
        )
    if report.departments:
        table = Table(title="Departments")
        for col in ("department", "people", "given", "received", "balance", "crosses depts", "median wait h"):
            table.add_column(col, justify="left" if col == "department" else "right")
        for g in report.departments:
            if g.suppressed:
                table.add_row(g.name, SUPPRESSED, "", "", "", "", "")
                continue
            wait = f"{g.median_response_hours:.1f}" if g.median_response_hours is not None else "—"
            table.add_row(g.name, str(g.people), f"{g.given:.0f}", f"{g.received:.0f}", f"{g.balance:+.2f}",
                          _pct(g.cross_department_share), wait)  # fmt: skip
        console.print(table)
    if report.silos or report.team_silos:
        table = Table(title="Silos (little exchange with others)")
        for col in ("group", "people", "help crossing its boundary", "expected", "ratio"):
            table.add_column(col)
        for silo in [*report.silos, *report.team_silos]:
            table.add_row(silo.group, str(silo.people), _pct(silo.external_share), _pct(silo.expected_share),
                          f"{silo.ratio:.2f}")  # fmt: skip
        console.print(table)
    if report.trend:
        table = Table(title="Trend per month")
        for col in ("month", "help events", "active people", "crosses depts", "index"):
            table.add_column(col, justify="right")
        for month in report.trend:
            if month.suppressed:
                table.add_row(month.month, SUPPRESSED, "", "", "")
            else:
                idx = f"{month.index:.1f}" if month.index is not None else "—"
                table.add_row(
                    month.month, str(month.events), str(month.active_people), _pct(month.cross_department_share), idx
                )
        console.print(table)
    if report.topics:
        table = Table(title="Topics by bus factor (people who answered ≥ 2 of its questions)")
        for col in ("topic", "questions", "answered", "bus factor", "top answerer share", "one person?"):
            table.add_column(col)
        for topic in report.topics[:15]:
            who = f" ({topic.top_person})" if topic.one_person and topic.top_person else ""
            table.add_row(topic.label, str(topic.questions), str(topic.answered), str(topic.bus_factor),
                          _pct(topic.top_share), ("[red]yes[/red]" + who) if topic.one_person else "")  # fmt: skip
        console.print(table)
        console.print(f"[dim]{report.topic_method}[/dim]")
    if report.bridges or report.bridges_hidden:
        if report.bridges:
            table = Table(title="Bridges (people connecting otherwise separate groups)")
            for col in ("person", "department", "betweenness", "connects"):
                table.add_column(col)
            for b in report.bridges:
                table.add_row(b.name, b.department, f"{b.betweenness:.3f}", ", ".join(b.departments))
            console.print(table)
        if report.bridges_hidden:
            console.print(f"{report.bridges_hidden} bridge people found (names need individual access)")
    if report.people:
        table = Table(title="People (individual view)")
        for col in ("person", "department", "given", "received", "helped people", "helped depts"):
            table.add_column(col)
        for p in report.people[:20]:
            table.add_row(p.name, p.department, f"{p.given:.1f}", f"{p.received:.1f}", str(p.helped_people),
                          str(p.helped_departments))  # fmt: skip
        console.print(table)
    _performers(report, console)


def _performers(report: Report, console: Console) -> None:
    perf = report.performers
    if perf is None:
        return
    console.print(f"[bold]Top performers' know-how[/bold] ({perf.matched} people matched in the performance file)")
    if perf.note:
        console.print(f"[yellow]{perf.note}[/yellow]")
    table = Table()
    for col in ("group", "people", "answered", "in memory", "reached people", "reached depts", "reuse"):
        table.add_column(col)
    for name, k in (("top performers", perf.top), ("other helpers", perf.rest)):
        if k is not None:
            table.add_row(name, str(k.people), str(k.answered), _pct(k.in_memory_share), str(k.reached_people),
                          str(k.reached_departments), str(k.reuse))  # fmt: skip
    for row in perf.individuals:
        table.add_row(row["name"], "1", str(row["answered"]), _pct(row["in_memory_share"]), str(row["reached_people"]),
                      str(row["reached_departments"]), str(row["reuse"]))  # fmt: skip
    console.print(table)
