"""Turning what a user typed after ``--db`` into a database URL, with clear errors."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from whoknows.errors import ConfigError

SUPPORTED = ("sqlite", "postgresql")


def normalize_db_url(value: str) -> str:
    """Accept a plain file path, ``sqlite:///…`` or ``postgresql://…``; return a SQLAlchemy URL string.

    PostgreSQL URLs are pinned to the psycopg 3 driver. Anything else raises :class:`ConfigError` naming the
    value and what is accepted.
    """
    value = value.strip()
    if not value:
        raise ConfigError("--db is empty: give a SQLite file path or a postgresql:// URL", code="config.db_url")
    if "://" not in value:
        if value == ":memory:":
            return "sqlite://"
        return "sqlite:///" + str(Path(value).expanduser().absolute())
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ConfigError(
            f"--db {value!r} is not a valid database URL ({exc}); use a file path or postgresql://user@host/db",
            code="config.db_url",
        ) from None
    backend = url.get_backend_name()
    if backend not in SUPPORTED:
        raise ConfigError(
            f"--db {redact(value)!r}: unsupported database {backend!r}; use a SQLite file path or "
            "postgresql://user@host:port/dbname",
            code="config.db_url",
        )
    if backend == "postgresql":
        if url.get_driver_name() not in ("psycopg", "postgresql"):
            raise ConfigError(
                f"--db {redact(value)!r}: driver {url.get_driver_name()!r} is not supported; use postgresql://",
                code="config.db_url",
            )
        if not url.database:
            raise ConfigError(
                f"--db {redact(value)!r} names no database; use postgresql://user@host:port/dbname",
                code="config.db_url",
            )
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def redact(value: str | URL) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        url = make_url(value) if isinstance(value, str) else value
    except ArgumentError:
        return str(value)
    return url.render_as_string(hide_password=True)
