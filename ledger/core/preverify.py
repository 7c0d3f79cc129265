"""Ed25519 signatures checked ahead of the fold, on every core: a ``SignatureCheck`` for ``apply``.

Signature checks are the floor of every ingest and audit (DESIGN.md). The
``cryptography`` library releases the GIL while it verifies, so a pool of threads
checks the signatures of a batch of entries while the caller parses and folds.

``PreVerifier.submit(pairs)`` starts checking each (entry, key) pair, where the key
is the one the caller *expects* to sign it (for example the signer's key in the
state before the batch). The fold then calls the pre-verifier as its ``verify``
hook with the key the log names at that exact point; it trusts a result only
for exactly the same key, signature and signing-input bytes, and otherwise
verifies inline. A signature is never taken on trust: every one is verified,
either ahead or in the fold.

With ``processes=True`` the checks run in worker processes (``ledger.core.verify_workers``)
instead of threads: a thread needs the GIL back after every single verification, and a
fold that holds it (pure Python) starves it, so on a busy interpreter processes keep
every core verifying. A worker that fails only makes the fold verify inline.

``PreVerifier.checked(pairs, results)`` takes results from this program's own processes
that verified the signatures where they made them (an import's forked processes, which
sign and check each row's entry with ``cryptography``): the fold trusts them on the same
terms, for exactly the key, signature and bytes that were checked.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.core.entry import Entry, verify_entry_signature
from ledger.core.keys import VerifierKey
from ledger.core.verify_workers import WorkerPool

Checked = tuple[bytes, bytes, bytes]  # (public key, signature, signing input)


class Pending(Protocol):
    """Results of a batch being checked: a thread's future or a worker process's batch."""

    def result(self) -> list[bool]: ...


class _Known:
    """Results already known (``PreVerifier.checked``)."""

    def __init__(self, results: list[bool]) -> None:
        self._results = results

    def result(self) -> list[bool]:
        return self._results


CHUNK = 64  # pairs per task: big enough to amortise the hand-off, small enough to spread


def cpu_count() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def key_id_hex(key: VerifierKey) -> str:
    """``key.key_id_hex`` (which the key computes once)."""
    return key.key_id_hex


def _check_chunk(items: Sequence[tuple[Ed25519PublicKey, bytes, bytes]]) -> list[bool]:
    results = []
    for public, signature, message in items:
        try:
            public.verify(signature, message)  # releases the GIL
            results.append(True)
        except InvalidSignature:
            results.append(False)
    return results


class PreVerifier:
    """A ``SignatureCheck`` that uses signatures verified ahead of time by a thread pool.

    Results not used by the fold (an entry refused before its signature was looked at,
    a key that changed) are forgotten oldest first, so memory stays bounded.
    """

    def __init__(
        self,
        workers: int | None = None,
        window: int = 65_536,
        keep: bool = False,
        processes: bool = False,
    ) -> None:
        """``keep``: a result serves every fold that asks (an import's plan, then its commit);
        ``processes``: verify in worker processes rather than threads."""
        self.workers = workers or cpu_count()
        self._keep = keep
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ed25519")
        self._processes = WorkerPool(self.workers) if processes else None
        self._window = window
        self._results: OrderedDict[Checked, tuple[Pending, int]] = OrderedDict()
        self._keys: dict[bytes, Ed25519PublicKey] = {}
        self._lock = threading.Lock()
        self.ahead = 0  # signatures the fold took from the pool's results
        self.inline = 0  # signatures the fold verified itself

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._processes is not None:
            self._processes.close()

    def __enter__(self) -> PreVerifier:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def submit(self, pairs: Sequence[tuple[Entry, VerifierKey]]) -> None:
        """Start verifying each entry's signature with the given key, in the pool."""
        if self._processes is not None:
            self._submit_to_processes(pairs)
            return
        checked: list[Checked] = []
        work: list[tuple[Ed25519PublicKey, bytes, bytes]] = []
        for entry, key in pairs:
            try:
                item = (key.public_key, entry.signature(), entry.signing_input())
                public = self._public(key.public_key)
            except ValueError:  # a malformed signature or key: the fold refuses it inline
                continue
            checked.append(item)
            work.append((public, item[1], item[2]))
        for start in range(0, len(work), CHUNK):
            future = self._pool.submit(_check_chunk, work[start : start + CHUNK])
            self._remember(checked[start : start + CHUNK], future)

    def checked(self, pairs: Sequence[tuple[Entry, VerifierKey]], results: Sequence[bool]) -> None:
        """Results of checks made elsewhere by this program: ``results[i]`` is whether the
        signature of ``pairs[i]``'s entry verified with that key, over its signing input."""
        items: list[Checked] = []
        verdicts: list[bool] = []
        for (entry, key), verified in zip(pairs, results, strict=True):
            try:
                items.append((key.public_key, entry.signature(), entry.signing_input()))
            except ValueError:  # a malformed signature: the fold refuses it inline
                continue
            verdicts.append(verified)
        self._remember(items, _Known(verdicts))

    def _submit_to_processes(self, pairs: Sequence[tuple[Entry, VerifierKey]]) -> None:
        assert self._processes is not None
        checked: list[Checked] = []
        for entry, key in pairs:
            try:
                checked.append((key.public_key, entry.signature(), entry.signing_input()))
            except ValueError:  # a malformed signature: the fold refuses it inline
                continue
        for start in range(0, len(checked), CHUNK):
            batch = checked[start : start + CHUNK]
            self._remember(batch, self._processes.submit(batch))

    def _remember(self, checked: Sequence[Checked], pending: Pending) -> None:
        with self._lock:
            for position, item in enumerate(checked):
                self._results[item] = (pending, position)
            while len(self._results) > self._window:
                self._results.popitem(last=False)

    def _public(self, raw: bytes) -> Ed25519PublicKey:
        public = self._keys.get(raw)
        if public is None:
            public = self._keys[raw] = Ed25519PublicKey.from_public_bytes(raw)
        return public

    def __call__(self, entry: Entry, key: VerifierKey) -> None:
        """The fold's check: trust a result only for exactly this key, signature and bytes."""
        if key.name == entry.signer and key_id_hex(key) == entry.key_id:
            try:
                item = (key.public_key, entry.signature(), entry.signing_input())
            except ValueError:
                item = None
            with self._lock:
                if item is None:
                    found = None
                elif self._keep:
                    found = self._results.get(item)
                else:
                    found = self._results.pop(item, None)
            if found is not None and found[0].result()[found[1]]:
                self.ahead += 1
                return
        self.inline += 1
        verify_entry_signature(entry, key)  # passes, or raises the precise error


class VerifiedSignatures:
    """Signatures each submitting thread verified itself, for the batch that commits them.

    A thread handing an entry to the group committer verifies its signature first
    (``check_ahead``, in that thread: the GIL is released while it verifies, so the
    threads of a server verify on every core); the batch's fold then calls this as
    its ``verify`` hook, which trusts exactly those key, signature and bytes once.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._good: OrderedDict[Checked, None] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def check_ahead(self, entry: Entry, key: VerifierKey) -> None:
        """Verify now; remember a good signature (a bad one is refused by the fold)."""
        if key.name != entry.signer or key_id_hex(key) != entry.key_id:
            return
        try:
            item = (key.public_key, entry.signature(), entry.signing_input())
            Ed25519PublicKey.from_public_bytes(item[0]).verify(item[1], item[2])
        except (InvalidSignature, ValueError):
            return
        with self._lock:
            self._good[item] = None
            while len(self._good) > self._limit:
                self._good.popitem(last=False)

    def __call__(self, entry: Entry, key: VerifierKey) -> None:
        if key.name == entry.signer and key_id_hex(key) == entry.key_id:
            try:
                item = (key.public_key, entry.signature(), entry.signing_input())
            except ValueError:
                item = None
            if item is not None:
                with self._lock:
                    known = self._good.pop(item, False) is None
                if known:
                    return
        verify_entry_signature(entry, key)
