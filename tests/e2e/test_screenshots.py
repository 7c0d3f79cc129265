"""The dashboard in a real browser: headless Chromium against ``glasspocket serve``.

A copy of the demo's database is served by the real command on a free port; Chromium
takes the dashboard's screenshot at phone width (414) and desktop width (1280) and dumps
its DOM. The PNGs must be real renderings of the page (its width, the header's colour at
the top, many colours), and the DOM the Chinese dashboard. Set ``GLASSPOCKET_SCREENSHOTS``
to a folder to keep the PNGs (that is how ``docs/screenshots/`` was made; a person looked
at them). Without Chromium the test skips, unless ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from forgery import DemoExport
from server_process import Server

CHROMIUM = shutil.which("chromium")
HEADER_BLUE = (0x1F, 0x4E, 0x79)  # --blue in api/static/site.css
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing, and CI=true requires the browser tests")
        pytest.skip("chromium is not installed (Debian package 'chromium')")
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def served(demo: DemoExport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("screens")
    shutil.copy(Path(demo.db_url.removeprefix("sqlite:///")), folder / "demo.db")
    server = Server.start(f"sqlite:///{folder / 'demo.db'}", demo.keys, folder / "serve.log")
    try:
        yield server
    finally:
        server.stop()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize(("name", "width"), [("phone", 414), ("desktop", 1280)])
def test_dashboard_screenshot(served: Server, tmp_path: Path, name: str, width: int) -> None:
    shot = tmp_path / f"dashboard-{name}.png"
    done = chromium(
        tmp_path / "profile",
        f"--window-size={width},1800",
        f"--screenshot={shot}",
        f"{served.url}/c/demo/",
    )
    assert shot.is_file(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert png_size(data) == (width, 1800)
    assert len(data) > 40_000  # charts, cards and text, not a blank or an error page
    image = pytest.importorskip("PIL.Image").open(shot).convert("RGB")
    assert image.getpixel((2, 2)) == HEADER_BLUE  # our header, so our stylesheet loaded
    assert len(image.resize((width // 4, 450)).getcolors(maxcolors=1 << 20) or ()) > 200
    keep = os.environ.get("GLASSPOCKET_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)


def test_dashboard_dom_is_the_chinese_dashboard(served: Server, tmp_path: Path) -> None:
    done = chromium(tmp_path / "profile", "--dump-dom", f"{served.url}/c/demo/")
    dom = done.stdout
    assert '<html lang="zh-CN">' in dom, done.stderr[-2000:]
    for words in ("四个资金账户的余额", "这些数字可信吗", "专项维修资金", "在您的浏览器中亲自核验"):
        assert words in dom
