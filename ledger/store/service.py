"""The ledger service: checks entries with the rules and appends them to community logs.

Write path (DESIGN.md): parse strictly → load the folded state → the rules'
``check`` (signer, signature, role, id, the type's rules) → the clock check →
append. The events, their leaf hashes and the tiles they complete are stored in
one transaction; a refused entry, or a failed batch, stores nothing. After the
commit the log key signs a checkpoint for the new size.
"""

from __future__ import annotations

import pickle
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.application import Application, project_aggregate
from eventsourcing.persistence import DatetimeAsISO, IntegrityError, JSONTranscoder
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.engine import Engine

from ledger.core.entry import Entry, parse_entry_json, verify_entry_signature
from ledger.core.errors import (
    CheckpointError,
    DuplicateIdError,
    GenesisError,
    InvalidSignatureError,
    LedgerError,
    NotFoundError,
    PolicyError,
    RuleViolation,
    StoreDamagedError,
    WrongCommunityError,
)
from ledger.core.keys import SigningKey, VerifierKey
from ledger.core.merkle import root_at
from ledger.core.note import (
    add_signature_lines,
    format_checkpoint,
    parse_signature_line,
    sign_note,
    verify_note_signature,
)
from ledger.core.policy import Policy
from ledger.core.preverify import VerifiedSignatures
from ledger.core.rules import (
    SignatureCheck,
    check,
    check_not_future,
    check_role,
    judge,
    resolve_signer,
)
from ledger.core.state import CommunityState
from ledger.store import tables
from ledger.store.aggregate import (
    APPENDED_TOPIC,
    SNAPSHOT_INTERVAL,
    CommunityLog,
    StateAsPickle,
    appended_state,
    community_aggregate_id,
)
from ledger.store.database import engine_url, persistence_env, schema_lock
from ledger.store.frontier import Frontier
from ledger.store.group_commit import GroupCommit, Request
from ledger.store.hashes import StoredHashes, completed_tiles
from ledger.store.tile_reads import TileReader

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Appended:
    """Where an entry stands in its log. ``created`` is False for an identical resubmission."""

    community: str
    index: int
    entry_id: str
    entry_bytes: bytes
    created: bool


class ConflictError(LedgerError):
    """Another writer appended to this community at the same moment; try again."""

    code = "conflict"
    status = 409


class GlassPocket(Application):  # type: ignore[type-arg]
    name = "GlassPocket"
    is_snapshotting_enabled = True

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(StateAsPickle())


CONFLICT_RETRIES = 30  # reload and judge again when another process appended first


# Built once: a statement made per call costs more than the query (asked once per batch)
_SIZE_QUERY = (
    select(tables.leaves.c.idx)
    .where(tables.leaves.c.community == bindparam("community"))
    .order_by(tables.leaves.c.idx.desc())
    .limit(1)
)


def _insert_rows(
    session: Any, table: Any, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (values in ``columns`` order) in one executemany.

    On SQLite the rows go straight to the driver, whose values they already are once
    ``_driver_value`` made them so: SQLAlchemy's per-value processing was a tenth of the
    write path's time (``_Binary.bind_processor``). Elsewhere, through SQLAlchemy Core.
    """
    connection = session.connection()
    if connection.dialect.paramstyle == "qmark":
        names, marks = ", ".join(columns), ", ".join("?" * len(columns))
        connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
    else:
        session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def _driver_value(dialect: Any, column: Any) -> Callable[[Any], Any]:
    """What ``column``'s type turns a value into for the driver, where ``_insert_rows``
    passes values to the driver itself (SQLite); elsewhere the value as it is. (Made
    once per service: SQLAlchemy builds the processor anew on each call.)"""
    process = column.type.bind_processor(dialect) if dialect.paramstyle == "qmark" else None
    return process if process is not None else (lambda value: value)


def _snapshot_due(old_size: int, new_size: int) -> bool:
    """Whether appending up to ``new_size`` passes a snapshot point: every
    ``SNAPSHOT_INTERVAL`` entries, and every tenth of the log once that is longer. A
    snapshot pickles the whole state, so fixed steps would cost the square of the log's
    length in all; these cost in proportion to it, and loading replays at most a tenth."""
    step = max(SNAPSHOT_INTERVAL, new_size // 10 // SNAPSHOT_INTERVAL * SNAPSHOT_INTERVAL)
    return new_size // step > old_size // step


def _back_off(attempt: int) -> None:
    """A short random pause, growing with each lost race, so racing writers spread out."""
    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))


RECENT_ENTRIES = 4_096  # entries' bytes kept after their commit, per community


class LedgerService:
    """Community logs on one database. Thread-safe; one writer per community at a time."""

    def __init__(
        self, database_url: str, log_keys: Sequence[SigningKey] = (), clock: Clock = utc_now
    ) -> None:
        self.database_url = database_url
        with schema_lock(database_url):  # processes opening a fresh database at once
            self.app = GlassPocket(env=persistence_env(database_url))
            self.engine: Engine = self.app.recorder.datastore.engine  # type: ignore[attr-defined]
            tables.create_all(self.engine)
        self.log_keys = {key.name: key for key in log_keys}
        self.clock = clock
        self._cache: dict[str, CommunityLog] = {}
        self._lock = threading.RLock()
        self._group: GroupCommit[Entry, Appended] = GroupCommit(self._commit_group)
        self._verified = VerifiedSignatures()
        self._tile_reader = TileReader(self.engine)
        self._checkpoint_sizes: dict[str, list[int]] = {}
        self._community_info: dict[str, dict[str, str]] = {}
        self._notes: dict[tuple[str, int], str] = {}
        self._recent: dict[str, dict[int, bytes]] = {}  # newest entries committed here
        self._frontiers: dict[str, Frontier] = {}  # right edges of the trees written here
        self._signed: dict[str, tuple[int, str]] = {}  # newest checkpoint signed here
        self._originator_value: Callable[[Any], Any] | None = None  # see _driver_value
        self._plain_mapper: bool | None = None  # see _stored

    def add_log_key(self, key: SigningKey) -> None:
        """Hold the private key that signs checkpoints for the log whose origin is its name."""
        self.log_keys[key.name] = key

    def close(self) -> None:
        """Close the application and the engine's pooled connections."""
        self.app.close()
        # eventsourcing-sqlalchemy's factory does not dispose the engine on close.
        self.engine.dispose()

    # --- writing -----------------------------------------------------------------------------

    def found(self, entry: Entry, policy: str) -> Appended:
        """Start a community's log with its ``community.founded`` entry and trust policy."""
        with self._lock:
            existing = self._load(entry.community)
            if existing is not None:
                if existing.state.index_of(entry.id) is None:
                    raise GenesisError(
                        f"community {entry.community} is already founded; entry {entry.id} "
                        "cannot found it again",
                        f"小区 {entry.community} 已创立，条目 {entry.id} 不能再次创立",
                        entry_id=entry.id,
                    )
                return self._resubmission(existing.state, entry)
            state = CommunityState()
            check(state, entry)
            check_not_future(entry, self.clock())
            self._check_origin_free(entry)
            log = CommunityLog(community=entry.community, entry=entry.entry_bytes().decode())
            row = {"community": entry.community, "origin": entry.body["origin"], "policy": policy}
            self._commit(entry.community, log, [entry], community_row=row)
            return Appended(entry.community, 0, entry.id, entry.entry_bytes(), True)

    def _check_origin_free(self, entry: Entry) -> None:
        origin = entry.body["origin"]
        with self.engine.connect() as conn:
            taken = conn.execute(
                select(tables.communities.c.community).where(tables.communities.c.origin == origin)
            ).first()
        if taken is not None:
            raise GenesisError(
                f"origin {origin} already names the log of community {taken[0]}",
                f"日志源 {origin} 已属于小区 {taken[0]} 的日志",
                entry_id=entry.id,
            )

    def submit(self, community: str, data: bytes | str | Entry) -> Appended:
        """Check and append one entry (any JSON serialization of it).

        Concurrent calls for one community are committed together (group commit: one
        transaction and one checkpoint per batch); each caller gets its own result, or
        its own error, exactly as if it had been submitted alone after the entries
        accepted before it.
        """
        entry = data if isinstance(data, Entry) else parse_entry_json(data)
        key = self.expected_signer(community, entry)
        if key is not None:  # verified in this thread, in parallel with the others
            self._verified.check_ahead(entry, key)
        return self._group.submit(community, entry)

    def expected_signer(self, community: str, entry: Entry) -> VerifierKey | None:
        """The key the cached state holds for the entry's signer (the fold re-resolves it)."""
        cached = self._cache.get(community)
        record = cached.state.keys.get(entry.signer) if cached is not None else None
        if record is None or record.vkey.key_id_hex != entry.key_id:
            return None
        return record.vkey

    def submit_batch(
        self,
        community: str,
        items: Sequence[bytes | str | Entry],
        verify: SignatureCheck = verify_entry_signature,
    ) -> list[Appended]:
        """Check and append entries in order, all or nothing, in one transaction.

        ``verify`` may be a ``ledger.core.preverify.PreVerifier`` that checked these
        entries' signatures ahead (on every core); it never skips one.
        """
        entries = [item if isinstance(item, Entry) else parse_entry_json(item) for item in items]
        with self._lock:
            for attempt in range(CONFLICT_RETRIES):
                log = self._require(community)
                try:
                    outcomes, fresh = self._check_all(log, community, entries, True, verify)
                    if fresh:
                        self._commit(community, log, fresh)
                except ConflictError:
                    if attempt == CONFLICT_RETRIES - 1:
                        raise
                    _back_off(attempt)
                    continue
                except BaseException:
                    self._cache.pop(community, None)
                    raise
                return [item for item in outcomes if isinstance(item, Appended)]
        raise AssertionError("unreachable")  # pragma: no cover

    def draft(self, community: str) -> CommunityLog:
        """A private copy of the community's log to judge entries on (``append_judged``)."""
        with self._lock:
            copied = pickle.loads(pickle.dumps(self._require(community), pickle.HIGHEST_PROTOCOL))
        assert isinstance(copied, CommunityLog)
        return copied

    def append_judged(
        self, community: str, draft: CommunityLog, entries: Sequence[Entry]
    ) -> list[Appended] | None:
        """Store ``draft``'s new entries, which were judged on it, without judging them again.

        For ``glasspocket import``: its plan takes a ``draft`` of the log, and judges and
        folds each entry on it exactly as ``submit_batch`` would (``check``: signature,
        rules; the clock; then ``draft.append``); ``entries`` are those appended, in order.
        The log is linear, so while it still holds the entries the draft started from,
        those verdicts stand. Returns None, storing nothing, when the log has moved on (or
        another writer appends meanwhile): the caller then gives the entries to
        ``submit_batch`` to be judged again on the newer state. All or nothing.
        """
        with self._lock:
            log = self._require(community)
            if not entries or draft.size != log.size + len(entries):
                return None
            if draft.version != log.version + len(entries) or draft.id != log.id:
                return None
            try:
                self._commit(community, draft, entries)
            except ConflictError:
                return None
            except BaseException:
                self._cache.pop(community, None)
                raise
        return [
            Appended(community, log.size + i, entry.id, entry.entry_bytes(), True)
            for i, entry in enumerate(entries)
        ]

    def submit_entries(
        self, community: str, entries: Sequence[Entry], verify: SignatureCheck | None = None
    ) -> list[Appended | LedgerError]:
        """Independent submissions to one community as one batch: one transaction, one
        checkpoint. Each entry is judged alone, against the state after the ones accepted
        before it, and gets its own result or its own refusal (never raised: returned in
        its place). Errors of the store itself (``storage_unavailable``…) are raised.

        The HTTP service's batcher calls this. ``verify`` is the fold's signature check:
        by default it takes the signatures the submitting threads checked (``submit``) and
        verifies any other; a ``PreVerifier`` that checked them in worker processes may be given
        instead. Either trusts a result only for exactly that key and those bytes.
        """
        with self._lock:
            for attempt in range(CONFLICT_RETRIES):
                log = self._require(community)
                try:
                    outcomes, fresh = self._check_all(
                        log, community, entries, False, verify or self._verified
                    )
                    if fresh:
                        self._commit(community, log, fresh)
                except ConflictError:  # another process appended: reload, judge again
                    if attempt == CONFLICT_RETRIES - 1:
                        raise
                    _back_off(attempt)
                    continue
                except BaseException:
                    self._cache.pop(community, None)
                    raise
                return outcomes
        raise AssertionError("unreachable")  # pragma: no cover

    def _commit_group(self, community: str, requests: Sequence[Request[Entry, Appended]]) -> None:
        """The group committer's batch: each request judged alone, the accepted ones stored."""
        outcomes = self.submit_entries(community, [request.item for request in requests])
        for request, outcome in zip(requests, outcomes, strict=True):
            if isinstance(outcome, Appended):
                request.result = outcome
            else:
                request.error = outcome

    def _check_all(
        self,
        log: CommunityLog,
        community: str,
        entries: Sequence[Entry],
        strict: bool,
        verify: SignatureCheck = verify_entry_signature,
    ) -> tuple[list[Appended | LedgerError], list[Entry]]:
        """Judge entries in order against the state after the ones accepted before them.

        Accepted entries are folded into ``log`` (the caller stores them or drops the
        cached log). ``strict``: the first refusal is raised; otherwise each refusal is
        that entry's outcome and the others go on.
        """
        outcomes: list[Appended | LedgerError] = []
        fresh: list[Entry] = []
        pending: dict[int, bytes] = {}  # this batch's entries by index, not yet stored
        now = self.clock()
        for entry in entries:
            try:
                appended = self._check_one(log, community, entry, pending, now, verify)
            except LedgerError as exc:
                if strict:
                    raise
                outcomes.append(exc)
                continue
            outcomes.append(appended)
            if appended.created:
                fresh.append(entry)
        return outcomes, fresh

    def _check_one(
        self,
        log: CommunityLog,
        community: str,
        entry: Entry,
        pending: dict[int, bytes],
        now: datetime,
        verify: SignatureCheck = verify_entry_signature,
    ) -> Appended:
        if entry.community != community:
            raise WrongCommunityError(
                f"entry {entry.id} is for community {entry.community!r}, not {community!r}",
                f"条目 {entry.id} 属于小区 {entry.community!r}，而非 {community!r}",
                entry_id=entry.id,
            )
        if log.state.index_of(entry.id) is not None:
            return self._resubmission(log.state, entry, pending)
        effect = judge(log.state, entry, verify)
        check_not_future(entry, now)
        index = log.state.size
        data = entry.entry_bytes()
        log.append_judged(entry, effect)
        pending[index] = data
        return Appended(community, index, entry.id, data, True)

    def _resubmission(
        self, state: CommunityState, entry: Entry, pending: Mapping[int, bytes] | None = None
    ) -> Appended:
        index = state.index_of(entry.id)
        assert index is not None
        if pending and index in pending:
            stored = pending[index]
        else:
            stored = self.entries(state.community, index, index + 1)[0]
        if stored != entry.entry_bytes():
            # Issue 6's order puts signer, signature and role (401, 403) before a reused
            # id (409): a forged copy of a logged entry is a bad signature, not a conflict.
            verify_entry_signature(entry, resolve_signer(state, entry))
            check_role(state, entry)
            raise DuplicateIdError(
                f"entry id {entry.id} is already used at index {index} with other content",
                f"条目编号 {entry.id} 已在第 {index} 条用于不同内容",
                entry_id=entry.id,
            )
        return Appended(state.community, index, entry.id, stored, False)

    def _commit(
        self,
        community: str,
        log: CommunityLog,
        entries: Sequence[Entry],
        community_row: dict[str, Any] | None = None,
    ) -> None:
        old_size = log.size - len(entries)
        leaves = [entry.leaf_hash() for entry in entries]
        hashes = self.hashes(community)
        full_tiles = completed_tiles(old_size, leaves, hashes)
        frontier, checkpoint = self._next_checkpoint(community, old_size, leaves, community_row)
        try:
            with self.app.recorder.transaction(commit=True) as session:  # type: ignore[attr-defined]
                if community_row is not None:
                    session.execute(insert(tables.communities), [community_row])
                self._insert_events(session, log)
                _insert_rows(
                    session,
                    tables.leaves,
                    ("community", "idx", "hash"),
                    [(community, old_size + i, h) for i, h in enumerate(leaves)],
                )
                if full_tiles:
                    session.execute(
                        insert(tables.tiles),
                        [
                            {"community": community, "level": lv, "idx": ix, "data": data}
                            for lv, ix, data in full_tiles
                        ],
                    )
                if checkpoint is not None:
                    _insert_rows(
                        session,
                        tables.checkpoints,
                        ("community", "size", "note"),
                        [(community, checkpoint["size"], checkpoint["note"])],
                    )
        except IntegrityError:
            self._cache.pop(community, None)
            raise ConflictError(
                f"another writer appended to {community} at the same time; submit again",
                f"小区 {community} 的日志同时被其他写入者追加，请重新提交",
            ) from None
        self._cache[community] = log
        self._frontiers[community] = frontier
        if checkpoint is not None:
            self._signed[community] = (int(checkpoint["size"]), str(checkpoint["note"]))
        self._remember(community, old_size, entries)
        self._tile_reader.appended(community, old_size, leaves)
        if _snapshot_due(old_size, log.size):
            self._take_snapshot(log)

    def _next_checkpoint(
        self,
        community: str,
        old_size: int,
        leaves: Sequence[bytes],
        community_row: dict[str, Any] | None,
    ) -> tuple[Frontier, dict[str, Any] | None]:
        """The tree's frontier after ``leaves``, and the checkpoint row for that size,
        signed when this process holds the log key (stored in the entries' transaction:
        one commit per batch, and never entries without their checkpoint)."""
        known = self._frontiers.get(community)
        if known is not None and known.size == old_size:
            frontier = known.copy()
        else:  # first batch here, or the log was appended elsewhere: from the stored tree
            frontier = Frontier.from_hashes(old_size, self.hashes(community))
        for leaf in leaves:
            frontier.append(leaf)
        info = community_row or self.community_info(community)
        key = self.log_keys.get(info["origin"])
        if key is None:
            return frontier, None
        note = sign_note(format_checkpoint(info["origin"], frontier.size, frontier.root()), [key])
        return frontier, {"community": community, "size": frontier.size, "note": note}

    def _insert_events(self, session: Any, log: CommunityLog) -> None:
        """``app.save(log)`` as one executemany (the library adds ORM rows one at a time)."""
        recorder: Any = self.app.recorder
        rows = [self._stored(event) for event in log.collect_events()]
        if recorder._has_autoincrementing_ids:
            recorder._lock_table(session)  # notification ids commit in id order (PostgreSQL)
        table = recorder.events_record_cls.__table__
        if self._originator_value is None:
            dialect = session.connection().dialect
            self._originator_value = _driver_value(dialect, table.c.originator_id)
        value_of = self._originator_value
        # one aggregate per community: its id is turned into the driver's value once
        originators = {uuid: value_of(uuid) for uuid in {row[0] for row in rows}}
        _insert_rows(
            session,
            table,
            ("originator_id", "originator_version", "topic", "state"),
            [(originators[uuid], version, topic, state) for uuid, version, topic, state in rows],
        )
        recorder._notify_channel(session)

    def _stored(self, event: Any) -> tuple[Any, int, str, bytes]:
        """``app.mapper.to_stored_event(event)``'s fields; an entry's event (the log's every
        event but the first) without the transcoder's generic walk, when the mapper is the
        plain JSON one (no compressor or cipher; datetimes as ISO strings): the same bytes."""
        mapper = self.app.mapper
        if self._plain_mapper is None:
            transcoder = mapper.transcoder
            self._plain_mapper = (
                mapper.compressor is None
                and mapper.cipher is None
                and isinstance(transcoder, JSONTranscoder)
                and type(transcoder.types.get(datetime)) is DatetimeAsISO
            )
        state = appended_state(event) if self._plain_mapper else None
        if state is None:
            stored = mapper.to_stored_event(event)
            return stored.originator_id, stored.originator_version, stored.topic, stored.state
        return event.originator_id, event.originator_version, APPENDED_TOPIC, state

    def _remember(self, community: str, old_size: int, entries: Sequence[Entry]) -> None:
        """Keep the newest committed entries' bytes: receipts ask for them right away."""
        recent = self._recent.setdefault(community, {})
        for offset, entry in enumerate(
            entries[-RECENT_ENTRIES:], max(len(entries) - RECENT_ENTRIES, 0)
        ):
            recent[old_size + offset] = entry.entry_bytes()
        if len(recent) > 2 * RECENT_ENTRIES:  # trimmed in one pass now and then: O(1) each
            self._recent[community] = dict(list(recent.items())[-RECENT_ENTRIES:])

    def _take_snapshot(self, log: CommunityLog) -> None:
        """Store a snapshot of the just-committed aggregate (a cache for loading)."""
        snapshots = self.app.snapshots
        if snapshots is not None:
            snapshots.put([CommunityLog.Snapshot.take(log)])

    # --- loading ------------------------------------------------------------------------------

    def _load(self, community: str) -> CommunityLog | None:
        cached = self._cache.get(community)
        if cached is not None:
            # Another process (a second replica, the CLI) may have appended since we loaded.
            stored = self.size(community)
            if cached.size == stored:
                return cached
            if cached.size < stored and self._catch_up(community, cached):
                return cached
        self._cache.pop(community, None)
        try:
            log: object = self.app.repository.get(community_aggregate_id(community))
        except Exception as exc:  # eventsourcing raises AggregateNotFoundError
            if type(exc).__name__ == "OriginatorVersionError":  # an event row is missing
                raise StoreDamagedError(
                    f"the stored events of {community} have a gap ({exc}): the database was "
                    "changed behind the application; restore it from the published log",
                    f"小区 {community} 的存储事件有缺口（{exc}）：数据库被绕过应用修改；"
                    "请从公开日志恢复",
                ) from None
            if type(exc).__name__ != "AggregateNotFoundError":
                raise
            return None
        assert isinstance(log, CommunityLog)
        self._cache[community] = log
        return log

    def _catch_up(self, community: str, log: CommunityLog) -> bool:
        """Fold the events stored after ``log``'s version into it; False if that fails."""
        records = self.app.recorder.select_events(community_aggregate_id(community), gt=log.version)
        try:
            project_aggregate(log, (self.app.mapper.to_domain_event(r) for r in records))
        except Exception:  # the cached log is dropped and loaded afresh
            return False
        return True

    def _require(self, community: str) -> CommunityLog:
        log = self._load(community)
        if log is None:
            raise NotFoundError(
                f"no community {community!r} in this database",
                f"数据库中没有小区 {community!r}",
            )
        return log

    def _state(self, community: str) -> CommunityState:
        return self._require(community).state

    # --- reading ------------------------------------------------------------------------------

    def communities(self) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tables.communities.c.community).order_by("community"))
            return [row[0] for row in rows]

    def community_info(self, community: str) -> dict[str, str]:
        """Origin and policy of a community (never changed once founded: cached)."""
        cached = self._community_info.get(community)
        if cached is not None:
            return dict(cached)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(tables.communities).where(tables.communities.c.community == community)
            ).first()
        if row is None:
            raise NotFoundError(f"no community {community!r}", f"没有小区 {community!r}")
        info = {"community": row.community, "origin": row.origin, "policy": row.policy}
        self._community_info[community] = info
        return dict(info)

    def state(self, community: str) -> CommunityState:
        """The folded state after the newest entry. Read it; never change it."""
        with self._lock:
            return self._state(community)

    def warm(self, community: str) -> None:
        """Load the community's state and its tree's frontier now (a server starting)."""
        with self._lock:
            log = self._require(community)
            if community not in self._frontiers:
                self._frontiers[community] = Frontier.from_hashes(log.size, self.hashes(community))

    @contextmanager
    def reading(self, community: str) -> Iterator[CommunityState]:
        """The folded state, held still while the caller reads several things from it
        (a batch folds new entries into the same object: not meanwhile)."""
        with self._lock:
            yield self._state(community)

    def size(self, community: str) -> int:
        with self.engine.connect() as conn:
            rows = conn.execute(_SIZE_QUERY, {"community": community}).first()
        return 0 if rows is None else int(rows[0]) + 1

    def entries(self, community: str, start: int, end: int) -> list[bytes]:
        """Logged entry bytes for indices [start, end)."""
        return list(self.iter_entries(community, start, end))

    def iter_entries(self, community: str, start: int, end: int) -> Iterator[bytes]:
        recent = self._recent.get(community)
        if recent is not None and start < end and start in recent and end - 1 in recent:
            try:
                yield from [recent[i] for i in range(start, end)]
                return
            except KeyError:  # trimmed meanwhile: read them from the store
                pass
        yield from self._stored_entries(community, start, end)

    def _stored_entries(self, community: str, start: int, end: int) -> Iterator[bytes]:
        originator = community_aggregate_id(community)
        stored = self.app.recorder.select_events(originator, gt=start, lte=end)
        for record in stored:
            event = self.app.mapper.to_domain_event(record)
            yield event.entry.encode()  # type: ignore[attr-defined]

    def hashes(self, community: str) -> StoredHashes:
        """The community's stored tree (leaves, full tiles), with immutable tiles cached."""
        return self._tile_reader.hashes(community)

    # --- checkpoints ---------------------------------------------------------------------------

    def sign_checkpoint(self, community: str) -> str | None:
        """Sign and store a checkpoint for the log's current size, if this process holds the key."""
        info = self.community_info(community)
        key = self.log_keys.get(info["origin"])
        size = self.size(community)
        if key is None or size == 0:
            return None
        latest = self.latest_checkpoint(community)
        if latest is not None and latest[0] == size:
            return latest[1]
        root = root_at(size, self.hashes(community))
        note = sign_note(format_checkpoint(info["origin"], size, root), [key])
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(tables.checkpoints),
                    [{"community": community, "size": size, "note": note}],
                )
        except Exception as exc:  # a concurrent signer stored this size first
            if "UNIQUE" not in str(exc).upper() and "duplicate" not in str(exc).lower():
                raise
        return note

    def last_signed(self, community: str) -> tuple[int, str] | None:
        """(size, note) of the newest checkpoint this process signed with a batch, if any."""
        return self._signed.get(community)

    def latest_checkpoint(self, community: str) -> tuple[int, str] | None:
        t = tables.checkpoints
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.c.size, t.c.note)
                .where(t.c.community == community)
                .order_by(t.c.size.desc())
                .limit(1)
            ).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def checkpoint_note(self, community: str, size: int) -> str:
        """The log's signed checkpoint of ``size`` (rows never change: cached)."""
        cached = self._notes.get((community, size))
        if cached is not None:
            return cached
        t = tables.checkpoints
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.c.note).where(t.c.community == community, t.c.size == size)
            ).first()
        if row is None:
            raise NotFoundError(f"no checkpoint of size {size}", f"没有大小为 {size} 的检查点")
        if len(self._notes) > 10_000:
            self._notes.clear()
        self._notes[(community, size)] = str(row[0])
        return str(row[0])

    # --- cosignatures ----------------------------------------------------------------------------

    def add_cosignature(self, community: str, size: int, line: str) -> str:
        """Store a witness's cosignature line on the checkpoint of ``size``; returns the witness.

        The line must be a cosignature by a witness of the community's policy and verify
        on that checkpoint; otherwise nothing is stored (CheckpointError / PolicyError).
        Stored lines are never replaced: a second line by the same witness for the same
        size is accepted and ignored.
        """
        policy = Policy.parse(self.community_info(community)["policy"])
        note = self.checkpoint_note(community, size)
        signature = parse_signature_line(line.removesuffix("\n"))
        matching = [
            (name, witness)
            for name, witness in policy.witnesses.items()
            if witness.vkey.name == signature.name and witness.vkey.key_id == signature.key_hash
        ]
        if not matching:
            raise PolicyError(
                f"{signature.name} is not a witness of {community}'s trust policy",
                f"{signature.name} 不是小区 {community} 信任策略中的见证人",
            )
        name, witness = matching[0]
        try:
            verify_note_signature(add_signature_lines(note, [signature.line()]), witness.vkey)
        except InvalidSignatureError as exc:
            raise CheckpointError(
                f"cosignature of witness {name} on size {size} does not verify: {exc.en}",
                f"见证人 {name} 对大小 {size} 的见证签名验证失败：{exc.zh}",
            ) from None
        if name not in self.cosignature_lines(community, size):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(tables.cosignatures),
                        [
                            {
                                "community": community,
                                "size": size,
                                "witness": name,
                                "line": signature.line(),
                            }
                        ],
                    )
            except Exception as exc:  # a concurrent writer stored this witness's line first
                if "UNIQUE" not in str(exc).upper() and "duplicate" not in str(exc).lower():
                    raise
        return name

    def cosignature_lines(self, community: str, size: int) -> dict[str, str]:
        """The stored cosignature lines on the checkpoint of ``size``, by policy witness name."""
        t = tables.cosignatures
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.witness, t.c.line).where(t.c.community == community, t.c.size == size)
            ).all()
        return {str(row[0]): str(row[1]) for row in rows}

    def cosigned_note(self, community: str, size: int) -> str:
        """The checkpoint of ``size`` with every stored cosignature line after the log's."""
        note = self.checkpoint_note(community, size)
        lines = self.cosignature_lines(community, size)
        return add_signature_lines(note, [lines[name] for name in sorted(lines)]) if lines else note

    def checkpoint_sizes(self, community: str) -> list[int]:
        """Every signed checkpoint's size, ascending (read again only when rows were added)."""
        t = tables.checkpoints
        with self.engine.connect() as conn:
            count = conn.execute(
                select(func.count()).select_from(t).where(t.c.community == community)
            ).scalar_one()
            cached = self._checkpoint_sizes.get(community)
            if cached is not None and len(cached) == count:
                return list(cached)
            sizes: list[int] = []
            if cached:  # usually only newer checkpoints were added: read those
                newer = conn.execute(
                    select(t.c.size).where(t.c.community == community, t.c.size > cached[-1])
                ).all()
                sizes = cached + sorted(int(row[0]) for row in newer)
            if len(sizes) != count:
                rows = conn.execute(select(t.c.size).where(t.c.community == community)).all()
                sizes = sorted(int(row[0]) for row in rows)
        self._checkpoint_sizes[community] = sizes
        return list(sizes)


__all__ = [
    "Appended",
    "ConflictError",
    "LedgerService",
    "RuleViolation",
    "engine_url",
]
