"""The analytics dashboard's view: the core's report plus its charts (the report's own SVG functions).

The charts are inline SVG made on the server by :mod:`whoknows.analytics.svg`; the one inline ``style`` attribute
those functions write (for the offline HTML report) is removed here, because the pages' CSP allows no inline
styles: the dashboard's stylesheet sizes the charts instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from whoknows.analytics import svg
from whoknows.analytics.report import Report

MONTH_CHOICES = (3, 6, 12, 24)
_INLINE_STYLE = re.compile(r'\sstyle="[^"]*"')


def chart(markup: str) -> Markup:
    """Trusted SVG from :mod:`whoknows.analytics.svg` (it escapes every label), without inline styles."""
    return Markup(_INLINE_STYLE.sub("", markup))


@dataclass
class Kpi:
    value: str
    label: str


@dataclass
class DashboardView:
    report: Report
    scope: str
    months: int
    kpis: list[Kpi] = field(default_factory=list)
    charts: dict[str, Markup] = field(default_factory=dict)
    meters: dict[str, Markup] = field(default_factory=dict)
    suppressed_months: list[str] = field(default_factory=list)
    index_components: list[tuple[str, str]] = field(default_factory=list)


def dashboard_view(report: Report, *, scope: str, months: int) -> DashboardView:
    view = DashboardView(report, scope, months)
    t = report.totals
    if t:
        index = report.index.value if report.index and report.index.value is not None else None
        view.kpis = [
            Kpi("—" if index is None else f"{index:.0f}", "collaboration index (of 100)"),
            Kpi(f"{t.get('help_events', 0):,}", "times someone helped a colleague"),
            Kpi(f"{t.get('answered', 0):,} / {t.get('questions', 0):,}", "questions answered"),
            Kpi(f"{t.get('active_people', 0):,}", "people exchanging help"),
        ]
        if report.overload:
            view.kpis.append(Kpi(f"{100 * report.overload.top_share:.0f}%", "of help comes from the top 5% of helpers"))
        view.kpis.append(Kpi(str(len(report.one_person_topics)), "topics that depend on one person"))
    if report.index and report.index.value is not None:
        view.index_components = [(k, f"{v:.2f}") for k, v in report.index.components.items() if v is not None]
    shown = [g for g in report.departments if not g.suppressed]
    silo_names = {s.group for s in report.silos}
    view.charts["network"] = chart(svg.network([(g.name, g.people) for g in shown], report.flows, silo_names, size=480))
    view.charts["balance"] = chart(
        svg.bars([(b, float(n)) for b, n in report.balance_histogram], title="People by give/take balance",
                 rotate=True)
    )  # fmt: skip
    months_shown = [m for m in report.trend if not m.suppressed]
    view.suppressed_months = [m.month for m in report.trend if m.suppressed]
    if months_shown:
        view.charts["events"] = chart(
            svg.bars([(m.month, float(m.events)) for m in months_shown], height=180, title="Help events per month")
        )
        view.charts["index"] = chart(
            svg.line([(m.month, m.index) for m in months_shown], height=170, title="Collaboration index per month")
        )
    peak = max((max(g.given, g.received) for g in shown), default=1.0) or 1.0
    for g in shown:
        view.meters[f"given:{g.name}"] = chart(svg.meter(g.given, peak))
        view.meters[f"received:{g.name}"] = chart(svg.meter(g.received, peak, colour=svg.RED))
    return view


def months_param(value: Any) -> int:
    try:
        months = int(value)
    except (TypeError, ValueError):
        return 6
    return months if months in MONTH_CHOICES else 6
