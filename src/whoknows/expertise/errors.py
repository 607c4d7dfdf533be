"""Errors of expert finding, each with a stable code (see :mod:`whoknows.errors`)."""

from __future__ import annotations

from whoknows.errors import WhoknowsError


class ExpertiseError(WhoknowsError):
    """Base of expertise errors. Codes: ``expertise.missing``, ``expertise.stale``, ``expertise.corrupt``,
    ``expertise.wrong_database``."""

    code = "expertise.error"
    http_status = 503


class ExpertiseMissingError(ExpertiseError):
    """No expertise model has been built in the folder; build it (``build_expertise``)."""

    code = "expertise.missing"


class ExpertiseStaleError(ExpertiseError):
    """The model was built from an older state of the store than the current one."""

    code = "expertise.stale"


class ExpertiseCorruptError(ExpertiseError):
    code = "expertise.corrupt"


class ExpertiseWrongDatabaseError(ExpertiseError):
    """The model was built from another database than the caller's (or records none): never used for it."""

    code = "expertise.wrong_database"
