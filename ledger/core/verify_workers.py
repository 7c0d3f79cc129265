"""Ed25519 checks in worker processes: batches over pipes, results in order.

A ``WorkerPool`` starts one small Python process per worker (``WORKER``: it imports
only ``cryptography``), hands each batch of (public key, signature, message) to the
next worker in turn and reads a worker's results back, in the order it was given
its batches, when someone asks for them. No threads and no pickle: a batch is
length-prefixed bytes, its results one byte per signature (1 good, 0 not).

The pool only ever says "verified" for a signature a worker verified. A worker
that cannot start, dies or answers nonsense makes every result it owes ``False``,
so the caller verifies those signatures itself: a failure here costs time, never
a check.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from typing import IO

try:
    import fcntl
except ImportError:  # not on a Unix
    fcntl = None  # type: ignore[assignment]

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
MAX_UNREAD = 8_192  # results a worker may owe before a submit reads some (pipes stay unblocked)
PIPE_SIZE = 1 << 20  # room for about 2,000 entries queued to a worker without blocking the caller

WORKER = r"""
import sys
sys.path.extend(sys.argv[1:])  # the caller's path: started without site (-S), it starts fast
try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:
    import site
    site.main()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.exceptions import InvalidSignature

def serve(read, write, flush):
    keys = {}
    while True:
        head = read(4)
        if len(head) < 4:
            return
        data = read(int.from_bytes(head, "big"))
        out, at, end = bytearray(), 0, len(data)
        while at < end:
            raw, sig = data[at : at + 32], data[at + 32 : at + 96]
            size = int.from_bytes(data[at + 96 : at + 100], "big")
            message, at = data[at + 100 : at + 100 + size], at + 100 + size
            key = keys.get(raw)
            if key is None:
                if len(keys) > 4096:
                    keys.clear()
                key = keys[raw] = Ed25519PublicKey.from_public_bytes(raw)
            try:
                key.verify(sig, message)
                out.append(1)
            except InvalidSignature:
                out.append(0)
        write(len(out).to_bytes(4, "big") + out)
        flush()

serve(sys.stdin.buffer.read, sys.stdout.buffer.write, sys.stdout.buffer.flush)
"""


def encode_batch(items: Sequence[tuple[bytes, bytes, bytes]]) -> bytes:
    """``items`` of (32-byte public key, 64-byte signature, message) as one request."""
    parts: list[bytes] = []
    for public, signature, message in items:
        parts += (public, signature, len(message).to_bytes(4, "big"), message)
    body = b"".join(parts)
    return len(body).to_bytes(4, "big") + body


class Batch:
    """A batch handed to a worker; ``result()`` reads the worker's answer when first asked."""

    def __init__(self, worker: _Worker | None, size: int) -> None:
        self._worker = worker
        self.size = size
        self._results: list[bool] | None = None if worker is not None else [False] * size

    def result(self) -> list[bool]:
        if self._results is None:
            assert self._worker is not None
            self._worker.receive_until(self)
        assert self._results is not None
        return self._results

    def settle(self, results: list[bool]) -> None:
        self._results = results if len(results) == self.size else [False] * self.size

    @property
    def settled(self) -> bool:
        return self._results is not None


class _Worker:
    """One worker process and the batches it owes answers for, oldest first."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._owed: deque[Batch] = deque()
        self._unread = 0
        self._lock = threading.RLock()
        try:
            self._process = subprocess.Popen(
                # -I: no environment, user site or working directory; -S: no site at start-up
                [sys.executable, "-I", "-S", "-c", WORKER, *(p for p in sys.path if p)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            self._process = None
        if self._process is not None and self._process.stdin is not None:
            _enlarge_pipe(self._process.stdin.fileno())

    def submit(self, items: Sequence[tuple[bytes, bytes, bytes]]) -> Batch:
        with self._lock:
            process = self._process
            if process is None or process.stdin is None:
                return Batch(None, len(items))
            while self._unread + len(items) > MAX_UNREAD and self._owed:
                self.receive_until(self._owed[0])
            batch = Batch(self, len(items))
            try:
                process.stdin.write(encode_batch(items))
                process.stdin.flush()
            except (OSError, ValueError):
                self._fail()
                return Batch(None, len(items))
            self._owed.append(batch)
            self._unread += len(items)
            return batch

    def receive_until(self, batch: Batch) -> None:
        """Read answers, oldest batch first, until ``batch`` has its results."""
        with self._lock:
            while not batch.settled:
                if not self._owed or self._process is None or self._process.stdout is None:
                    batch.settle([])
                    return
                oldest = self._owed[0]
                answer = _read_answer(self._process.stdout)
                if answer is None:
                    self._fail()
                    continue
                self._owed.popleft()
                self._unread -= oldest.size
                oldest.settle([value == 1 for value in answer])

    def _fail(self) -> None:
        """The worker is gone or confused: every result it owes is 'not verified'."""
        while self._owed:
            self._owed.popleft().settle([])
        self._unread = 0
        self.close()

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
            if process is None:
                return
            try:
                if process.stdin is not None:
                    process.stdin.close()
                process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
            finally:
                if process.stdout is not None:
                    process.stdout.close()


def _enlarge_pipe(fd: int) -> None:
    """Let a pipe hold ``PIPE_SIZE`` bytes (Linux), so handing a worker its batches never waits."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None:
        with contextlib.suppress(OSError):  # over the limit: the default size makes callers wait
            fcntl.fcntl(fd, set_size, PIPE_SIZE)


def _read_answer(stream: IO[bytes]) -> bytes | None:
    try:
        head = stream.read(4)
        if len(head) < 4:
            return None
        size = int.from_bytes(head, "big")
        data = stream.read(size)
    except (OSError, ValueError):
        return None
    return data if len(data) == size else None


class WorkerPool:
    """``workers`` processes checking batches of signatures, each batch to the next in turn."""

    def __init__(self, workers: int) -> None:
        self._workers = [_Worker() for _ in range(max(workers, 1))]
        self._next = 0

    def submit(self, items: Sequence[tuple[bytes, bytes, bytes]]) -> Batch:
        """Start checking ``items``; pairs a worker cannot take are settled as not verified."""
        if not items:
            return Batch(None, 0)
        if any(len(p) != PUBLIC_KEY_SIZE or len(s) != SIGNATURE_SIZE for p, s, _ in items):
            return Batch(None, len(items))  # malformed: the caller verifies (and refuses) inline
        worker = self._workers[self._next]
        self._next = (self._next + 1) % len(self._workers)
        return worker.submit(items)

    def close(self) -> None:
        for worker in self._workers:
            worker.close()
