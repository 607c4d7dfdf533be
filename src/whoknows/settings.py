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
    #: Folder for the default database and, under ``db/<database id>/``, each database's derived files.
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
    #: Routing: ask experts when memory's confidence is below this (0..1).
    routing_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    #: Routing: experts scoring at least this share of the best score count as "nearly as qualified"; among
    #: them the less loaded are preferred (1.0 = plain top-k ranking).
    routing_spread_margin: float = Field(default=0.8, ge=0.0, le=1.0)
    #: Routing: experts the ranker gives less than this chance of being the better expert than the question's best
    #: (sigmoid of the score difference) are never asked, also not in an escalation or because better ones are
    #: outside their working hours.
    routing_floor: float = Field(default=0.05, ge=0.0, le=0.5)
    #: Routing: hours an expert has to answer before the question escalates to the next experts.
    routing_escalation_hours: float = Field(default=24.0, gt=0.0)
    #: Routing: default weekly interruption budget of an expert who has not set one.
    routing_weekly_budget: int = Field(default=10, ge=0)
    #: Routing: how many times a notification is tried before it is marked failed.
    routing_max_attempts: int = Field(default=6, ge=1)
    #: SMTP server for e-mail notifications.
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    #: Sender address of e-mail notifications.
    smtp_from: str = "whoknows@localhost"
    #: Slack bot token (xoxb-…); empty: the Slack channel is off.
    slack_token: str = ""
    #: Slack Web API base URL (tests point it at a local endpoint).
    slack_base_url: str = "https://slack.com/api/"
    #: Slack signing secret that verifies slash commands and button clicks.
    slack_signing_secret: str = ""
    #: Secret that signs outgoing webhooks (HMAC-SHA256, header X-Whoknows-Signature).
    webhook_secret: str = ""
    #: Seconds before an outgoing webhook or SMTP call times out.
    notify_timeout_s: float = Field(default=10.0, gt=0.0)
    #: API server: largest accepted JSON request body in bytes (larger: 413).
    api_max_body_bytes: int = Field(default=1_048_576, ge=1_024)
    #: API server: largest accepted upload (``POST /api/v1/admin/imports``) in bytes.
    api_max_upload_bytes: int = Field(default=512 * 1_048_576, ge=1_024)
    #: API server: hours a browser session (login cookie) stays valid.
    api_session_hours: float = Field(default=12.0, gt=0.0)
    #: API server: mark the session cookie ``Secure`` (set to true whenever the server is reached over HTTPS).
    api_cookie_secure: bool = False
    #: Data retention: raw messages older than this many days are deleted by ``whoknows retention``
    #: (0 = keep forever).
    retention_days: int = Field(default=0, ge=0)
    #: Data retention: keep the extracted question→solution pairs of deleted messages, de-identified (no
    #: author, people's names scrubbed); false deletes them with the messages.
    retention_keep_knowledge: bool = True
    #: API server: failed logins allowed per account within the window (a client address gets 4x), counted in
    #: the database for every server process; more get 429 until the oldest failure leaves the window. 0 switches
    #: throttling off.
    api_login_max_failures: int = Field(default=5, ge=0)
    #: API server: the login throttling window in minutes.
    api_login_window_minutes: float = Field(default=15.0, gt=0.0)
    #: API server: threads per server process that run requests (more requests wait their turn). Searches are
    #: CPU-bound and share one interpreter lock: a few threads answer sooner than many taking turns.
    api_threads: int = Field(default=4, ge=1, le=256)

    def delivery_channels(self) -> list[str]:
        """The notification channels that can reach anyone here: e-mail once an SMTP server is configured
        (``WHOKNOWS_SMTP_HOST`` or ``_PORT`` given: the built-in localhost:25 is only a guess), Slack with a bot
        token. (A webhook is a person's own setting.) Without any, requests reach the whoknows inbox only."""
        out = ["email"] if {"smtp_host", "smtp_port"} & self.model_fields_set else []
        return out + (["slack"] if self.slack_token else [])

    def database_url(self) -> str:
        """The database URL to use, with the default SQLite file resolved."""
        from whoknows.store.urls import normalize_db_url

        if self.db:
            return normalize_db_url(self.db)
        return normalize_db_url(str(self.data_dir / "whoknows.db"))
