"""The residents' pages: server-rendered HTML (Jinja2), no JavaScript, zh-CN first.

``register(app, ledger, settings)`` adds the pages and mounts ``api/static`` at
``/static`` (the site's CSS, and the browser verifier's files under ``static/verify``):

- ``/``: the communities; ``/c/{c}/``: the dashboard; ``/c/{c}/funds/{fund}``;
  ``/c/{c}/proposals`` and ``/c/{c}/proposals/{id}``; ``/c/{c}/statements`` and
  ``/c/{c}/statements/{period}``; ``/c/{c}/units/{unit}`` (and ``/c/{c}/units/?unit=``,
  the look-up form); ``/c/{c}/objections``.

The language is ``?lang=zh|en``, else the ``gp_lang`` cookie, else Chinese; a ``?lang=``
is remembered in the cookie and kept in every link. An unknown community, fund, unit,
proposal or period is a 404 page in the reader's language. Pages are left out of the
OpenAPI document (they are HTML for people, not an API).

Several paths are shared with the JSON reads of ``api.http_reads`` (``/``, proposals,
statements, units, objections): there the page answers only a request that accepts
``text/html`` (a browser), and anything else falls through to the JSON route
(``PageRoute``), so one URL serves both a resident and a program.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.routing import Match
from starlette.types import Scope

from api import i18n
from api import pages_views as views
from api.pages_data import Site, Snapshot
from api.settings import Settings
from ledger.core.errors import MalformedError, NotFoundError
from ledger.core.money import shanghai_date
from ledger.store.service import LedgerService

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
LANG_COOKIE = "gp_lang"
CACHE = "public, max-age=5"

View = Callable[[str], dict[str, Any]]


def language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in i18n.LANGS:
        return str(asked)
    kept = request.cookies.get(LANG_COOKIE)
    return kept if kept in i18n.LANGS else i18n.DEFAULT_LANG


def day(at: str | None) -> str:
    """An entry's ``at`` as its calendar date in Asia/Shanghai."""
    if not at:
        return "—"
    try:
        return shanghai_date(datetime.fromisoformat(at))
    except ValueError:
        return at[:10]


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = i18n.money
    env.filters["day"] = day
    env.filters["area"] = i18n.area_m2
    env.filters["cap"] = lambda words: str(words)[:1].upper() + str(words)[1:]
    env.filters["svg"] = Markup  # our own SVG from api.charts: already escaped there
    return env


class Pages:
    """Renders templates for one request's language; every page goes through ``show``."""

    def __init__(self, ledger: LedgerService) -> None:
        self.site = Site(ledger)
        self.env = environment()

    def context(self, request: Request, lang: str) -> dict[str, Any]:
        other = "en" if lang == "zh" else "zh"
        query = {k: v for k, v in request.query_params.items() if k != "lang"}

        def url(path: str) -> str:
            joiner = "&" if "?" in path else "?"
            return f"{path}{joiner}lang={lang}"

        return {
            "lang": lang,
            "colon": "：" if lang == "zh" else ": ",
            "sep": "、" if lang == "zh" else ", ",
            "html_lang": i18n.HTML_LANG[lang],
            "t": lambda key, **kw: i18n.text(lang, key, **kw),
            "label": lambda name: i18n.label(lang, name),
            "fund_note": lambda fund: i18n.fund_note(lang, fund),
            "period_name": lambda period: i18n.period_name(lang, period),
            "url": url,
            "base": str(request.base_url).rstrip("/"),
            "quote": lambda part: quote(str(part), safe=""),
            "switch_url": f"{request.url.path}?{urlencode({**query, 'lang': other})}",
        }

    def render(
        self, request: Request, lang: str, template: str, data: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        html = self.env.get_template(template).render(**self.context(request, lang), **data)
        response = HTMLResponse(html, status_code=status, headers={"Cache-Control": CACHE})
        if request.query_params.get("lang") in i18n.LANGS:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
        return response

    def show(self, request: Request, template: str, view: View) -> HTMLResponse:
        lang = language(request)
        try:
            data = view(lang)
        except (NotFoundError, MalformedError):
            return self.render(request, lang, "error.html", {"community": None}, status=404)
        return self.render(request, lang, template, data)

    def snapshot(self, community: str) -> Snapshot:
        return self.site.snapshot(community)


class PageRoute(APIRoute):
    """A page whose path the JSON API shares: it matches only requests that accept HTML.

    Browsers ask for ``text/html`` and get the page; API clients (``Accept: */*`` or
    ``application/json``) fall through to the JSON route registered for the same path.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE and not wants_html(scope):
            return Match.NONE, {}
        return match, child


def wants_html(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return b"text/html" in value
    return False


def register(app: FastAPI, ledger: LedgerService, settings: Settings) -> None:
    """Add the pages (ahead of the JSON routes that share their paths) and ``/static``."""
    pages = Pages(ledger)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    shared = APIRouter(include_in_schema=False, route_class=PageRoute)
    own = APIRouter(include_in_schema=False)
    _community_routes(shared, own, pages)
    _detail_routes(shared, own, pages)
    before = list(app.router.routes)
    app.include_router(shared)
    app.include_router(own)
    added = [r for r in app.router.routes if r not in before]
    app.router.routes[:] = added + before  # first match wins: pages before the JSON reads


def _community_routes(shared: APIRouter, own: APIRouter, pages: Pages) -> None:
    @shared.get("/", response_class=HTMLResponse)
    def communities(request: Request) -> Response:
        return pages.show(
            request,
            "communities.html",
            lambda lang: {"community": None, "communities": pages.site.communities()},
        )

    @own.get("/c/{community}/", response_class=HTMLResponse)
    def dashboard(request: Request, community: str) -> Response:
        def view(lang: str) -> dict[str, Any]:
            snap = pages.snapshot(community)
            return dict(snap.memo(f"dashboard/{lang}", lambda: views.dashboard(snap, lang)))

        return pages.show(request, "dashboard.html", view)

    @own.get("/c/{community}/funds/{fund}", response_class=HTMLResponse)
    def fund(request: Request, community: str, fund: str) -> Response:
        def view(lang: str) -> dict[str, Any]:
            snap = pages.snapshot(community)
            return dict(snap.memo(f"fund/{fund}/{lang}", lambda: views.fund_page(snap, lang, fund)))

        return pages.show(request, "fund.html", view)

    @shared.get("/c/{community}/proposals", response_class=HTMLResponse)
    def proposals(request: Request, community: str) -> Response:
        return pages.show(
            request,
            "proposals.html",
            lambda lang: views.proposals_page(pages.snapshot(community), lang),
        )

    @shared.get("/c/{community}/objections", response_class=HTMLResponse)
    def objections(request: Request, community: str) -> Response:
        return pages.show(
            request,
            "objections.html",
            lambda lang: views.objections_page(pages.snapshot(community)),
        )


def _detail_routes(shared: APIRouter, own: APIRouter, pages: Pages) -> None:
    @shared.get("/c/{community}/proposals/{proposal_id}", response_class=HTMLResponse)
    def proposal(request: Request, community: str, proposal_id: str) -> Response:
        return pages.show(
            request,
            "proposal.html",
            lambda lang: views.proposal_page(pages.snapshot(community), lang, proposal_id),
        )

    @shared.get("/c/{community}/statements", response_class=HTMLResponse)
    def statements(request: Request, community: str) -> Response:
        return pages.show(
            request,
            "statements.html",
            lambda lang: views.statements_page(pages.snapshot(community)),
        )

    @shared.get("/c/{community}/statements/{period}", response_class=HTMLResponse)
    def statement(request: Request, community: str, period: str) -> Response:
        return pages.show(
            request,
            "statement.html",
            lambda lang: views.statement_page(pages.snapshot(community), period),
        )

    @own.get("/c/{community}/units/", response_class=HTMLResponse)
    def find_unit(request: Request, community: str, unit: str = "") -> Response:
        code = unit.strip()
        if not code:
            return RedirectResponse(f"/c/{quote(community)}/?lang={language(request)}", 303)
        path = f"/c/{quote(community)}/units/{quote(code, safe='')}"
        return RedirectResponse(f"{path}?lang={language(request)}", 303)

    @shared.get("/c/{community}/units/{unit}", response_class=HTMLResponse)
    def unit_account(request: Request, community: str, unit: str) -> Response:
        return pages.show(
            request,
            "unit.html",
            lambda lang: views.unit_page(pages.snapshot(community), unit),
        )
