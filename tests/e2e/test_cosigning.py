"""Automatic cosigning: the server asks its witnesses after every entry (C2SP tlog-witness).

The demo's two witnesses run as real ``glasspocket witness serve`` processes on free
local ports; the API (``create_app`` behind the test client) is given their URLs, on a
copy of the demo's database. A submission's receipt then comes back cosigned and
verifies with ``glasspocket-verify receipt`` against the pinned policy. A witness that
is down leaves the receipt null (and a warning in the server's log), nothing worse; a
witness at another size than the server thought answers 409 and is sent the right proof.
Last, ``glasspocket demo`` itself, serving, runs both witnesses in process.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BIN, Run
from forgery import DemoExport

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.demo_witnesses import WITNESSES
from api.settings import Settings
from ledger.core.entry import sign_entry
from ledger.core.keys import SigningKey
from ledger.core.note import parse_checkpoint, parse_note

Post = Callable[[list[str]], dict[str, Any]]
_months = iter(f"2025-{m:02d}" for m in range(4, 13))


def _payment(demo: DemoExport, unit: str = "1-1-102") -> bytes:
    """A genuine property payment by the demo's treasurer, for a month not yet paid."""
    treasurer = SigningKey.load(demo.keys / "treasurer.key")
    entry = sign_entry(
        treasurer,
        community="demo",
        type="contribution.received",
        at="2025-12-08T14:00:00+08:00",
        body={"fund": "property", "unit": unit, "amount_fen": 25_000, "month": next(_months)},
    )
    return entry.entry_bytes()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def db_url(demo: DemoExport, tmp_path: Path) -> str:
    copy = tmp_path / "demo.db"
    shutil.copy(Path(demo.db_url.removeprefix("sqlite:///")), copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def witnesses(demo: DemoExport, tmp_path: Path) -> Iterator[list[str]]:
    """Both demo witnesses as ``glasspocket witness serve`` processes; their URLs."""
    procs, urls = [], []
    try:
        for _, handle, _ in WITNESSES:
            proc = subprocess.Popen(
                [str(BIN / "glasspocket"), "witness", "serve",
                 "--key", str(demo.keys / f"{handle}.key"), "--state", str(tmp_path / handle),
                 "--port", "0", "--stop-after", "120",
                 "--policy-log", str(demo.log_key.verifier())],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            procs.append(proc)
            assert proc.stdout is not None
            banner = proc.stdout.readline()
            assert " listening on " in banner, banner
            urls.append(banner.rsplit(" ", 1)[1].strip())
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.communicate(timeout=10)


def _app(db_url: str, demo: DemoExport, urls: list[str]) -> TestClient:
    settings = Settings(db_url, demo.keys, "localhost:8000", tuple(urls))
    return TestClient(create_app(settings))


def _post(client: TestClient, data: bytes) -> dict[str, Any]:
    response = client.post("/c/demo/entries", content=data)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _verify_receipt(
    run: Run, demo: DemoExport, client: TestClient, receipt: str, folder: Path
) -> None:
    folder.mkdir()
    (folder / "entry.tlog-proof").write_text(receipt, encoding="utf-8")
    (folder / "keychain").write_text(client.get("/c/demo/log/keychain").text, encoding="utf-8")
    proc = run(
        "glasspocket-verify", "receipt", folder / "entry.tlog-proof", "--policy", demo.policy
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _size(note: str) -> int:
    return parse_checkpoint(parse_note(note).text).size


def test_post_comes_back_with_a_cosigned_receipt(
    run: Run, demo: DemoExport, db_url: str, witnesses: list[str], tmp_path: Path
) -> None:
    """Given both witnesses serving, when an entry is posted, then its receipt is cosigned by
    both, verifies against the policy, and the published checkpoint is the new one."""
    with _app(db_url, demo, witnesses) as client:
        result = _post(client, _payment(demo))
        assert result["receipt"] is not None
        note = result["receipt"].split("\n\n", 1)[1]
        assert _size(note) == result["index"] + 1
        for _, _, key_name in WITNESSES:
            assert f"— {key_name} " in note
        assert client.get("/c/demo/log/checkpoint").text == note
        _verify_receipt(run, demo, client, result["receipt"], tmp_path / "receipt")


def test_a_witness_down_leaves_the_receipt_null_without_failing(
    demo: DemoExport,
    db_url: str,
    witnesses: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Given one witness unreachable, the entry is appended (201) with a null receipt and a
    warning; when the server restarts with both witnesses up, it catches up at start."""
    down = f"http://127.0.0.1:{_free_port()}/add-checkpoint"
    with (
        caplog.at_level(logging.WARNING, "glasspocket.cosigning"),
        _app(db_url, demo, [witnesses[0], down]) as client,
    ):
        result = _post(client, _payment(demo))
        assert result["created"] and result["receipt"] is None
    assert any(
        down in r.getMessage() and "did not cosign" in r.getMessage() for r in caplog.records
    )
    with _app(db_url, demo, witnesses) as client:  # restarted: cosigned at start
        note = client.get("/c/demo/log/checkpoint").text
        assert _size(note) == result["index"] + 1


def test_a_witness_at_another_size_is_sent_the_right_proof(
    run: Run, demo: DemoExport, db_url: str, witnesses: list[str], tmp_path: Path
) -> None:
    """Given witnesses that cosigned size n (for an earlier server process), when a new server
    (which does not know their size) appends, they answer 409 with n, get the consistency
    proof from n, and cosign."""
    with _app(db_url, demo, witnesses) as client:
        first = _post(client, _payment(demo))
        assert first["receipt"] is not None
    with _app(db_url, demo, witnesses) as client:
        second = _post(client, _payment(demo, "1-1-103"))
        assert second["receipt"] is not None
        assert _size(second["receipt"].split("\n\n", 1)[1]) == first["index"] + 2
        _verify_receipt(run, demo, client, second["receipt"], tmp_path / "receipt")


# --- glasspocket demo, serving, with its witnesses in process ----------------------------------


def _wait_for(url: str, proc: subprocess.Popen[str]) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise AssertionError(f"glasspocket demo exited: {proc.communicate()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def test_demo_serves_with_its_witnesses_in_process(run: Run, tmp_path: Path) -> None:
    """Given ``glasspocket demo`` building and serving on a free port, when an entry is posted
    over HTTP, then the response's receipt is cosigned by both demo witnesses, which it runs
    in its own process, and verifies against the demo's policy."""
    keys, port = tmp_path / "keys", _free_port()
    env = {**os.environ, "GLASSPOCKET_WITNESS_URLS": ""}
    proc = subprocess.Popen(
        [str(BIN / "glasspocket"), "demo", "--db", f"sqlite:///{tmp_path / 'demo.db'}",
         "--keys", str(keys), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/", proc)
        treasurer = SigningKey.load(keys / "treasurer.key")
        entry = sign_entry(
            treasurer,
            community="demo",
            type="contribution.received",
            at="2025-12-08T14:00:00+08:00",
            body={"fund": "property", "unit": "1-1-102", "amount_fen": 25_000, "month": "2025-12"},
        )
        request = urllib.request.Request(
            f"{base}/c/demo/entries", data=entry.entry_bytes(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 201
            result = json.loads(response.read())
        assert result["receipt"] is not None
        folder = tmp_path / "receipt"
        folder.mkdir()
        (folder / "entry.tlog-proof").write_text(result["receipt"], encoding="utf-8")
        for name in ("keychain", "policy"):
            with urllib.request.urlopen(f"{base}/c/demo/log/{name}", timeout=30) as response:
                (folder / name).write_bytes(response.read())
        verified = run(
            "glasspocket-verify",
            "receipt",
            folder / "entry.tlog-proof",
            "--policy",
            folder / "policy",
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        states = sorted((keys / "witness-state").glob("*/witness-state.json"))
        assert [p.parent.name for p in states] == sorted(name for name, _, _ in WITNESSES)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert "demo witnesses (this process, demo only): http://127.0.0.1:" in out, out + err
