"""Running a witness: its state on disk and its add-checkpoint HTTP endpoint (C2SP tlog-witness).

The decision is ``ledger.core.witness.add_checkpoint``; this module keeps what it
needs between requests. ``WitnessStore`` holds, per origin, the last checkpoint
the witness cosigned, in one JSON file under the state folder
(``glasspocket/witness-state@v1``), written atomically (temporary file, fsync,
rename) under a file lock together with the check, so two requests (or a server
and an offline ``witness cosign``) never roll the record back. A request that a
trusted log key signed but that is inconsistent with the record is kept in
``refused/`` beside it: it may be evidence that the log forked.

``serve`` answers ``POST /add-checkpoint`` with the standard statuses: 200 and the
cosignature line, 400 malformed, 403 no trusted log signature, 404 unknown origin,
409 with ``text/x.tlog.size`` (the size it last cosigned) or a same-size fork, 422
an inconsistent proof. ``GET /`` describes the witness.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ledger.core.errors import LedgerError, MalformedError, TooLargeError
from ledger.core.keys import SigningKey, VerifierKey, decode_base64_strict
from ledger.core.note import parse_checkpoint, parse_note
from ledger.core.witness import (
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    InconsistentCheckpointError,
    WitnessConflict,
    Witnessed,
    WitnessForkError,
    add_checkpoint,
    parse_add_checkpoint,
)

STATE_FORMAT = "glasspocket/witness-state@v1"
STATE_FILE = "witness-state.json"
MAX_REQUEST_BYTES = 64 * 1024
Clock = Callable[[], int]


def unix_now() -> int:
    return int(time.time())


class WitnessStore:
    """The witness's record of the last checkpoint it cosigned per origin, on disk."""

    def __init__(self, root: Path, key: SigningKey, clock: Clock = unix_now) -> None:
        self.root = root
        self.key = key
        self.clock = clock
        self._lock = threading.Lock()
        root.mkdir(parents=True, exist_ok=True)

    @property
    def path(self) -> Path:
        return self.root / STATE_FILE

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock, (self.root / "lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read(self) -> dict[str, Witnessed]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != STATE_FORMAT:
                raise ValueError("format")
            if data.get("witness") != str(self.key.verifier()):
                raise MalformedError(
                    f"{self.path} belongs to witness {data.get('witness')}, not this key",
                    f"{self.path} 属于见证人 {data.get('witness')}，而非此密钥",
                )
            return {
                origin: Witnessed(
                    origin,
                    int(item["size"]),
                    decode_base64_strict(item["root"]),
                    item["checkpoint"],
                )
                for origin, item in data["logs"].items()
            }
        except (ValueError, KeyError, TypeError):
            raise MalformedError(
                f"{self.path} is not a witness state file", f"{self.path} 不是见证人状态文件"
            ) from None

    def _write(self, logs: dict[str, Witnessed]) -> None:
        data: dict[str, Any] = {
            "format": STATE_FORMAT,
            "witness": str(self.key.verifier()),
            "logs": {
                origin: {
                    "size": w.size,
                    "root": base64.b64encode(w.root).decode("ascii"),
                    "checkpoint": w.note,
                }
                for origin, w in sorted(logs.items())
            },
        }
        tmp = self.path.with_name(STATE_FILE + ".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def last(self, origin: str) -> Witnessed | None:
        with self._locked():
            return self._read().get(origin)

    def adopt(self, record: Witnessed) -> bool:
        """Start an origin's record at ``record`` (a checkpoint this witness already cosigned,
        e.g. in process when the demo was built) unless it has one; True if adopted."""
        with self._locked():
            logs = self._read()
            if record.origin in logs:
                return False
            logs[record.origin] = record
            self._write(logs)
            return True

    def add(self, request: AddCheckpoint, log_keys: Sequence[VerifierKey]) -> str:
        """Check ``request`` against the record, cosign, persist; the cosignature line.

        Refusals are LedgerErrors whose ``status`` is the HTTP status to answer with.
        """
        with self._locked():
            logs = self._read()
            origin = _origin_of(request)
            try:
                line, record = add_checkpoint(
                    self.key, log_keys, request, logs.get(origin), self.clock()
                )
            except (InconsistentCheckpointError, WitnessForkError):
                self._keep_refused(request)
                raise
            logs[record.origin] = record
            self._write(logs)
            return line

    def _keep_refused(self, request: AddCheckpoint) -> None:
        folder = self.root / "refused"
        folder.mkdir(exist_ok=True)
        body = request.body()
        digest = hashlib.sha256(body.encode()).hexdigest()[:12]
        (folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{digest}.txt").write_text(body, "utf-8")


def _origin_of(request: AddCheckpoint) -> str:
    return parse_checkpoint(parse_note(request.checkpoint_note).text).origin


def make_server(
    store: WitnessStore, log_keys: Sequence[VerifierKey], host: str, port: int
) -> ThreadingHTTPServer:
    """An HTTP server for the witness; ``server_address`` holds the port actually bound."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "glasspocket-witness/1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, status: int, body: str, content_type: str = "text/plain") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path not in ("/", ""):
                self._reply(404, "not found\n")
                return
            logs = "".join(f"log {key}\n" for key in log_keys)
            self._reply(200, f"witness {store.key.verifier()}\n{logs}")

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/add-checkpoint":
                self._reply(404, "not found: POST /add-checkpoint\n")
                return
            try:
                length = int(self.headers.get("Content-Length") or "0")
                if length > MAX_REQUEST_BYTES:
                    raise TooLargeError(
                        f"request body is {length} bytes, over {MAX_REQUEST_BYTES}",
                        f"请求正文 {length} 字节，超过上限 {MAX_REQUEST_BYTES}",
                    )
                request = parse_add_checkpoint(self.rfile.read(length))
                line = store.add(request, log_keys)
            except WitnessConflict as exc:
                self._reply(409, f"{exc.latest_size}\n", SIZE_CONTENT_TYPE)
                return
            except LedgerError as exc:
                self._reply(exc.status, f"{exc.code}: {exc.en}\n")
                return
            self._reply(200, line)

    return ThreadingHTTPServer((host, port), Handler)
