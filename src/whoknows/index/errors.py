"""Errors of the search index, each with a stable code (see :mod:`whoknows.errors`)."""

from __future__ import annotations

from whoknows.errors import WhoknowsError


class SearchIndexError(WhoknowsError):
    """Base of index errors. Codes: ``index.missing``, ``index.corrupt``, ``index.stale``, ``index.wrong_database``,
    ``index.error``."""

    code = "index.error"
    http_status = 503


class IndexMissingError(SearchIndexError):
    code = "index.missing"


class IndexCorruptError(SearchIndexError):
    code = "index.corrupt"


class IndexStaleError(SearchIndexError):
    """The index was built from an older state of the store than the caller's; rebuild or update it."""

    code = "index.stale"


class IndexWrongDatabaseError(SearchIndexError):
    """The index was built from another database than the caller's (or records none): never used for it."""

    code = "index.wrong_database"


class ExtraMissingError(SearchIndexError):
    """An optional dependency (a ``pip install 'whoknows[EXTRA]'`` extra) is needed for this embedder."""

    code = "index.extra_missing"
    http_status = 501


def extra_missing(extra: str, module: str, what: str, install: str | None = None) -> ExtraMissingError:
    """``install``: the command when it is not ``pip install 'whoknows[extra]'`` (a package that must be
    installed without its declared dependencies)."""
    command = install or f"pip install 'whoknows[{extra}]'"
    return ExtraMissingError(
        f"{what} needs the optional extra '{extra}' (module '{module}' is not installed): {command}",
        details={"extra": extra, "module": module, "install": command},
    )
