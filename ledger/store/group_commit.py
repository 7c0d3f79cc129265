"""Group commit: concurrent submissions to one community become one batch.

Each caller puts its request in its community's queue. The first caller finds no
leader and leads: it takes every queued request (up to ``MAX_BATCH``) and runs the
batch function once for all of them (one transaction, one checkpoint), while the
others wait. When it is done, the first request still queued, if any, is woken
as the next leader. Every request gets its own result or its own error; a
request refused by the rules never affects the others in its batch.

No caller waits for a timer: a batch is whatever arrived while the one before it
was being committed, so a lone submission is committed at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
MAX_BATCH = 1_000


@dataclass
class Request(Generic[T, R]):
    """One submission: what was asked, then its result or its error."""

    item: T
    result: R | None = None
    error: BaseException | None = None
    leader: bool = False
    wake: threading.Event = field(default_factory=threading.Event)

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


BatchFunction = Callable[[str, Sequence["Request[T, R]"]], None]


class GroupCommit(Generic[T, R]):
    """Per-key queues of requests, each batch run by one leading caller."""

    def __init__(self, run_batch: BatchFunction[T, R], max_batch: int = MAX_BATCH) -> None:
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queues: dict[str, list[Request[T, R]]] = {}
        self._leading: set[str] = set()
        self.batches = 0  # batches run, for tests and benchmarks

    def submit(self, key: str, item: T) -> R:
        """Queue ``item``; return its result (or raise its error) once its batch is done."""
        request: Request[T, R] = Request(item)
        with self._lock:
            self._queues.setdefault(key, []).append(request)
            if key not in self._leading:
                self._leading.add(key)
                request.leader = True
        if not request.leader:
            request.wake.wait()
        if request.leader:
            self._lead(key)
        return request.outcome()

    def _lead(self, key: str) -> None:
        with self._lock:
            queue = self._queues[key]
            batch, self._queues[key] = queue[: self._max_batch], queue[self._max_batch :]
        try:
            self._run_batch(key, batch)
        except BaseException as exc:  # the batch function failed as a whole
            for request in batch:
                if request.result is None and request.error is None:
                    request.error = exc
        finally:
            self.batches += 1
            self._hand_over(key)
            for request in batch:
                if not request.leader:
                    request.wake.set()

    def _hand_over(self, key: str) -> None:
        with self._lock:
            rest = self._queues.get(key)
            if rest:
                rest[0].leader = True
                rest[0].wake.set()
            else:
                self._queues.pop(key, None)
                self._leading.discard(key)
