"""Storage: one interface (:class:`Store`) over SQLite and PostgreSQL, with versioned migrations."""

from whoknows.store.store import Store, open_store

__all__ = ["Store", "open_store"]
