"""One exception hierarchy for the whole core.

Every error a user can cause carries a stable ``code`` (e.g. ``store.schema_too_new``) and a message that says
what was wrong and where. Adapters (CLI, API) map these to exit codes and HTTP statuses; the core never raises
adapter-specific errors.
"""

from __future__ import annotations


class WhoknowsError(Exception):
    """Base of every error whoknows raises on purpose."""

    code: str = "whoknows.error"
    #: HTTP status an API adapter should use for this error.
    http_status: int = 400

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, object] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}

    def __str__(self) -> str:
        return self.message


class ConfigError(WhoknowsError):
    code = "config.invalid"


class StoreError(WhoknowsError):
    code = "store.error"
    http_status = 503


class NotFoundError(WhoknowsError):
    code = "not_found"
    http_status = 404


class InputError(WhoknowsError):
    """Bad input from a user or a file; the message names the file, line or field."""

    code = "input.invalid"
    http_status = 422
