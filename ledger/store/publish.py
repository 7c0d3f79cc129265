"""Publishing a log: checkpoints that meet the policy, tiles, entry bundles, key chains, receipts.

The same files are served over HTTP by the API and written to a directory by
``glasspocket log export`` (SPEC §4), so any static host can mirror a log.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import func, select

from ledger.core.entry import parse_logged_entry
from ledger.core.errors import LedgerError, NotFoundError
from ledger.core.keychain import KeychainItem, format_keychain
from ledger.core.merkle import HashReader, inclusion_proof, leaf_hash, node_hash
from ledger.core.policy import Policy, VerifiedCheckpoint
from ledger.core.tiles import (
    TILE_WIDTH,
    encode_entry_bundle,
    entries_path,
    entry_bundles_for_size,
    tile_path,
    tiles_for_size,
)
from ledger.core.tlogproof import TlogProof, format_tlog_proof
from ledger.store import tables
from ledger.store.hashes import TILE_HEIGHT
from ledger.store.service import LedgerService

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Published:
    """The checkpoint a community publishes: the newest that meets its own policy."""

    community: str
    policy: Policy
    verified: VerifiedCheckpoint


def published_checkpoint(
    service: LedgerService, community: str, require_quorum: bool = True
) -> Published:
    """The newest stored checkpoint that meets the community's policy, with its cosignatures.

    With ``require_quorum=False``, the newest the log key signed, with whatever
    cosignatures it has: what an operator takes to witnesses, never what residents get.
    """
    info = service.community_info(community)
    policy = Policy.parse(info["policy"])
    checker = policy if require_quorum else replace(policy, quorum="none")
    for size in reversed(service.checkpoint_sizes(community)):
        note = service.cosigned_note(community, size)
        try:
            return Published(community, policy, checker.check(note))
        except LedgerError:
            continue
    raise NotFoundError(
        f"community {community} has no checkpoint that meets its policy yet",
        f"小区 {community} 尚无满足其信任策略的检查点",
    )


def tile_bytes(
    service: LedgerService, community: str, path_level: int, index: int, width: int
) -> bytes:
    """A hash tile (level ≥ 0) or an entry bundle (level -1) of the stored log."""
    if path_level < 0:
        start = index * TILE_WIDTH
        return encode_entry_bundle(service.entries(community, start, start + width))
    return service.hashes(community).tile(path_level, index, width)


def keychain_text(service: LedgerService, published: Published) -> str:
    size = published.verified.size
    state = service.state(published.community)
    indices = set(state.key_history)
    hashes = service.hashes(published.community)
    items = [
        KeychainItem(
            i, service.entries(published.community, i, i + 1)[0], inclusion_proof(i, size, hashes)
        )
        for i in sorted(indices)
        if i < size
    ]
    return format_keychain(published.verified.note_text, items)


def receipt_text(
    service: LedgerService, published: Published, index: int, hashes: HashReader | None = None
) -> str:
    """The receipt (``.tlog-proof``) of entry ``index`` in the published checkpoint.

    ``hashes`` may be a ``SubtreeMemo`` of the community (the same hashes, remembered).
    """
    size = published.verified.size
    if index >= size:
        raise NotFoundError(
            f"entry #{index} is not yet in a published checkpoint (size {size})",
            f"第 {index} 条尚未进入已发布的检查点（大小 {size}）",
        )
    entry = service.entries(published.community, index, index + 1)[0]
    reader = hashes if hashes is not None else service.hashes(published.community)
    ranges = hashes.ranges if isinstance(hashes, SubtreeMemo) else None
    if ranges is not None and len(ranges) > MAX_MEMO_HASHES:
        ranges.clear()
    proof = inclusion_proof(index, size, reader, ranges)
    return format_tlog_proof(TlogProof(index, tuple(proof), published.verified.note_text, entry))


def unit_entry_indices(service: LedgerService, published: Published, unit: str) -> list[int]:
    """Indices (within the published checkpoint) of the entries that concern ``unit``.

    An entry concerns a unit when its body names it (``unit``, or ``units`` listing it),
    when its money effect moves that unit's maintenance sub-account, first deposit,
    fees paid or surplus refund (draws, interest, transfers, refunds apportioned to
    it), or when it reverses an entry that concerns the unit.
    """
    community = published.community
    state = service.state(community)
    found: list[int] = []
    concerned: set[int] = set()
    for index, data in enumerate(service.iter_entries(community, 0, published.verified.size)):
        entry = parse_logged_entry(data)
        body = entry.body
        effect = state.effects.get(index)
        touches = body.get("unit") == unit or unit in (body.get("units") or [])
        if effect is not None:
            touches = touches or any(
                unit in deltas
                for deltas in (
                    effect.subaccounts,
                    effect.first_deposits,
                    effect.property_paid,
                    effect.refunds,
                )
            )
        cited = state.index_of(body["entry_id"]) if entry.type == "entry.reversed" else None
        if touches or (cited is not None and cited in concerned):
            concerned.add(index)
            found.append(index)
    return found


def export_files(service: LedgerService, published: Published) -> Iterator[tuple[str, bytes]]:
    """Every file of the export: tiles and entry bundles, then policy, keychain and checkpoint.

    Partial tiles of every earlier stored checkpoint's size are included, so clients
    holding an older checkpoint can still fetch what they need.
    """
    community = published.community
    sizes = [s for s in service.checkpoint_sizes(community) if s <= published.verified.size]
    seen: set[str] = set()
    for size in sorted(set(sizes) | {published.verified.size}, reverse=True):
        for level, index, width in tiles_for_size(size):
            path = tile_path(level, index, width)
            if path not in seen:
                seen.add(path)
                yield path, tile_bytes(service, community, level, index, width)
        for index, width in entry_bundles_for_size(size):
            path = entries_path(index, width)
            if path not in seen:
                seen.add(path)
                yield path, tile_bytes(service, community, -1, index, width)
    yield "policy", str(published.policy).encode()
    yield "keychain", keychain_text(service, published).encode()
    yield "checkpoint", published.verified.note_text.encode()


def export_log(
    service: LedgerService,
    community: str,
    out_dir: str | Path,
    progress: Progress | None = None,
    require_quorum: bool = True,
) -> Published:
    """Write the export to ``out_dir`` (created if need be); returns what was published."""
    published = published_checkpoint(service, community, require_quorum)
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    for count, (path, data) in enumerate(export_files(service, published), start=1):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        if progress is not None:
            progress(count, 0)
    return published


MAX_MEMO_HASHES = 100_000  # about 15 MB of subtree hashes per community at most


class SubtreeMemo:
    """A community's complete-subtree hashes, remembered: they never change once stored.

    Levels that are a multiple of the tile height come from the stored tree (leaves,
    tile roots); the levels between are hashed from the two halves, each once, so a
    receipt for a fresh entry costs a few dictionary look-ups, not a tile of hashing.
    Ask only for subtrees of a stored checkpoint (they exist, so they are final).
    """

    def __init__(self, service: LedgerService, community: str) -> None:
        self._service = service
        self._community = community
        self._memo: dict[tuple[int, int], bytes] = {}
        self.ranges: dict[tuple[int, int], bytes] = {}  # any leaf range's hash, for proofs

    def hash_at(self, level: int, index: int) -> bytes:
        found = self._memo.get((level, index))
        if found is None:
            if level == 0:  # the newest entries' bytes are kept in memory by the service
                found = leaf_hash(self._service.entries(self._community, index, index + 1)[0])
            elif level % TILE_HEIGHT == 0:
                found = self._service.hashes(self._community).hash_at(level, index)
            else:
                left = self.hash_at(level - 1, 2 * index)
                found = node_hash(left, self.hash_at(level - 1, 2 * index + 1))
            if len(self._memo) > MAX_MEMO_HASHES:
                self._memo.clear()
                self.ranges.clear()
            self._memo[(level, index)] = found
        return found


@dataclass
class _Newest:
    published: Published | None  # None: no checkpoint meets the policy (yet)
    newest_size: int  # the newest stored checkpoint when this was judged
    at: float  # time.monotonic() of the judgement


class PublishedCache:
    """``published_checkpoint`` per community, judged again only when something changed.

    For the write path: a receipt right after a commit. The judgement is kept until
    a newer checkpoint is needed (an entry past it, or a newer one stored), until
    ``invalidate`` (this process stored cosignatures), or ``ttl`` seconds (another
    process may have stored cosignatures). Concurrent callers of one community wait
    for one judgement; a checkpoint already judged is not verified again.
    """

    def __init__(self, service: LedgerService, ttl: float = 1.0) -> None:
        self._service = service
        self._ttl = ttl
        self._newest: dict[str, _Newest] = {}
        self._short: dict[str, dict[int, int]] = {}  # sizes short of the policy: cosignatures
        self._memos: dict[str, SubtreeMemo] = {}
        self._policies: dict[str, Policy] = {}  # a community's policy never changes
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def invalidate(self, community: str) -> None:
        """Judge ``community`` again on the next call (cosignatures were stored)."""
        self._newest.pop(community, None)

    def signed(self, community: str, size: int, note: str) -> None:
        """A checkpoint this process just signed and stored: when it meets the policy by
        itself (a policy without witnesses), it is now the newest published one, judged
        here (``Policy.check``) without reading the store. Otherwise nothing changes:
        it is judged from the store once its cosignatures are there."""
        with self._lock(community):
            known = self._newest.get(community)
            if known is not None and known.published and known.published.verified.size >= size:
                return
            policy = self._policy(community)
            try:
                verified = policy.check(note)
            except LedgerError:
                return
            self._newest[community] = _Newest(
                Published(community, policy, verified), size, time.monotonic()
            )

    def _policy(self, community: str) -> Policy:
        policy = self._policies.get(community)
        if policy is None:
            policy = Policy.parse(self._service.community_info(community)["policy"])
            self._policies[community] = policy
        return policy

    def receipt(self, community: str, index: int) -> str | None:
        """The receipt of entry ``index`` in the newest published checkpoint, or None."""
        published = self.published(community, index + 1)
        if published is None or index >= published.verified.size:
            return None
        return receipt_text(self._service, published, index, self._memo(community))

    def published(self, community: str, at_least: int = 0) -> Published | None:
        """The newest published checkpoint (None if none), judged again when it is smaller
        than ``at_least`` and a newer checkpoint was stored since."""
        with self._lock(community):
            known = self._newest.get(community)
            fresh = known is not None and time.monotonic() - known.at < self._ttl
            if known is not None and fresh:
                size = known.published.verified.size if known.published else 0
                if size >= at_least:
                    return known.published
                if self._service.checkpoint_sizes(community)[-1:] == [known.newest_size]:
                    return known.published  # nothing newer stored: nothing newer to judge
            known = self._judge(community, known)
            self._newest[community] = known
            return known.published

    def _judge(self, community: str, before: _Newest | None) -> _Newest:
        """Newest first, down to the last published size (a published one stays so).

        A size judged short of the policy is judged again only once it has more
        cosignatures, so witnesses that stay down cost one query per new checkpoint.
        """
        policy = self._policy(community)
        sizes = self._service.checkpoint_sizes(community)
        floor = before.published.verified.size if before and before.published else 0
        found = before.published if before is not None else None
        counts = self._cosignature_counts(community, floor)
        short = self._short.setdefault(community, {})
        for size in reversed(sizes):
            if size < floor:
                break
            if short.get(size) == counts.get(size, 0):
                continue
            note = self._service.cosigned_note(community, size)
            try:
                found = Published(community, policy, policy.check(note))
                break
            except LedgerError:
                short[size] = counts.get(size, 0)
        if len(short) > 10_000:
            short.clear()
        return _Newest(found, sizes[-1] if sizes else 0, time.monotonic())

    def _cosignature_counts(self, community: str, floor: int) -> dict[int, int]:
        t = tables.cosignatures
        with self._service.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.size, func.count())
                .where(t.c.community == community, t.c.size >= floor)
                .group_by(t.c.size)
            ).all()
        return {int(size): int(count) for size, count in rows}

    def _lock(self, community: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(community, threading.Lock())

    def _memo(self, community: str) -> SubtreeMemo:
        with self._guard:
            return self._memos.setdefault(community, SubtreeMemo(self._service, community))
