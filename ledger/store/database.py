"""Database URLs, and what a failing database means to the ledger.

URLs: SQLite by default, PostgreSQL by URL, both through eventsourcing-sqlalchemy.

Failures: every SQLAlchemy engine of the process turns a lost connection (server down,
backend terminated, dead port) into ``StorageError`` and a full disk (or quota, or
SQLite's page limit) into ``StorageFullError`` at the statement that met it, so callers
see a stable code in zh-CN and en instead of a driver's exception. The transaction that
met it is rolled back by the database: nothing of it is stored.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from ledger.core.errors import LedgerError, StorageError, StorageFullError

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
    """The eventsourcing environment for a store at ``url`` (and storage errors mapped)."""
    install_storage_errors()
    return {
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
        "SQLALCHEMY_URL": engine_url(url),
        "CREATE_TABLE": "y",
    }


# --- storage failures ------------------------------------------------------------------------

_FULL_SQLSTATE_CLASS = "53"  # insufficient resources: disk full, out of memory, too many...
_LOST_SQLSTATE_PREFIXES = ("08", "57P")  # connection exception; operator intervention
_FULL_TEXT = ("database or disk is full", "no space left on device", "disk quota exceeded")
_LOST_TEXT = (
    "unable to open database file",
    "disk i/o error",
    "server closed the connection",
    "terminating connection",
    "connection refused",
    "connection is closed",
    "could not connect",
    "consuming input failed",
)


def storage_error(exc: BaseException, disconnect: bool = False) -> LedgerError | None:
    """The ``StorageError`` a driver's exception means, or None for any other failure."""
    sqlstate = str(getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None) or "")
    text = str(exc).lower()
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    if sqlstate.startswith(_FULL_SQLSTATE_CLASS) or any(t in text for t in _FULL_TEXT):
        return StorageFullError(
            f"the database is full; nothing was stored ({detail})",
            f"数据库空间已满，本次未写入任何内容（{detail}）",
        )
    if (
        disconnect
        or sqlstate.startswith(_LOST_SQLSTATE_PREFIXES)
        or any(t in text for t in _LOST_TEXT)
    ):
        return StorageError(
            f"the database cannot be reached; nothing was stored, try again ({detail})",
            f"无法连接数据库，本次未写入任何内容，请重试（{detail}）",
        )
    return None


def _on_error(context: Any) -> None:
    mapped = storage_error(context.original_exception, bool(context.is_disconnect))
    if mapped is not None:
        raise mapped


def install_storage_errors() -> None:
    """Map storage failures of every engine in this process to ``StorageError`` (idempotent)."""
    if not event.contains(Engine, "handle_error", _on_error):
        event.listen(Engine, "handle_error", _on_error)


# --- creating the schema ---------------------------------------------------------------------

_SCHEMA_LOCK_KEY = 0x676C617373  # "glass": one advisory lock id for creating Glass Pocket tables


@contextmanager
def schema_lock(url: str) -> Iterator[None]:
    """Hold PostgreSQL's advisory lock for creating the schema (a no-op on SQLite).

    Two processes opening a fresh database at the same instant would otherwise race in
    PostgreSQL's catalogue (``CREATE TABLE IF NOT EXISTS`` and ``CREATE OR REPLACE
    FUNCTION`` are not safe to run concurrently): wrap the service's table creation in it.
    """
    target = engine_url(url)
    if not target.startswith("postgresql"):
        yield
        return
    install_storage_errors()
    engine = create_engine(target, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _SCHEMA_LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()
