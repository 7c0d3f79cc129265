"""The browser verifier's page: ``GET /verify`` and the static ES modules it runs.

The checks themselves are plain JavaScript under ``api/static/verify/`` (no build step,
WebCrypto Ed25519 and SHA-256): this module only serves the page (zh-CN first, ``?lang=en``)
and makes sure ``/static`` is mounted (the pages module mounts it; this one mounts it only
when it is missing). The server never judges the bundle: the page fetches the policy and
the bundle and verifies them in the resident's browser.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.routing import Mount

from api.settings import Settings
from ledger.store.service import LedgerService

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "site": "玻璃口袋",
        "switch": "English",
        "title": "核对小区资金报表",
        "lead": "在您自己的浏览器里核对：报表由财务签名、日志收录、见证人联署，且数字自洽。"
        "服务器不替您下结论。",
        "noscript": "需要开启 JavaScript 才能核对。",
        "checks": "核对了哪些方面",
        "funds": "各项资金（元）",
        "what": "核对对象",
        "form": "核对其他报表",
        "policy_label": "信任策略（公告上印的文字，或其网址）",
        "bundle_label": "报表证明包网址",
        "check": "核对",
        "receipt": "核对我的缴费收据",
        "receipt_help": "把收据文件（.tlog-proof）拖到下面，或点选文件；可同时选上密钥链文件，"
        "以便核对签名人。使用上面填写的信任策略。",
        "drop": "把收据拖到这里",
        "choose": "或选择文件",
        "footer": "玻璃口袋 · 浏览器验证器：所有核对都在本机完成，使用 WebCrypto Ed25519 与 SHA-256。",
    },
    "en": {
        "site": "Glass Pocket",
        "switch": "中文",
        "title": "Verify a community's statement",
        "lead": "Checked in your own browser: the statement is signed by the treasurer, included "
        "in the log, cosigned by the witnesses, and its figures add up. The server does not "
        "decide for you.",
        "noscript": "JavaScript is needed to verify.",
        "checks": "What was checked",
        "funds": "Funds (yuan)",
        "what": "What was verified",
        "form": "Verify another statement",
        "policy_label": "Trust policy (the text printed on the notice, or its URL)",
        "bundle_label": "Statement bundle URL",
        "check": "Verify",
        "receipt": "Check my payment receipt",
        "receipt_help": "Drop your receipt file (.tlog-proof) below or choose it; add the key "
        "chain file too to check the signer. The trust policy above is used.",
        "drop": "Drop your receipt here",
        "choose": "or choose files",
        "footer": "Glass Pocket · browser verifier: every check runs on this device, with "
        "WebCrypto Ed25519 and SHA-256.",
    },
}

_ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"])
)


def _switch_url(request: Request, lang: str) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    if lang == "zh":
        query.append(("lang", "en"))
    return "/verify" + (f"?{urlencode(query)}" if query else "")


def render_verify(request: Request, lang: str) -> str:
    return _ENV.get_template("verify.html").render(
        lang=lang,
        html_lang="zh-CN" if lang == "zh" else "en",
        t=TEXTS[lang],
        switch_url=_switch_url(request, lang),
    )


def _static_mounted(app: FastAPI) -> bool:
    return any(isinstance(r, Mount) and r.path == "/static" for r in app.routes)


def register(app: FastAPI, ledger: LedgerService, settings: Settings) -> None:
    """Add ``/verify`` and, if no other module did, the ``/static`` mount."""
    del ledger, settings  # the page verifies in the browser; the server holds no verdict

    @app.get("/verify", response_class=HTMLResponse, summary="Browser verifier 浏览器验证器")
    def verify_page(request: Request, lang: str = "zh") -> HTMLResponse:
        """The verify page: ``?policy=URL-or-text&bundle=URL`` runs the checks in the browser."""
        chosen = "en" if lang == "en" else "zh"
        return HTMLResponse(render_verify(request, chosen), headers={"Cache-Control": "no-cache"})

    if not _static_mounted(app):
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
