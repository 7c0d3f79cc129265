"""The benchmark's HTTP side: a real ``glasspocket serve`` process and lean keep-alive clients.

The clients are plain asyncio HTTP/1.1 connections (keep-alive, requests written
ahead of the clock) so that on a small machine the load generator takes as little
of the CPU the server needs as possible; they are real TCP clients of the real
server all the same. ``post_all`` spreads the entries over ``clients`` concurrent
connections; ``get_latencies`` times GETs one by one.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
HOST = "127.0.0.1"


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a client coroutine, on uvloop when installed (less of the CPU the server needs)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A server in a subprocess, listening on ``port``: ``glasspocket serve``
    (``serve_process``) or the bare yardstick (``api.bench_bare.bare_process``)."""

    command: list[str]
    port: int
    environment: dict[str, str] | None = None  # None: this process's
    process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> None:
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, env=self.environment
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the server exited while starting")
            try:
                status, _ = _run(_request(self.port, b"GET", "/", b""))
                if status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def peak_rss_mb(self) -> float:
        """The server's peak resident memory so far (VmHWM)."""
        assert self.process is not None
        return _vm_hwm_mb(self.process.pid)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def serve_process(db_url: str, keys_dir: Path) -> Server:
    """``glasspocket serve`` of the database, not yet started."""
    port = free_port()
    command = [sys.executable, "-m", "api.bench_child", "serve", db_url, str(keys_dir), str(port)]
    return Server(command, port)


def _vm_hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _head(method: bytes, path: str, body: bytes) -> bytes:
    lines = [method + b" " + path.encode() + b" HTTP/1.1", b"Host: " + HOST.encode()]
    if body:
        lines += [b"Content-Type: application/json", b"Content-Length: %d" % len(body)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def _request(port: int, method: bytes, path: str, body: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(_head(method, path, body))
        await writer.drain()
        return await _read_response(reader)
    finally:
        writer.close()


@dataclass
class LoadResult:
    seconds: float
    statuses: dict[int, int]
    errors: list[str]


def post_all(
    port: int, path: str, bodies: Sequence[bytes], clients: int, progress: object = None
) -> LoadResult:
    """POST every body from ``clients`` concurrent keep-alive connections; time the whole."""
    return _run(_post_all(port, path, bodies, clients))


async def _post_all(port: int, path: str, bodies: Sequence[bytes], clients: int) -> LoadResult:
    requests = [_head(b"POST", path, body) for body in bodies]
    statuses: dict[int, int] = {}
    errors: list[str] = []
    next_index = 0

    async def client() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while next_index < len(requests):
                request = requests[next_index]
                next_index += 1
                writer.write(request)
                status, body = await _read_response(reader)
                statuses[status] = statuses.get(status, 0) + 1
                if status >= 300 and len(errors) < 5:
                    errors.append(body[:300].decode("utf-8", "replace"))
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return LoadResult(time.perf_counter() - start, statuses, errors)


def get_latencies(port: int, paths: Sequence[str]) -> tuple[list[float], dict[int, int]]:
    """Seconds each GET took (one connection, one at a time) and the statuses seen."""
    return _run(_get_latencies(port, paths))


async def _get_latencies(port: int, paths: Sequence[str]) -> tuple[list[float], dict[int, int]]:
    reader, writer = await asyncio.open_connection(HOST, port)
    times: list[float] = []
    statuses: dict[int, int] = {}
    try:
        for path in paths:
            start = time.perf_counter()
            writer.write(_head(b"GET", path, b""))
            status, _ = await _read_response(reader)
            times.append(time.perf_counter() - start)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()
    return times, statuses


def child_env() -> dict[str, str]:
    """The environment for child processes: this one's, without a GLASSPOCKET_ override."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GLASSPOCKET_")}
