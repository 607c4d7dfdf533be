"""Errors of the analytics package (stable codes, clear messages)."""

from __future__ import annotations

from whoknows.errors import InputError, WhoknowsError


class AnalyticsError(WhoknowsError):
    code = "analytics.error"


class AnalyticsDisabled(AnalyticsError):
    """Analytics are switched off for this organisation (``WHOKNOWS_ANALYTICS_ENABLED=false``)."""

    code = "analytics.disabled"
    http_status = 403


class AnalyticsForbidden(AnalyticsError):
    """The viewer's role does not allow this view (e.g. the organisation-wide report needs an analyst)."""

    code = "analytics.forbidden"
    http_status = 403


class PerformanceFileError(InputError):
    """The performance CSV cannot be used at all (missing file, no header, no person or value column)."""

    code = "analytics.bad_performance_file"
