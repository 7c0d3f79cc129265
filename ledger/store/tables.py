"""The log's own tables beside eventsourcing's, and the triggers that make stored rows immutable.

- ``gp_communities``: each community's origin and trust policy.
- ``gp_leaves``: the RFC 6962 leaf hash of every entry, by index.
- ``gp_tiles``: every full hash tile (C2SP tlog-tiles, height 8); partial tiles are
  computed from the leaves and full tiles on demand.
- ``gp_checkpoints``: every checkpoint the log key signed (the log's signature only).
- ``gp_cosignatures``: witnesses' cosignature lines on those checkpoints, one per policy
  witness and size, each verified against the community's policy before it is stored.

Leaves and tiles are written in the transaction that stores the entries. Rows of
the events table and of these tables are never updated or deleted: database
triggers refuse it, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.engine import Engine

EVENTS_TABLE = "glasspocket_events"

metadata = MetaData()

communities = Table(
    "gp_communities",
    metadata,
    Column("community", String(64), primary_key=True),
    Column("origin", String(300), nullable=False, unique=True),
    Column("policy", Text, nullable=False),
)

leaves = Table(
    "gp_leaves",
    metadata,
    Column("community", String(64), primary_key=True),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

tiles = Table(
    "gp_tiles",
    metadata,
    Column("community", String(64), primary_key=True),
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

checkpoints = Table(
    "gp_checkpoints",
    metadata,
    Column("community", String(64), primary_key=True),
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("note", Text, nullable=False),
)

cosignatures = Table(
    "gp_cosignatures",
    metadata,
    Column("community", String(64), primary_key=True),
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("witness", String(300), primary_key=True),
    Column("line", Text, nullable=False),
)

IMMUTABLE_TABLES = (EVENTS_TABLE, "gp_leaves", "gp_tiles", "gp_checkpoints", "gp_cosignatures")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION gp_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'glasspocket: stored log rows are immutable (% on %)', TG_OP, TG_TABLE_NAME;
END $$
"""

_PG_TRIGGER = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'gp_immutable_{table}') THEN
    CREATE TRIGGER gp_immutable_{table} BEFORE UPDATE OR DELETE ON {table}
      FOR EACH ROW EXECUTE FUNCTION gp_refuse_change();
    CREATE TRIGGER gp_immutable_truncate_{table} BEFORE TRUNCATE ON {table}
      FOR EACH STATEMENT EXECUTE FUNCTION gp_refuse_change();
  END IF;
END $$
"""

_SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS gp_immutable_{op}_{table} BEFORE {op} ON {table}
BEGIN SELECT RAISE(ABORT, 'glasspocket: stored log rows are immutable'); END
"""


def create_all(engine: Engine) -> None:
    """Create the log tables (idempotent) and the immutability triggers on every stored row."""
    metadata.create_all(engine)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(_PG_FUNCTION))
            for table in IMMUTABLE_TABLES:
                connection.execute(text(_PG_TRIGGER.format(table=table)))
        else:
            for table in IMMUTABLE_TABLES:
                for op in ("UPDATE", "DELETE"):
                    connection.execute(text(_SQLITE_TRIGGER.format(op=op, table=table)))
