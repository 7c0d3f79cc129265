"""``glasspocket serve`` as a child process on a free port, for tests that need a real server.

``Server.start`` launches it with a database and keys folder and waits until ``GET /``
answers; ``kill`` sends SIGKILL (what a power cut or the OOM killer does), ``stop`` SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
READY_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, db_url: str, keys: Path, log: Path, port: int | None = None) -> Server:
        port = port or free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GLASSPOCKET_")}
        with log.open("ab") as sink:
            process = subprocess.Popen(
                [str(BIN / "glasspocket"), "serve", "--db", db_url, "--keys", str(keys),
                 "--port", str(port)],
                stdout=sink, stderr=sink, env={**env, "LANG": "en"},
            )  # fmt: skip
        server = cls(process, port, log)
        server.wait_ready()
        return server

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}: {self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        raise AssertionError(f"serve did not answer within {READY_TIMEOUT}s: {self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, no goodbye."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
