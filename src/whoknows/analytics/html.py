"""The HTML report: one self-contained file (inline CSS and SVG, no script, no network access when opened)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from whoknows.analytics import svg
from whoknows.analytics.report import Report

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#1f2933;margin:0;background:#f5f7fa}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px} h2{font-size:18px;margin:0 0 10px}
.sub{color:#616e7c;margin-bottom:18px} .card{background:white;border-radius:8px;padding:16px 18px;margin:0 0 18px;
box-shadow:0 1px 3px rgba(0,0,0,.08)} .grid{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.kpis{display:flex;gap:14px;flex-wrap:wrap} .kpi{background:white;border-radius:8px;padding:12px 16px;min-width:150px;
box-shadow:0 1px 3px rgba(0,0,0,.08)} .kpi b{display:block;font-size:26px} .kpi span{color:#616e7c;font-size:13px}
table{border-collapse:collapse;width:100%;font-size:13px} th,td{text-align:left;padding:5px 8px;
border-bottom:1px solid #e4e7eb} th{color:#616e7c;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.warn{background:#fff8e1;border-left:4px solid #f0b429;padding:8px 12px;margin:0 0 8px}
.bad{color:#c0392b;font-weight:600} .dim{color:#9aa5b1} .note{color:#616e7c;font-size:12px;margin-top:8px}
"""


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _kpi(value: str, label: str) -> str:
    return f'<div class="kpi"><b>{escape(value)}</b><span>{escape(label)}</span></div>'


def _table(head: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: Report) -> str:
    s, t = report.scope, report.totals
    where = "every space (admin run)" if s.all_spaces else f"{s.spaces} spaces readable by {s.viewer or 'anyone'}"
    parts = [f"<h1>Collaboration report</h1><div class='sub'>{escape(where)} · {escape((s.since or '?')[:10])} – "
             f"{escape((s.until or '?')[:10])} ({s.months} months) · "
             f"groups under {s.min_group} people suppressed</div>"]  # fmt: skip
    parts += [f'<div class="warn">{escape(m)}</div>' for m in report.messages]
    if t:
        kpis = [_kpi(f"{report.index.value:.0f}" if report.index and report.index.value is not None else "—",
                     "collaboration index / 100"),
                _kpi(str(t["help_events"]), "help events"),
                _kpi(f"{t['answered']}/{t['questions']}", "questions answered"),
                _kpi(str(t["active_people"]), "people exchanging help")]  # fmt: skip
        if report.overload:
            kpis.append(_kpi(_pct(report.overload.top_share), "of help given by the top 5% of helpers"))
        kpis.append(_kpi(str(len(report.one_person_topics)), "topics depending on one person"))
        parts.append(f'<div class="kpis card" style="background:none;box-shadow:none;padding:0">{"".join(kpis)}</div>')
    if report.index and report.index.value is not None:
        comps = ", ".join(f"{k} {v:.2f}" for k, v in report.index.components.items() if v is not None)
        parts.append(f'<p class="note">Index components: {escape(comps)} (formula: docs/analytics.md)</p>')
    shown = [g for g in report.departments if not g.suppressed]
    silo_names = {x.group for x in report.silos}
    net = svg.network([(g.name, g.people) for g in shown], report.flows, silo_names)
    hist = svg.bars([(b, float(n)) for b, n in report.balance_histogram], title="Give/take balance", rotate=True)
    parts.append(
        '<div class="grid"><div class="card"><h2>Help between departments</h2>' + net
        + '<p class="note">Circle area: active people. Line width: help exchanged. Red: silo.</p></div>'
        + '<div class="card"><h2>Give/take distribution</h2>' + hist
        + '<p class="note">People by balance (given − received) / (given + received): −1 only receives help, '
        + "+1 only gives it.</p>" + _trend(report) + "</div></div>"
    )  # fmt: skip
    parts.append(_departments(report))
    parts.append(_silos(report))
    parts.append(_topics(report))
    parts.append(_people(report))
    parts.append(_performers(report))
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>whoknows collaboration report</title>"
            f"<style>{CSS}</style></head><body><main>{''.join(parts)}</main></body></html>")  # fmt: skip


def _trend(report: Report) -> str:
    months = [m for m in report.trend if not m.suppressed]
    if not months:
        return ""
    return ("<h2 style='margin-top:14px'>Monthly trend</h2>" + svg.bars([(m.month, float(m.events)) for m in months],
            height=160, title="Help events per month") + svg.line([(m.month, m.index) for m in months], height=150,
            title="Collaboration index per month")
            + '<p class="note">Bars: help events. Line: collaboration index.</p>')  # fmt: skip


def _departments(report: Report) -> str:
    if not report.departments:
        return ""
    peak = max((max(g.given, g.received) for g in report.departments if not g.suppressed), default=1.0)
    rows = []
    for g in report.departments:
        if g.suppressed:
            rows.append([escape(g.name), '<span class="dim">suppressed</span>', "", "", "", "", ""])
            continue
        wait = f"{g.median_response_hours:.1f}" if g.median_response_hours is not None else "—"
        rows.append([escape(g.name), str(g.people), f"{g.given:.0f} " + svg.meter(g.given, peak),
                     f"{g.received:.0f} " + svg.meter(g.received, peak, colour=svg.RED), f"{g.balance:+.2f}",
                     _pct(g.cross_department_share), wait])  # fmt: skip
    head = ["department", "active people", "help given", "help received", "balance", "crosses departments",
            "median hours to answer"]  # fmt: skip
    return '<div class="card"><h2>Departments</h2>' + _table(head, rows, {1, 4, 5, 6}) + "</div>"


def _silos(report: Report) -> str:
    items = [*report.silos, *report.team_silos]
    body = "<p>No silos: every shown group exchanges help with others at least half as much as random mixing.</p>"
    if items:
        body = _table(["group", "active people", "help crossing its boundary", "expected (random mixing)", "ratio"],
                      [[escape(x.group), str(x.people), _pct(x.external_share), _pct(x.expected_share),
                        f'<span class="bad">{x.ratio:.2f}</span>'] for x in items], {1, 2, 3, 4})  # fmt: skip
    bridges = ""
    if report.bridges:
        bridges = "<h2 style='margin-top:14px'>Bridges</h2>" + _table(
            ["person", "department", "betweenness", "connects"],
            [[escape(b.name), escape(b.department), f"{b.betweenness:.3f}", escape(", ".join(b.departments))]
             for b in report.bridges], {2})  # fmt: skip
    elif report.bridges_hidden:
        bridges = f"<p>{report.bridges_hidden} bridge people found; their names need individual access.</p>"
    return f'<div class="card"><h2>Silos</h2>{body}{bridges}</div>'


def _topics(report: Report) -> str:
    if not report.topics:
        return ""
    peak = max(t.bus_factor for t in report.topics) or 1
    rows = []
    for t in report.topics[:30]:
        flag = '<span class="bad">depends on one person</span>' if t.one_person else ""
        if t.one_person and t.top_person:
            flag += f" ({escape(t.top_person)})"
        colour = svg.RED if t.bus_factor <= 1 else svg.BLUE
        rows.append([escape(t.label), str(t.questions), str(t.answered),
                     f"{t.bus_factor} " + svg.meter(t.bus_factor, peak, colour=colour), _pct(t.top_share),
                     flag])  # fmt: skip
    head = ["topic (top terms)", "questions", "answered", "bus factor", "top answerer's share", ""]
    return (f'<div class="card"><h2>Topics by bus factor</h2>{_table(head, rows, {1, 2, 4})}'
            f'<p class="note">{len(report.topics)} topics, lowest bus factor first (at most 30 shown). '
            f'{escape(report.topic_method)}. Bus factor: people who answered at least 2 of the '
            "topic's questions in the period.</p></div>")  # fmt: skip


def _people(report: Report) -> str:
    if not report.people:
        return ""
    rows = [[escape(p.name), escape(p.department), f"{p.given:.1f}", f"{p.received:.1f}", str(p.helped_people),
             str(p.helped_departments)] for p in report.people[:50]]  # fmt: skip
    head = ["person", "department", "help given", "help received", "people helped", "departments helped"]
    return f'<div class="card"><h2>People (individual view)</h2>{_table(head, rows, {2, 3, 4, 5})}</div>'


def _performers(report: Report) -> str:
    perf = report.performers
    if perf is None:
        return ""
    rows = []
    for name, k in (("top performers", perf.top), ("other helpers", perf.rest)):
        if k is not None:
            rows.append([name, str(k.people), str(k.answered), _pct(k.in_memory_share), str(k.reached_people),
                         str(k.reached_departments), str(k.reuse)])  # fmt: skip
    for r in perf.individuals:
        rows.append([escape(r["name"]), "1", str(r["answered"]), _pct(r["in_memory_share"]), str(r["reached_people"]),
                     str(r["reached_departments"]), str(r["reuse"])])  # fmt: skip
    head = ["group", "people", "questions answered", "captured in memory", "people reached", "departments reached",
            "reuse (later similar questions)"]  # fmt: skip
    note = f'<p class="warn">{escape(perf.note)}</p>' if perf.note else ""
    return f'<div class="card"><h2>Top performers\' know-how</h2>{note}{_table(head, rows, {1, 2, 3, 4, 5, 6})}</div>'


def write_html(report: Report, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
