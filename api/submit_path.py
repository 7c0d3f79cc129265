"""``POST /c/{community}/entries`` on a lean path: plain ASGI and one batch per community.

The route is documented in OpenAPI by ``api.app`` (with its schema, examples and
statuses); ``answer_submission`` answers it before FastAPI sees the request (the app's
``__call__``), so a submission costs no middleware, request object, dependency solving,
telemetry check or worker-thread hop. What it does is what the
route did, in the same order, with the same error bodies:

1. the body is read, refused (413) as soon as it is over 64 KiB;
2. it is parsed (400) and canonicalised (413 over 16 KiB of JCS);
3. its signature goes to a verify worker process (``ledger.core.verify_workers``; eight
   at a time, the rest when its batch starts) with the key the state holds for its
   signer, so it is checked on another core while the batch before is judged; the fold
   trusts that result for exactly that key and those bytes, and verifies anything else
   itself; a bad signature is refused by the fold (401);
4. it waits for its community's next batch (``Batches``): the entries that arrived
   while the batch before was being committed are judged one by one and stored in one
   transaction under one checkpoint (``LedgerService.submit_entries``); the witnesses
   are offered that checkpoint once; each entry gets its own result (201, 200 for the
   identical entry again) or its own refusal (401, 403, 409, 422…).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from ledger.core.entry import Entry, parse_entry_json
from ledger.core.errors import LedgerError, TooLargeError
from ledger.core.keys import VerifierKey
from ledger.core.preverify import PreVerifier
from ledger.store.publish import PublishedCache
from ledger.store.service import Appended, LedgerService

ENTRIES_PATH = re.compile(r"^/c/([^/]+)/entries$")
MAX_REQUEST_BYTES = 64 * 1024
MAX_BATCH = 1_000
EARLY_CHUNK = 8  # signatures handed to the verify workers together, while the batch before runs
BATCH_THREADS = 4  # batches of different communities may run at once
log = logging.getLogger(__name__)

Outcome = dict[str, Any] | BaseException
AfterAppend = Callable[[str, int], None]


class Batches:
    """Per-community batches of submissions, gathered in the event loop.

    The first submission for a community starts its drainer; the drainer takes
    whatever is waiting (up to ``MAX_BATCH``), runs it in a batch thread, answers each
    waiter, and goes on while more arrived meanwhile. No timer: a lone submission is
    committed at once, and under load a batch is whatever arrived during the last one.
    """

    def __init__(
        self,
        ledger: LedgerService,
        published: PublishedCache,
        after_append: Callable[[], AfterAppend | None],
    ) -> None:
        self.ledger = ledger
        self.published = published
        self._after_append = after_append
        self._waiting: dict[str, list[tuple[Entry, asyncio.Future[Outcome]]]] = {}
        self._executor = ThreadPoolExecutor(BATCH_THREADS, thread_name_prefix="gp-batch")
        self._verifier_made: PreVerifier | None = None  # its processes start with the first POST
        self._unsent: dict[str, list[tuple[Entry, VerifierKey]]] = {}
        self._drainers: set[asyncio.Task[None]] = set()
        self.batches = 0  # batches run, for tests and benchmarks

    async def submit(self, community: str, entry: Entry) -> dict[str, Any]:
        """The result of ``entry``'s submission (or its refusal, raised)."""
        loop = asyncio.get_running_loop()
        key = self.ledger.expected_signer(community, entry)
        if key is not None:
            unsent = self._unsent.setdefault(community, [])
            unsent.append((entry, key))
            if len(unsent) >= EARLY_CHUNK:
                self._send(community)
        future: asyncio.Future[Outcome] = loop.create_future()
        waiting = self._waiting.get(community)
        if waiting is None:
            self._waiting[community] = [(entry, future)]
            task = loop.create_task(self._drain(community))
            self._drainers.add(task)  # a running task must be referenced
            task.add_done_callback(self._drainers.discard)
        else:
            waiting.append((entry, future))
        outcome = await future
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def _drain(self, community: str) -> None:
        loop = asyncio.get_running_loop()
        while True:
            waiting = self._waiting[community]
            if not waiting:
                del self._waiting[community]
                return
            batch, self._waiting[community] = waiting[:MAX_BATCH], waiting[MAX_BATCH:]
            entries = [entry for entry, _ in batch]
            self._send(community)
            try:
                outcomes = await loop.run_in_executor(self._executor, self._run, community, entries)
            except BaseException as exc:  # the batch failed as a whole (the store, say)
                outcomes = [exc] * len(batch)
            self.batches += 1
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():  # its client may have gone
                    future.set_result(outcome)

    def start(self) -> PreVerifier:
        """The verify worker processes, started now if they are not yet running (a server
        starts them before it serves; an app used without a server, at its first POST)."""
        if self._verifier_made is None:
            self._verifier_made = PreVerifier(processes=True)
        return self._verifier_made

    @property
    def _verifier(self) -> PreVerifier:
        return self.start()

    def _send(self, community: str) -> None:
        """Hand the signatures gathered for ``community`` to the verify worker processes:
        they check them while the batch before is judged, so its fold finds them done."""
        unsent = self._unsent.pop(community, None)
        if unsent:
            self._verifier.submit(unsent)

    def _run(self, community: str, entries: list[Entry]) -> list[Outcome]:
        """One batch, in a batch thread: judge and store, offer the witnesses the new
        checkpoint once, then each entry's result with its receipt."""
        outcomes = self.ledger.submit_entries(community, entries, self._verifier)
        signed = self.ledger.last_signed(community)
        if signed is not None:  # published at once under a policy without witnesses
            self.published.signed(community, *signed)
        created = [o.index for o in outcomes if isinstance(o, Appended) and o.created]
        after_append = self._after_append()
        if created and after_append is not None:
            after_append(community, max(created))
        results: list[Outcome] = []
        for outcome in outcomes:
            if isinstance(outcome, Appended):
                results.append(
                    {
                        "community": community,
                        "index": outcome.index,
                        "id": outcome.entry_id,
                        "created": outcome.created,
                        # None: not yet published (witnesses short of the quorum)
                        "receipt": self.published.receipt(community, outcome.index),
                    }
                )
            else:
                results.append(outcome)
        return results

    def close(self) -> None:
        """Stop the batch threads and the verify worker processes (the server stopping)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._verifier_made is not None:
            self._verifier_made.close()
            self._verifier_made = None


async def answer_submission(batches: Batches, scope: Scope, receive: Receive, send: Send) -> bool:
    """Answer ``scope`` if it is ``POST /c/{community}/entries`` (True); otherwise leave it
    untouched for the rest of the app (False)."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    match = ENTRIES_PATH.match(scope["path"])
    if match is None:
        return False
    try:
        status, result = await submit_body(
            batches, match[1], await read_limited_body(scope, receive)
        )
    except LedgerError as exc:
        status, result = exc.status, exc.as_dict()
    except Exception:
        log.exception("unexpected error on POST %s", scope["path"])
        status, result = 500, _internal()
    await _respond(send, status, result)
    return True


async def submit_body(batches: Batches, community: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """Steps 2–4 of the module doc for one request body: (201 or 200, the result)."""
    entry = parse_entry_json(body)
    result = await batches.submit(community, entry)
    return (201 if result["created"] else 200), result


def _internal() -> dict[str, str]:
    return {
        "code": "internal",
        "message_zh": "服务器内部错误",
        "message_en": "internal error; the operator's log has the details",
    }


async def read_limited_body(scope: Scope, receive: Receive) -> bytes:
    """The request body, refused (413) as soon as it is known to be over 64 KiB."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > MAX_REQUEST_BYTES:
            raise _too_large(int(value))
    chunks: list[bytes] = []
    total = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > MAX_REQUEST_BYTES:
            raise _too_large(total)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _too_large(size: int) -> TooLargeError:
    return TooLargeError(
        f"request body is {size} bytes or more, over {MAX_REQUEST_BYTES}",
        f"请求正文至少 {size} 字节，超过上限 {MAX_REQUEST_BYTES}",
    )


async def _respond(send: Send, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
