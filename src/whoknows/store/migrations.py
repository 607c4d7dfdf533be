"""Ordered, named schema migrations, recorded in ``schema_migrations`` and applied in one transaction.

Add a migration by appending ``Migration(version, name, upgrade)`` to :data:`MIGRATIONS`; never edit an applied
one. Migration 0001 creates the initial tables from :mod:`whoknows.store.schema`: when a later migration alters
one of those tables, freeze 0001 first (copy the table definitions it needs into it), so that a fresh database
and an upgraded one end up identical; ``tests/store/test_migrations.py`` checks exactly that.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, inspect, select

from whoknows.errors import StoreError
from whoknows.store import schema


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    upgrade: Callable[[Connection], None]


def _m0001_initial(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=schema.INITIAL_TABLES)


def _m0002_qa_pairs(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=schema.MEMORY_TABLES)


def _m0003_routing(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=schema.ROUTING_TABLES)


def _m0004_accounts(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=schema.ACCOUNT_TABLES)


def _m0005_visibility(conn: Connection) -> None:
    schema.ix_spaces_visibility.create(conn, checkfirst=True)


def _m0006_fk_indexes(conn: Connection) -> None:
    schema.ix_messages_reply_to.create(conn, checkfirst=True)
    schema.ix_route_answers_message.create(conn, checkfirst=True)


def _m0007_database_identity(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=schema.IDENTITY_TABLES)
    conn.execute(
        insert(schema.database_identity).values(id=1, database_id=uuid.uuid4().hex, created_at=datetime.now(UTC))
    )


def _m0008_login_failures(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=schema.LOGIN_TABLES)


def _m0009_directory(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=schema.DIRECTORY_TABLES)


MIGRATIONS: list[Migration] = [
    Migration(1, "initial", _m0001_initial),
    Migration(2, "qa_pairs", _m0002_qa_pairs),
    Migration(3, "routing", _m0003_routing),
    Migration(4, "accounts", _m0004_accounts),
    Migration(5, "spaces_visibility_index", _m0005_visibility),
    Migration(6, "message_reference_indexes", _m0006_fk_indexes),
    Migration(7, "database_identity", _m0007_database_identity),
    Migration(8, "login_failures", _m0008_login_failures),
    Migration(9, "directory", _m0009_directory),
]

LATEST = MIGRATIONS[-1].version


def current_version(conn: Connection) -> int:
    """The schema version recorded in the database, 0 for an empty database."""
    if not inspect(conn).has_table("schema_migrations"):
        if inspect(conn).get_table_names():
            raise StoreError(
                "the database is not empty but has no whoknows schema table; refusing to touch it "
                "(point --db at a new file or a whoknows database)",
                code="store.foreign_database",
            )
        return 0
    version = conn.execute(
        select(schema.schema_migrations.c.version).order_by(schema.schema_migrations.c.version.desc()).limit(1)
    ).scalar()
    return int(version or 0)


def check_version(version: int, where: str) -> None:
    if version > LATEST:
        raise StoreError(
            f"{where} has schema version {version}, newer than this whoknows understands ({LATEST}); "
            "upgrade whoknows, or point --db at another database. Nothing was changed.",
            code="store.schema_too_new",
        )


def pending(version: int) -> list[Migration]:
    return [m for m in MIGRATIONS if m.version > version]


def apply(conn: Connection, migrations: list[Migration]) -> list[Migration]:
    """Apply ``migrations`` inside the caller's transaction and record each of them."""
    for migration in migrations:
        migration.upgrade(conn)
        conn.execute(
            insert(schema.schema_migrations).values(
                version=migration.version, name=migration.name, applied_at=datetime.now(UTC)
            )
        )
    return migrations
