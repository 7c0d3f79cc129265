"""Database URLs: SQLite by default, PostgreSQL by URL, both through eventsourcing-sqlalchemy."""

from __future__ import annotations

import os

DEFAULT_DATABASE_URL = "sqlite:///glasspocket.db"


def database_url(explicit: str | None = None) -> str:
    """``--db`` if given, else ``GLASSPOCKET_DATABASE_URL``, else ``sqlite:///glasspocket.db``."""
    return explicit or os.environ.get("GLASSPOCKET_DATABASE_URL") or DEFAULT_DATABASE_URL


def engine_url(url: str) -> str:
    """SQLAlchemy's URL for ``url``: PostgreSQL goes through psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def persistence_env(url: str) -> dict[str, str]:
    """The eventsourcing environment for a store at ``url``."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
        "SQLALCHEMY_URL": engine_url(url),
        "CREATE_TABLE": "y",
    }
