"""The log's side of witnessing: asking witnesses to cosign each new checkpoint (C2SP tlog-witness).

For a checkpoint the log signed, each witness is sent ``POST <url>/add-checkpoint``
with the consistency proof from the size that witness last cosigned; the
cosignature lines it returns are stored with ``LedgerService.add_cosignature``.
A witness at another size than we thought answers 409 with that size
(``text/x.tlog.size``); the request is sent again with the proof from there.

The server (``attach``) does this once at start for the newest checkpoint of each
community, and after each commit before answering its submissions, so a
submission's receipt is cosigned as soon as the witnesses answer. Submissions of
one batch share one round: a round for a checkpoint that already holds an entry
answers every request waiting for that entry (``cosign_through``). A witness that refuses or cannot be reached is a
warning in the server's log, never a failed submission: the receipt is then null
until a later checkpoint meets the quorum. ``glasspocket witness collect`` uses
the same client by hand.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

from fastapi import FastAPI

from api.settings import Settings
from ledger.core.errors import LedgerError, NotFoundError
from ledger.core.merkle import consistency_proof
from ledger.core.policy import Policy
from ledger.core.witness import SIZE_CONTENT_TYPE, WitnessConflict, format_add_checkpoint
from ledger.store.service import LedgerService

log = logging.getLogger("glasspocket.cosigning")
TIMEOUT = 10.0


class WitnessRefused(LedgerError):
    code = "witness_refused"
    status = 502

    def __init__(self, url: str, status: int, text: str) -> None:
        super().__init__(
            f"{url} refused with HTTP {status}: {text.strip()[:200]}",
            f"{url} 拒绝见证（HTTP {status}）：{text.strip()[:200]}",
        )


def add_checkpoint_url(url: str) -> str:
    """A witness's add-checkpoint URL, given it or the witness's prefix."""
    url = url.rstrip("/")
    return url if url.endswith("/add-checkpoint") else url + "/add-checkpoint"


def post(url: str, body: str, timeout: float = TIMEOUT) -> tuple[int, str, str]:
    """POST ``body``; (status, content type, text). NotFoundError when unreachable."""
    request = urllib.request.Request(
        url,
        data=body.encode("utf-8"),
        method="POST",
        headers={"User-Agent": "glasspocket/1", "Content-Type": "text/plain"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return (
                response.status,
                response.headers.get("Content-Type", ""),
                response.read().decode(),
            )
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        raise NotFoundError(f"{url} cannot be reached: {exc}", f"无法连接 {url}：{exc}") from None


class Cosigner:
    """Asks witnesses to cosign, remembering the size each one last cosigned (saves a 409)."""

    def __init__(
        self,
        service: LedgerService,
        timeout: float = TIMEOUT,
        on_stored: Callable[[str], None] | None = None,
    ) -> None:
        self.service = service
        self.timeout = timeout
        self.on_stored = on_stored  # called with the community after cosignatures were stored
        self.sizes: dict[tuple[str, str], int] = {}
        self.lock = threading.Lock()
        self.offered: dict[str, int] = {}  # per community, the newest size offered (a round)
        self.rounds = 0  # rounds run, for tests and benchmarks

    def cosign_through(self, community: str, index: int, urls: tuple[str, ...]) -> None:
        """Have the witnesses offered a checkpoint holding entry ``index``; never raises.

        Requests of one batch coalesce: the first runs a round for the newest
        checkpoint while the others wait on the lock, then find it already offered.
        """
        if not urls or self.offered.get(community, -1) > index:
            return
        with self.lock:
            if self.offered.get(community, -1) > index:
                return
            self._round(community, urls)

    def _round(self, community: str, urls: tuple[str, ...]) -> dict[str, list[str]]:
        """Under ``self.lock``: ask every witness that has not cosigned the newest checkpoint."""
        result: dict[str, list[str]] = {}
        latest = self.service.latest_checkpoint(community)
        if latest is None:
            return result
        size, note = latest
        self.rounds += 1
        if not self._fully_cosigned(community, size):
            for url in urls:
                try:
                    result[url] = self.request(community, size, note, url)
                except LedgerError as exc:
                    log.warning(
                        "witness %s did not cosign %s at size %d: [%s] %s",
                        url,
                        community,
                        size,
                        exc.code,
                        exc.en,
                    )
            if result and self.on_stored is not None:
                self.on_stored(community)
        self.offered[community] = max(self.offered.get(community, 0), size)
        return result

    def request(self, community: str, size: int, note: str, url: str) -> list[str]:
        """Ask the witness at ``url`` to cosign ``note`` (of ``size``); the witnesses stored.

        Raises a LedgerError when the witness refuses or cannot be reached.
        """
        target = add_checkpoint_url(url)
        old = self.sizes.get((target, community), 0)
        for attempt in range(2):  # on 409 the witness says its size: once more from there
            old = old if 0 <= old <= size else 0
            hashes = self.service.hashes(community)
            proof = consistency_proof(old, size, hashes) if 0 < old < size else []
            status, content_type, text = post(
                target, format_add_checkpoint(old, proof, note), self.timeout
            )
            if status == 409 and content_type.startswith(SIZE_CONTENT_TYPE) and attempt == 0:
                said = int(text.strip())
                if said != old:
                    old = said
                    continue
            if status != 200:
                raise WitnessRefused(url, status, text)
            self.sizes[(target, community)] = size
            return self._store(community, size, url, text)
        raise WitnessConflict(f"{url} keeps answering 409", f"{url} 一直返回 409", old)

    def _store(self, community: str, size: int, url: str, text: str) -> list[str]:
        names = []
        for line in text.splitlines():
            if not line:
                continue
            try:
                names.append(self.service.add_cosignature(community, size, line + "\n"))
            except LedgerError as exc:
                log.warning("witness %s: ignored a line: %s", url, exc.en)
        return names

    def cosign_newest(self, community: str, urls: tuple[str, ...]) -> dict[str, list[str]]:
        """Ask every witness in ``urls`` to cosign the newest checkpoint; never raises.

        Witnesses that already cosigned it are not asked again. A refusal or an
        unreachable witness is logged as a warning and left out of the result.
        """
        if not urls:
            return {}
        with self.lock:
            return self._round(community, urls)

    def _fully_cosigned(self, community: str, size: int) -> bool:
        policy = Policy.parse(self.service.community_info(community)["policy"])
        have = self.service.cosignature_lines(community, size)
        return bool(policy.witnesses) and set(policy.witnesses) <= set(have)


def attach(app: FastAPI, ledger: LedgerService, settings: Settings) -> None:
    """Set ``app.state.after_append(community, index)``, called after entry ``index`` was
    appended and before its response: the witnesses are offered a checkpoint holding it
    (one round per checkpoint, however many requests wait for it).

    At start, the newest checkpoint of every community is offered to them too (catching
    up what was signed while the server was down). Stored cosignatures invalidate
    ``app.state.published`` (a ``PublishedCache``), when the app has one.
    """

    def stored(community: str) -> None:
        published = getattr(app.state, "published", None)
        if published is not None:
            published.invalidate(community)

    cosigner = Cosigner(ledger, on_stored=stored)
    urls = settings.witness_urls
    app.state.cosigner = cosigner

    def after_append(community: str, index: int) -> None:
        cosigner.cosign_through(community, index, urls)

    app.state.after_append = after_append
    app.state.witness_urls = urls
    for community in ledger.communities():
        cosigner.cosign_newest(community, urls)
