"""The verify page in headless Chromium against a real ``glasspocket serve`` on the demo.

As it will be checked: ``chromium --headless ... --virtual-time-budget=20000 --dump-dom URL``
must hold ``id="verdict"`` with ``data-verdict="ok"`` for an honest statement bundle and
``"fail"`` for one with a single figure changed (served from another origin with CORS),
with the policy given by URL or inline (as a notice's QR code carries it).
Without chromium the tests skip, unless CI=true.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from forgery import DemoExport
from server_process import Server, free_port
from test_js_verifier import change_one_figure

BUNDLE = "/c/demo/statements/2025Q3/bundle"
POLICY = "/c/demo/log/policy"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=20000",
)  # fmt: skip


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but chromium is not installed: the verify page cannot be tested")
        pytest.skip("chromium is not installed (needed for the browser verifier's page)")
    return found


class _CorsHandler(http.server.SimpleHTTPRequestHandler):
    """Static files that any origin may fetch, as a community's mirror on a static host."""

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def server(demo: DemoExport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("browser")
    db = Path(demo.db_url.removeprefix("sqlite:///"))
    shutil.copy2(db, folder / "demo.db")
    shutil.copytree(demo.keys, folder / "keys")
    running = Server.start(f"sqlite:///{folder / 'demo.db'}", folder / "keys", folder / "serve.log")
    try:
        yield running
    finally:
        running.stop()


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode("utf-8"))


@pytest.fixture(scope="module")
def mirror(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another origin (CORS) holding the honest bundle and one with a figure changed."""
    folder = tmp_path_factory.mktemp("mirror")
    honest = _get(server.url + BUNDLE)
    (folder / "honest.statement.json").write_text(honest, encoding="utf-8")
    (folder / "tampered.statement.json").write_text(change_one_figure(honest), encoding="utf-8")
    handler = functools.partial(_CorsHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def dump_dom(url: str, profile: Path) -> str:
    proc = subprocess.run(
        [_chromium(), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def verdict(dom: str, element: str = "verdict") -> str:
    tag = re.search(rf'<[^>]*\bid="{element}"[^>]*>', dom)
    assert tag is not None, f"no #{element} in the page"
    found = re.search(r'data-verdict="([a-z]+)"', tag.group(0))
    assert found is not None
    return found.group(1)


def _verify_url(server: Server, policy: str, bundle: str, lang: str = "zh") -> str:
    query = {"bundle": bundle, "policy": policy} | ({"lang": "en"} if lang == "en" else {})
    return f"{server.url}/verify?{urllib.parse.urlencode(query, quote_via=urllib.parse.quote)}"


def test_the_page_and_its_modules_are_served(server: Server) -> None:
    page = _get(server.url + "/verify")
    assert '<html lang="zh-CN">' in page and "核对小区资金报表" in page
    assert "Verify a community" in _get(server.url + "/verify?lang=en")
    with urllib.request.urlopen(server.url + "/static/verify/main.js", timeout=30) as response:
        assert "javascript" in response.headers["Content-Type"]


def test_honest_bundle_is_verified(server: Server, tmp_path: Path) -> None:
    """Given the demo's 2025Q3 bundle and policy by URL, when Chromium opens /verify, then ok."""
    dom = dump_dom(_verify_url(server, POLICY, BUNDLE), tmp_path / "profile")
    assert verdict(dom) == "ok", re.findall(r'<li class="violation"[^<]*', dom)
    assert "已验证" in dom


def test_a_changed_figure_fails_from_another_origin(
    server: Server, mirror: str, tmp_path: Path
) -> None:
    """Given a bundle with one figure changed on a CORS mirror, then fail, with the reason."""
    url = _verify_url(server, POLICY, f"{mirror}/tampered.statement.json", lang="en")
    dom = dump_dom(url, tmp_path / "profile")
    assert verdict(dom) == "fail"
    assert "Verification failed" in dom and 'data-code="bad_proof"' in dom


def test_inline_policy_from_the_notice(server: Server, mirror: str, tmp_path: Path) -> None:
    """Given the policy text itself in the URL (as the notice's QR code), then ok; altered, fail."""
    policy = _get(server.url + POLICY)
    honest = f"{mirror}/honest.statement.json"
    assert verdict(dump_dom(_verify_url(server, policy, honest), tmp_path / "a")) == "ok"
    witnessless = "\n".join(line for line in policy.splitlines() if line.startswith("log "))
    strict = witnessless + "\nwitness extra " + _foreign_witness() + "\nquorum extra\n"
    assert verdict(dump_dom(_verify_url(server, strict, honest), tmp_path / "b")) == "fail"


def _foreign_witness() -> str:
    """A witness vkey nobody cosigned with (from the golden vectors)."""
    keys = json.loads((Path(__file__).parents[1] / "vectors/golden/keys.json").read_text())
    return str(next(k["vkey"] for k in keys["keys"] if k["type"] == 4))


def test_a_receipt_is_checked_with_the_key_chain(server: Server, tmp_path: Path) -> None:
    receipts = json.loads(_get(server.url + "/c/demo/units/3-1-502/receipts"))["receipts"]
    entry = next(r for r in receipts if r["type"] == "contribution.received")
    query = urllib.parse.urlencode(
        {"policy": POLICY, "receipt": entry["url"], "keychain": "/c/demo/log/keychain"}
    )
    dom = dump_dom(f"{server.url}/verify?{query}", tmp_path / "profile")
    assert verdict(dom, "receipt-verdict") == "ok"
    # the verified receipt leads to its unit's own page
    assert 'id="unit-link"' in dom
    assert 'href="/c/demo/units/3-1-502"' in dom
