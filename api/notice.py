"""Rendering the paper notice (公示): one Jinja2 template, written as HTML or as an A4 PDF.

``render_html`` fills ``api/templates/notice.html`` with ``notice_data.notice_context`` and
inlines ``api/static/notice.css``, the charts and two QR codes, so the HTML file stands
alone. ``write_notice`` writes it, or WeasyPrint's PDF of the very same HTML, atomically.
QR codes are made by the ``qrcode`` library (SVG path images): one carries the
community's trust policy, one the statement bundle's URL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import qrcode
import qrcode.image.svg
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from api.notice_data import notice_context
from api.statement_export import write_atomically
from ledger.core.errors import LedgerError, MalformedError
from ledger.store.service import LedgerService

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
CSS_FILE = HERE / "static" / "notice.css"


class PdfUnavailableError(LedgerError):
    """WeasyPrint (or the Pango library under it) cannot be loaded on this machine."""

    code = "pdf_unavailable"
    status = 500


def default_bundle_url(public_host: str, community: str, period: str) -> str:
    return f"http://{public_host}/c/{community}/statements/{period}/bundle"


def verify_page_url(public_host: str, community: str, bundle_url: str) -> str:
    """The browser verifier (``/verify``) set up for this bundle and the community's policy."""
    prefix = f"http://{public_host}"
    bundle = bundle_url.removeprefix(prefix) if bundle_url.startswith(prefix + "/") else bundle_url
    return f"{prefix}/verify?bundle={bundle}&policy=/c/{community}/log/policy"


def qr_svg(text: str) -> str:
    """A QR code of ``text`` as inline SVG with a 2-module quiet zone.

    Short texts (a URL) get medium error correction; long ones (the policy, ~400 bytes)
    low, which keeps the modules large enough (≈0.45 mm at 33 mm) for a phone to read.
    """
    data = text.encode("utf-8")
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M
        if len(data) <= 200
        else qrcode.constants.ERROR_CORRECT_L,
        border=2,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    code.add_data(data)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    assert isinstance(svg, str)
    # Size it from CSS: drop the fixed millimetre size, keep the viewBox.
    return re.sub(r'\s(width|height)="[^"]*mm"', "", svg, count=2)


def qr_codes(policy: str, bundle_url: str) -> dict[str, dict[str, str]]:
    """The two codes and the exact text each carries (kept in the HTML as data attributes)."""
    return {
        "policy": {"text": policy, "svg": qr_svg(policy)},
        "bundle": {"text": bundle_url, "svg": qr_svg(bundle_url)},
    }


def css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string, safe inside ``<style>`` (no quote or ``<`` escapes)."""
    escaped = "".join(
        ch if ch.isalnum() or ch in " ·-_.,()（）" or ord(ch) > 127 else f"\\{ord(ch):x} "
        for ch in text
    )
    return Markup(f'"{escaped}"')


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["svg"] = lambda text: Markup(text)  # our own SVG: charts and QR codes
    env.filters["css_string"] = css_string
    return env


def render_html(context: dict[str, Any]) -> str:
    """The notice as one self-contained HTML document (print CSS inlined)."""
    zh = bool(context["zh"])
    page = _environment().get_template("notice.html")
    return page.render(
        **context,
        css=Markup(CSS_FILE.read_text(encoding="utf-8")),
        qr=qr_codes(context["policy"], context["bundle_url"]),
        tr=lambda zh_text, en_text: zh_text if zh else en_text,
    )


def pdf_bytes(html: str) -> bytes:
    """WeasyPrint's A4 PDF of ``html``; a clear error when WeasyPrint cannot load."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise PdfUnavailableError(
            f"cannot make a PDF here ({exc}); install WeasyPrint and Pango, "
            "or write the notice as .html and print it from a browser",
            f"本机无法生成 PDF（{exc}）；请安装 WeasyPrint 与 Pango，或输出 .html 后用浏览器打印",
        ) from None
    data = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    assert isinstance(data, bytes)
    return data


def write_notice(
    service: LedgerService,
    community: str,
    period: str,
    out_file: Path,
    zh: bool,
    public_host: str,
    bundle_url: str | None = None,
) -> dict[str, Any]:
    """Write the notice of ``period`` to ``out_file`` (.pdf or .html), atomically.

    ``bundle_url`` (what the bundle QR code carries) defaults to this service's bundle route.
    """
    suffix = out_file.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise MalformedError(
            f"--out must end in .pdf or .html, not {out_file.name!r}",
            f"--out 须以 .pdf 或 .html 结尾，而不是 {out_file.name!r}",
        )
    bundle_url = bundle_url or default_bundle_url(public_host, community, period)
    context = notice_context(service, community, period, zh, bundle_url)
    context["verify_url"] = verify_page_url(public_host, community, bundle_url)
    html = render_html(context)
    data = pdf_bytes(html) if suffix == ".pdf" else html.encode("utf-8")
    write_atomically(out_file, lambda f: f.write(data))
    checkpoint = context["checkpoint"]
    return {
        "path": str(out_file),
        "community": community,
        "period": period,
        "statement_id": context["statement"].entry_id,
        "root": checkpoint["root_hex"],
        "size": checkpoint["size"],
        "origin": checkpoint["origin"],
        "bundle_url": bundle_url,
    }
