"""The one typed settings object. Values come from arguments, then ``WHOKNOWS_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return user_data_path("whoknows", appauthor=False)


class Settings(BaseSettings):
    """Settings of one whoknows installation. Pass it explicitly; nothing reads the environment elsewhere."""

    model_config = SettingsConfigDict(env_prefix="WHOKNOWS_", extra="ignore")

    #: Database: a SQLite file path, ``sqlite:///path`` or ``postgresql://user@host/db``. Default: a SQLite file
    #: ``whoknows.db`` in ``data_dir``.
    db: str | None = None
    #: Folder for the default database, derived indexes and reports.
    data_dir: Path = Field(default_factory=default_data_dir)
    #: SQLite busy timeout in milliseconds (how long a reader/writer waits for a lock).
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    #: Rows per transaction when importing or generating data.
    batch_size: int = Field(default=5_000, ge=1)
    #: Collaboration analytics (``whoknows report``); False switches them off for this organisation.
    analytics_enabled: bool = True
    #: Analytics aggregates over fewer people than this are suppressed (with the cells that would reveal them).
    analytics_min_group: int = Field(default=5, ge=2)
    #: Job titles (people.role) that may see individual-level analytics of others; empty: only one's own.
    analytics_individual_roles: list[str] = Field(default_factory=list)

    def database_url(self) -> str:
        """The database URL to use, with the default SQLite file resolved."""
        from whoknows.store.urls import normalize_db_url

        if self.db:
            return normalize_db_url(self.db)
        return normalize_db_url(str(self.data_dir / "whoknows.db"))
