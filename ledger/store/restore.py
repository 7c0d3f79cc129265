"""Restoring a community into a database from its published log: the writing half.

The caller (``glasspocket log restore``) verifies the export completely first, with the
resident's verifier: the checkpoint against the trust policy (log signature and witness
quorum), every tile against the checkpoint, every entry's signature and every rule by
replay. Only then does it hand the verified entries to ``restore_log``, which:

1. refuses a target that already holds the community or its log's origin
   (``TargetNotEmptyError``);
2. writes the entries through the ledger service's own write path: ``found`` for index 0,
   then ``submit_batch`` in chunks; the rules run again, and the service stores leaves and
   full tiles exactly as it does for new entries. The service used here holds no log key,
   so no checkpoint of its own is signed on the way;
3. checks that the rebuilt tree has the checkpoint's size and root;
4. stores the exported checkpoint's log-signed note (its signature by the policy's log key
   verified again) and adds each witness's cosignature line (``add_cosignature``), so the
   database publishes the very checkpoint that was exported, byte for byte.

All or nothing: the chunks are separate transactions, so a failure part way (a lost
connection, a full disk, an interrupted process) would leave a prefix. ``restore_log``
then removes every row of that community (events, snapshots, leaves, tiles, checkpoints,
cosignatures, read models) in one transaction that suspends the immutability triggers of
those tables for its own duration only. If even that fails (the database is gone), the
error says so and names the community; the target then holds a prefix with no checkpoint,
which publishes nothing, and the operator drops the target and restores again. While a
restore runs, a server on the same database may see the growing, unpublished prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, inspect, select, text
from sqlalchemy.engine import Connection

from ledger.core.entry import Entry, parse_logged_entry
from ledger.core.errors import (
    CheckpointError,
    LedgerError,
    RestoreRefusedError,
    TargetNotEmptyError,
)
from ledger.core.merkle import root_at
from ledger.core.note import SignedNote, find_signature, parse_note
from ledger.core.policy import Policy, VerifiedCheckpoint
from ledger.store import tables
from ledger.store.aggregate import community_aggregate_id
from ledger.store.publish import published_checkpoint
from ledger.store.service import LedgerService

Progress = Callable[[int, int], None]
CHUNK = 500


@dataclass(frozen=True)
class Restored:
    """What a restore wrote: the community, its size and root, and who cosigned."""

    community: str
    origin: str
    size: int
    root: str
    witnesses: tuple[str, ...]
    checkpoint: str


def check_target(service: LedgerService, community: str, origin: str) -> None:
    """Refuse a target holding the community, or another community with this log origin."""
    if community in service.communities():
        raise TargetNotEmptyError(
            f"the target database already holds community {community!r}; restore only into "
            "a database without it",
            f"目标数据库已有小区 {community!r}；只能恢复到没有该小区的数据库",
        )
    for other in service.communities():
        if service.community_info(other)["origin"] == origin:
            raise TargetNotEmptyError(
                f"the target database's community {other!r} already has log origin {origin}",
                f"目标数据库中的小区 {other!r} 已使用日志源 {origin}",
            )


def restore_log(
    service: LedgerService,
    policy: Policy,
    verified: VerifiedCheckpoint,
    entries: Iterable[bytes],
    progress: Progress | None = None,
    chunk: int = CHUNK,
) -> Restored:
    """Write already-verified entries and their checkpoint; on any failure write nothing."""
    remaining = iter(entries)
    data = next(remaining, None) if verified.size else None
    if data is None:
        raise RestoreRefusedError("the export holds no entry", "导出目录中没有任何条目")
    first = parse_logged_entry(data)
    community = first.community
    check_target(service, community, verified.origin)
    try:
        _write_entries(service, policy, first, remaining, verified.size, progress, chunk)
        _check_tree(service, community, verified)
        store_checkpoint(service, community, verified)
        published = published_checkpoint(service, community)
    except BaseException as exc:
        _undo_or_explain(service, community, exc)
        raise
    if published.verified.note_text != verified.note_text:
        remove_community(service, community)
        raise RestoreRefusedError(
            "the restored checkpoint differs from the exported one; nothing was kept",
            "恢复后的检查点与导出的不同；未保留任何内容",
        )
    return Restored(
        community,
        verified.origin,
        verified.size,
        verified.root.hex(),
        verified.witnesses,
        verified.note_text,
    )


def _write_entries(
    service: LedgerService,
    policy: Policy,
    first: Entry,
    entries: Iterable[bytes],
    size: int,
    progress: Progress | None,
    chunk: int,
) -> None:
    service.found(first, str(policy))
    done = 1
    if progress is not None:
        progress(done, size)
    for batch in _chunks(entries, chunk):
        service.submit_batch(first.community, batch)
        done += len(batch)
        if progress is not None:
            progress(done, size)


def _chunks(entries: Iterable[bytes], size: int) -> Iterator[list[Entry]]:
    batch: list[Entry] = []
    for data in entries:
        batch.append(parse_logged_entry(data))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _check_tree(service: LedgerService, community: str, verified: VerifiedCheckpoint) -> None:
    size = service.size(community)
    root = root_at(size, service.hashes(community)) if size else b""
    if size != verified.size or root != verified.root:
        raise RestoreRefusedError(
            f"the rebuilt log has {size} entries and root {root.hex()[:16]}…, the checkpoint "
            f"{verified.size} and {verified.root.hex()[:16]}…",
            f"重建的日志有 {size} 条、树根 {root.hex()[:16]}…，与检查点"
            f"（{verified.size} 条、{verified.root.hex()[:16]}…）不符",
        )


def store_checkpoint(service: LedgerService, community: str, verified: VerifiedCheckpoint) -> None:
    """Store the checkpoint's log-signed note and every cosignature line it carries."""
    log_signature = find_signature(verified.note, verified.log_key)
    if log_signature is None:
        raise CheckpointError(
            "the checkpoint carries no log signature", "检查点没有日志签名"
        )  # policy.check saw one: unreachable
    note = SignedNote(verified.note.text, (log_signature,)).encode()
    t = tables.checkpoints
    with service.engine.begin() as conn:
        stored = conn.execute(
            select(t.c.note).where(t.c.community == community, t.c.size == verified.size)
        ).scalar()
        if stored is None:
            conn.execute(insert(t), [{"community": community, "size": verified.size, "note": note}])
        elif parse_note(str(stored)).text != verified.note.text:
            raise CheckpointError(
                f"the target already signed another checkpoint at size {verified.size}",
                f"目标数据库已在大小 {verified.size} 签署了另一个检查点",
            )
    for signature in verified.note.signatures:
        if signature != log_signature:
            service.add_cosignature(community, verified.size, signature.line())


# --- undo -------------------------------------------------------------------------------------

_LOG_TABLES = ("gp_cosignatures", "gp_checkpoints", "gp_tiles", "gp_leaves")


def _undo_or_explain(service: LedgerService, community: str, cause: BaseException) -> None:
    try:
        remove_community(service, community)
    except Exception as undo_error:  # the database is gone: say what is left behind
        detail = undo_error.en if isinstance(undo_error, LedgerError) else str(undo_error)
        en = (
            f"the restore of {community} failed and its partial copy could not be removed "
            f"({detail}); it has no checkpoint and publishes nothing: drop the target "
            "database and restore again"
        )
        zh = (
            f"小区 {community} 恢复失败，且未能删除已写入的部分（{detail}）；该部分没有检查点、"
            "不会发布任何内容：请删除目标数据库后重新恢复"
        )
        if isinstance(cause, LedgerError):
            cause.en, cause.zh = f"{cause.en}; {en}", f"{cause.zh}；{zh}"


def remove_community(service: LedgerService, community: str) -> None:
    """Delete every stored row of ``community`` in one transaction (a failed restore's undo).

    The immutability triggers of the log's tables are suspended inside that transaction
    and restored before it commits; nothing else ever removes log rows.
    """
    events = service.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    dialect = service.engine.dialect.name
    with service.engine.begin() as conn:
        # A statement first, so that SQLite's driver has opened the transaction before DDL.
        conn.execute(delete(tables.communities).where(tables.communities.c.community == community))
        for table in (*_LOG_TABLES, events.name):
            _suspend(conn, dialect, table)
        for name in _LOG_TABLES:
            table = tables.metadata.tables[name]
            conn.execute(delete(table).where(table.c.community == community))
        originator = community_aggregate_id(community)
        conn.execute(delete(events).where(events.c.originator_id == originator))
        if service.app.snapshots is not None:  # a cache, not immutable
            recorder: Any = service.app.snapshots.recorder
            snapshots = recorder.events_record_cls.__table__
            conn.execute(delete(snapshots).where(snapshots.c.originator_id == originator))
        _remove_read_models(conn, community)
        for table in (*_LOG_TABLES, events.name):
            _resume(conn, dialect, table)


def _remove_read_models(conn: Connection, community: str) -> None:
    for name in inspect(conn).get_table_names():
        if name.startswith("gpv_"):
            columns = {c["name"] for c in inspect(conn).get_columns(name)}
            if "community" in columns:
                conn.execute(text(f"DELETE FROM {name} WHERE community = :c"), {"c": community})


_SQLITE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS gp_immutable_{op}_{table} BEFORE {op} ON {table} "
    "BEGIN SELECT RAISE(ABORT, 'glasspocket: stored log rows are immutable'); END"
)


def _suspend(conn: Connection, dialect: str, table: str) -> None:
    if dialect == "postgresql":
        conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER gp_immutable_{table}"))
    else:
        conn.execute(text(f"DROP TRIGGER IF EXISTS gp_immutable_DELETE_{table}"))


def _resume(conn: Connection, dialect: str, table: str) -> None:
    if dialect == "postgresql":
        conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER gp_immutable_{table}"))
    else:
        conn.execute(text(_SQLITE_TRIGGER.format(op="DELETE", table=table)))
