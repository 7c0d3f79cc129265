"""Full verification of a published log: every tile, every entry, every rule.

Steps:
1. The checkpoint meets the pinned policy (log signature, witness quorum).
2. Every tile authenticates against the checkpoint root, and every entry in the
   entry bundles hashes to its authenticated leaf (``ledger.core.tiles``).
3. Every entry is exactly its canonical (JCS) bytes, its signer is registered and
   live at that index, its signature verifies, its role may make its type, and it
   obeys every rule: the same fold the write side enforces (``ledger.core.rules``).
4. Index 0 founds the community whose origin the checkpoint names.
5. The checkpoint is consistent with the one remembered for this origin.

The log is streamed tile by tile; memory does not grow with the number of entries
beyond the folded state, which keeps its per-entry facts compact (``ledger.core.compact``:
about 70 bytes an entry, so a 1M-entry log folds in well under 500 MB). Signatures are
verified a few entry bundles ahead of the fold by a worker process per core
(``ledger.core.preverify``, ``ledger.core.verify_workers``: processes, as the fold holds
the GIL that verifying threads would wait for); the fold trusts such a result only for
exactly the key it resolves at that index and exactly those bytes, and verifies any
other signature itself.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterator
from typing import Any

from ledger.core.entry import Entry, parse_logged_entry
from ledger.core.errors import LedgerError, RuleViolation
from ledger.core.keys import VerifierKey
from ledger.core.merkle import consistency_proof, leaf_hash, root_at
from ledger.core.money_bodies import FUNDS
from ledger.core.notices import notices
from ledger.core.policy import Policy, VerifiedCheckpoint
from ledger.core.preverify import PreVerifier, key_id_hex
from ledger.core.rules import apply
from ledger.core.state import CommunityState
from ledger.core.tiles import TileHashReader, verified_entries
from verify.memory import CheckpointMemory, ForkError
from verify.report import UNEXPECTED_ERRORS, Report, fingerprint
from verify.sources import Source

Progress = Callable[[int, int], None]


def audit_log(
    source: Source,
    policy: Policy,
    memory: CheckpointMemory | None = None,
    progress: Progress | None = None,
) -> Report:
    report = Report()
    verified = _check_checkpoint(source, policy, report)
    if verified is None:
        return report
    state = _replay(source, verified, report, progress)
    _check_genesis(state, verified, report)
    for notice in notices(state):
        report.notice(notice.code, notice.en, notice.zh, notice.where)
    if memory is not None and report.ok:
        _compare_with_memory(source, verified, memory, report)
    report.facts.update(_summary(state, verified))
    return report


def _check_checkpoint(source: Source, policy: Policy, report: Report) -> VerifiedCheckpoint | None:
    try:
        return policy.check(source.read("checkpoint"))
    except LedgerError as exc:
        report.violation(exc, "checkpoint")
        return None
    except UNEXPECTED_ERRORS as exc:  # malformed input is a violation, never a crash
        report.unverifiable(exc, "checkpoint")
        return None


def _replay(
    source: Source, verified: VerifiedCheckpoint, report: Report, progress: Progress | None
) -> CommunityState:
    """Fold every entry in order; signatures are checked a chunk ahead, on every core."""
    state = CommunityState()
    types: Counter[str] = Counter()
    ahead: deque[list[Parsed]] = deque()
    hints: dict[str, VerifierKey] = {}
    with PreVerifier(window=(LOOKAHEAD + 2) * CHUNK, processes=True) as verifier:

        def fold(chunk: list[Parsed]) -> None:
            for index, data, parsed in chunk:
                _fold_one(state, types, report, verifier, index, data, parsed)
                if progress is not None:
                    progress(index + 1, verified.size)

        try:
            for chunk in _chunks(verified_entries(verified.size, verified.root, source.read)):
                parsed = [(index, data, _parse(data)) for index, data in chunk]
                verifier.submit(_expected_signers(state, parsed, hints))
                ahead.append(parsed)
                if len(ahead) > LOOKAHEAD:
                    fold(ahead.popleft())
        except LedgerError as exc:
            _fold_all(ahead, fold)
            report.violation(exc, "tiles")
        except UNEXPECTED_ERRORS as exc:  # malformed input is a violation, never a crash
            _fold_all(ahead, fold)
            report.unverifiable(exc, "tiles")
        _fold_all(ahead, fold)
    report.facts["entries_by_type"] = dict(sorted(types.items()))
    return state


Parsed = tuple[int, bytes, "Entry | Exception"]
CHUNK = 256  # one entry bundle
LOOKAHEAD = 3  # chunks parsed and being verified ahead of the fold


def _chunks(items: Iterator[tuple[int, bytes]]) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _parse(data: bytes) -> Entry | Exception:
    try:
        return parse_logged_entry(data)
    except (LedgerError, *UNEXPECTED_ERRORS) as exc:
        return exc


def _expected_signers(
    state: CommunityState, chunk: list[Parsed], hints: dict[str, VerifierKey]
) -> list[tuple[Entry, VerifierKey]]:
    """Each entry with the key its signer holds in ``state``, or that an entry ahead of the
    fold registers (``hints``); only a guess of which key to verify ahead with, as the fold
    re-resolves the signer's key at that exact index and trusts only a result for it."""
    pairs = []
    for _, _, entry in chunk:
        if isinstance(entry, Entry):
            hints.update(_registered_keys(entry))
            record = state.keys.get(entry.signer)
            for key in (record.vkey if record else None, hints.get(entry.signer)):
                if key is not None and key_id_hex(key) == entry.key_id:
                    pairs.append((entry, key))
                    break
    return pairs


def _registered_keys(entry: Entry) -> dict[str, VerifierKey]:
    """The keys an entry registers, by name (nothing if it registers none or a bad one)."""
    if entry.type == "community.founded":
        texts = [item["vkey"] for item in entry.body["keys"]]
    elif entry.type == "key.registered":
        texts = [entry.body["vkey"]]
    else:
        return {}
    keys = {}
    for text in texts:
        try:
            key = VerifierKey.parse(text)
        except LedgerError:
            continue
        keys[key.name] = key
    return keys


def _fold_all(ahead: deque[list[Parsed]], fold: Callable[[list[Parsed]], None]) -> None:
    while ahead:
        fold(ahead.popleft())


def _fold_one(
    state: CommunityState,
    types: Counter[str],
    report: Report,
    verifier: PreVerifier,
    index: int,
    data: bytes,
    parsed: Entry | Exception,
) -> None:
    try:
        if isinstance(parsed, Exception):
            raise parsed
        apply(state, parsed, verifier)
        types[parsed.type] += 1
    except LedgerError as exc:
        report.violation(exc, f"#{index}")
        _skip(state, index, data)
    except UNEXPECTED_ERRORS as exc:  # malformed input is a violation, never a crash
        report.unverifiable(exc, f"#{index}")
        _skip(state, index, data)


def _skip(state: CommunityState, index: int, data: bytes) -> None:
    """Step over a refused entry: it still stands in the tree later statements cover."""
    state.size = index + 1
    state.statements.merkle.append(leaf_hash(data))


def _check_genesis(state: CommunityState, verified: VerifiedCheckpoint, report: Report) -> None:
    if state.origin and state.origin != verified.origin:
        report.violation(
            RuleViolation(
                f"the founding entry names origin {state.origin!r}, the checkpoint {verified.origin!r}",
                f"创始条目所载日志源 {state.origin!r} 与检查点 {verified.origin!r} 不符",
            ),
            "#0",
        )


def _compare_with_memory(
    source: Source, verified: VerifiedCheckpoint, memory: CheckpointMemory, report: Report
) -> None:
    reader = TileHashReader(verified.size, verified.root, source.read)
    try:
        seen = memory.observe(
            verified, lambda m, n: consistency_proof(m, n, reader), lambda m: root_at(m, reader)
        )
    except ForkError as exc:
        report.violation(exc, "memory")
        report.facts["evidence"] = str(exc.evidence_path)
        return
    report.facts["memory"] = seen.outcome
    if seen.outcome == "not_compared":
        report.notice("not_compared", seen.en, seen.zh, "memory")


def _summary(state: CommunityState, verified: VerifiedCheckpoint) -> dict[str, Any]:
    return {
        "origin": verified.origin,
        "size": verified.size,
        "root": verified.root.hex(),
        "fingerprint": fingerprint(verified.root),
        "witnesses": list(verified.witnesses),
        "community": state.community,
        "name": state.name,
        "units": len(state.units),
        "live_keys": len(state.live_keys()),
        "funds_fen": {fund: state.balance(fund) for fund in FUNDS},
    }
