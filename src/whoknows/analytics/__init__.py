"""Collaboration analytics: the give/take ledger, metrics per person, group, topic and organisation, and reports.

``build_report(store, viewer=..., months=...)`` is the one entry point; ``render_terminal`` and ``write_html``
format its result. See docs/analytics.md for every definition and the privacy rules.
"""

from whoknows.analytics.build import build_report
from whoknows.analytics.errors import AnalyticsDisabled, AnalyticsError, PerformanceFileError
from whoknows.analytics.html import render_html, write_html
from whoknows.analytics.report import Report
from whoknows.analytics.terminal import render_terminal

__all__ = [
    "AnalyticsDisabled",
    "AnalyticsError",
    "PerformanceFileError",
    "Report",
    "build_report",
    "render_html",
    "render_terminal",
    "write_html",
]
