"""The paper notice (公示) as a committee prints it: ``glasspocket notice PERIOD --out …``.

The demo is built by the real command line; the notice of 2025Q4 is written as PDF and
HTML in Chinese and English, the PDF rendered to PNG with ``pdftoppm`` (as a print shop
would rasterise it) and its text read back with ``pdftotext``. The figures it must show
are taken from the statement bundle (``glasspocket statement bundle``), i.e. from the
published ``statement.published`` entry, not from the notice code.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import run_command
from forgery import DemoExport

from api.notice import PdfUnavailableError, pdf_bytes, qr_codes
from ledger.core.entry import parse_logged_entry

PERIOD = "2025Q4"
pytestmark = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils (pdftoppm, pdftotext) not installed",
)


@dataclass(frozen=True)
class Notices:
    folder: Path
    results: dict[str, dict[str, Any]]  # file name -> the command's --json output
    figures: dict[str, Any]  # the published statement's figures, from its bundle


def _glasspocket(demo: DemoExport, *args: str | Path, lang: str = "en") -> Any:
    common = ("--community", "demo", "--db", demo.db_url, "--keys", demo.keys)
    return run_command("glasspocket", *args, *common, lang=lang)


def _notice(demo: DemoExport, out: Path, *extra: str) -> dict[str, Any]:
    proc = _glasspocket(demo, "notice", PERIOD, "--out", out, "--json", *extra)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


@pytest.fixture(scope="module")
def notices(demo: DemoExport, tmp_path_factory: pytest.TempPathFactory) -> Notices:
    folder = tmp_path_factory.mktemp("notice")
    results = {
        "zh.pdf": _notice(demo, folder / "zh.pdf"),
        "en.pdf": _notice(demo, folder / "en.pdf", "--lang", "en"),
        "zh.html": _notice(demo, folder / "zh.html"),
        "en.html": _notice(
            demo, folder / "en.html", "--lang", "en", "--bundle-url", "https://x.example/b.json"
        ),
    }
    bundle = folder / "bundle.json"
    proc = _glasspocket(demo, "statement", "bundle", PERIOD, "--out", bundle)
    assert proc.returncode == 0, proc.stderr
    entry = json.loads(bundle.read_text(encoding="utf-8"))["entry"]
    figures = parse_logged_entry(base64.b64decode(entry)).body["figures"]
    return Notices(folder, results, figures)


def _pdf_text(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return done.stdout


def _yuan(fen: int) -> str:
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}¥{whole:,}.{cents:02d}"


@pytest.mark.parametrize("name", ["zh.pdf", "en.pdf"])
def test_the_pdf_renders_to_one_to_three_a4_pages(notices: Notices, name: str) -> None:
    pdf = notices.folder / name
    assert pdf.read_bytes().startswith(b"%PDF")
    prefix = notices.folder / name.replace(".", "-")
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(prefix)], check=True)
    pages = sorted(notices.folder.glob(f"{prefix.name}-*.png"))
    assert 1 <= len(pages) <= 3
    for page in pages:
        data = page.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert abs(width - 661) <= 2 and abs(height - 935) <= 2  # A4 portrait at 80 dpi
        assert len(data) > 20_000  # not a blank page


@pytest.mark.parametrize("name", ["zh.pdf", "en.pdf"])
def test_the_pdf_holds_the_root_and_the_statements_figures(notices: Notices, name: str) -> None:
    text = _pdf_text(notices.folder / name)
    root = notices.results[name]["root"]
    assert re.fullmatch(r"[0-9a-f]{64}", root)
    assert root[:16] in text  # in the instructions, ungrouped
    assert " ".join(root[i : i + 4] for i in range(0, 16, 4)) in text  # the large fingerprint
    assert str(notices.results[name]["size"]) in text
    funds = notices.figures["funds"]
    for fund in funds.values():
        assert _yuan(fund["closing_fen"]) in text
        assert _yuan(fund["opening_fen"]) in text
    total = sum(f["closing_fen"] for f in funds.values())
    assert _yuan(total) in text
    assert _yuan(funds["property"]["outflows"]["security"]) in text


def test_the_notice_speaks_chinese_by_default_and_english_on_request(notices: Notices) -> None:
    zh, en = _pdf_text(notices.folder / "zh.pdf"), _pdf_text(notices.folder / "en.pdf")
    assert "2025年第四季度资金收支公示" in zh
    assert "账本指纹" in zh and "居民如何核验" in zh and "尚未答复的居民异议" in zh
    assert "Q4 2025" in en and "Fingerprint of the log" in en
    assert "How a resident checks this notice" in en
    assert "glasspocket-verify statement" in zh and "glasspocket-verify statement" in en


def test_the_qr_codes_carry_the_policy_and_the_bundle_url(
    notices: Notices, demo: DemoExport
) -> None:
    policy = demo.policy.read_text(encoding="utf-8")
    zh = (notices.folder / "zh.html").read_text(encoding="utf-8")
    en = (notices.folder / "en.html").read_text(encoding="utf-8")
    assert policy.strip() in _qr_text(zh, "policy")
    assert _qr_text(zh, "bundle") == f"http://localhost:8000/c/demo/statements/{PERIOD}/bundle"
    assert _qr_text(en, "bundle") == "https://x.example/b.json"
    assert notices.results["en.html"]["bundle_url"] == "https://x.example/b.json"
    assert zh.count("<svg") >= 4 and "<script" not in zh  # 2 charts, 2 QR codes, no JS
    codes = qr_codes(policy, "u")
    assert codes["policy"]["text"] == policy and codes["policy"]["svg"].startswith("<svg")


def _qr_text(html: str, which: str) -> str:
    import html as html_module

    match = re.search(rf'data-qr="{which}" data-qr-text="([^"]*)"', html)
    assert match is not None
    return html_module.unescape(match[1])


def test_the_html_is_self_contained_with_the_root(notices: Notices) -> None:
    html = (notices.folder / "zh.html").read_text(encoding="utf-8")
    root = notices.results["zh.html"]["root"]
    assert f'data-root="{root}"' in html
    assert "@page" in html and "A4" in html  # the print CSS is inlined
    assert "<link" not in html


@pytest.mark.parametrize(
    ("args", "code", "zh_words"),
    [
        (("2030Q1",), "statement_not_published", "尚未发布"),
        (("2025Q9",), "malformed", "季度"),
    ],
)
def test_a_period_without_a_statement_is_refused(
    demo: DemoExport, tmp_path: Path, args: tuple[str, ...], code: str, zh_words: str
) -> None:
    out = tmp_path / "n.pdf"
    for lang in ("en", "zh_CN.UTF-8"):
        proc = _glasspocket(demo, "notice", *args, "--out", out, lang=lang)
        assert proc.returncode == 1
        assert f"[{code}]" in proc.stderr
        if lang != "en":
            assert zh_words in proc.stderr
    assert not out.exists()


def test_an_unknown_output_kind_or_language_is_refused(demo: DemoExport, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    proc = _glasspocket(demo, "notice", PERIOD, "--out", folder / "n.txt")
    assert proc.returncode == 1 and "[malformed]" in proc.stderr and ".pdf" in proc.stderr
    proc = _glasspocket(demo, "notice", PERIOD, "--out", folder / "n.pdf", "--lang", "fr")
    assert proc.returncode == 1 and "--lang" in proc.stderr
    assert list(folder.iterdir()) == []


def test_without_weasyprint_the_error_suggests_html(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint → ImportError
    with pytest.raises(PdfUnavailableError) as caught:
        pdf_bytes("<html></html>")
    assert caught.value.code == "pdf_unavailable"
    assert ".html" in caught.value.message("en") and ".html" in caught.value.message("zh")
