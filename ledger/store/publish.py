"""Publishing a log: checkpoints that meet the policy, tiles, entry bundles, key chains, receipts.

The same files are served over HTTP by the API and written to a directory by
``glasspocket log export`` (SPEC §4), so any static host can mirror a log.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ledger.core.entry import parse_logged_entry
from ledger.core.errors import LedgerError, NotFoundError
from ledger.core.keychain import KeychainItem, format_keychain
from ledger.core.merkle import inclusion_proof
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


def receipt_text(service: LedgerService, published: Published, index: int) -> str:
    size = published.verified.size
    if index >= size:
        raise NotFoundError(
            f"entry #{index} is not yet in a published checkpoint (size {size})",
            f"第 {index} 条尚未进入已发布的检查点（大小 {size}）",
        )
    entry = service.entries(published.community, index, index + 1)[0]
    proof = inclusion_proof(index, size, service.hashes(published.community))
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
