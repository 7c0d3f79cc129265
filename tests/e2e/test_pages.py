"""The residents' pages on the demo, as a browser asks for them (issue 6 item 4).

A copy of the demo's database is served with ``create_app``; every request says
``Accept: text/html`` as browsers do. Each page must answer 200 in Chinese (the default)
and in English with the headings and figures a resident looks for, computed here from the
ledger itself; unknown things are a 404 page in the reader's language; the language
switch is kept in links and in a cookie; and no amount ever shows a float artefact.
"""

from __future__ import annotations

import html
import re
import shutil
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from forgery import DemoExport

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.i18n import money
from api.settings import Settings
from ledger.core.money_bodies import FUNDS
from ledger.core.state import CommunityState
from ledger.store.publish import published_checkpoint
from ledger.store.service import LedgerService
from projections.proposals import all_proposals

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
UNIT = "1-1-102"
PERIODS = ("2025Q1", "2025Q2", "2025Q3", "2025Q4")
FUND_NAMES = {
    "property": "物业费信托账户",
    "maintenance": "专项维修资金",
    "public_revenue": "公共收益",
    "community": "社区基金",
}
Response = Any


@dataclass
class Site:
    client: TestClient
    ledger: LedgerService

    @property
    def state(self) -> CommunityState:
        return self.ledger.state("demo")

    def page(self, path: str, lang: str | None = None, status: int = 200) -> str:
        params = {"lang": lang} if lang else None
        self.client.cookies.clear()  # each page is asked for afresh: the language is ``lang``
        response = self.client.get(path, params=params, headers=HTML)
        assert response.status_code == status, (path, lang, response.text[:500])
        assert response.headers["content-type"].startswith("text/html")
        text = str(response.text)
        assert f'<html lang="{"en" if lang == "en" else "zh-CN"}">' in text
        return text


@pytest.fixture(scope="module")
def site(demo: DemoExport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("pages")
    shutil.copy(Path(demo.db_url.removeprefix("sqlite:///")), folder / "demo.db")
    settings = Settings(f"sqlite:///{folder / 'demo.db'}", demo.keys, "localhost:8000")
    app = create_app(settings)
    with TestClient(app) as client:
        yield Site(client, app.state.ledger)
    app.state.ledger.close()


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def visible(page: str) -> str:
    """The words a reader sees: no inline SVG or style (chart coordinates are floats by
    nature), no tags, no entry ids."""
    page = re.sub(r"<svg\b.*?</svg>", "", page, flags=re.DOTALL)
    page = re.sub(r"<style\b.*?</style>", "", page, flags=re.DOTALL)
    page = re.sub(r"<[^>]+>", " ", page)
    return UUID.sub("", html.unescape(page))


def assert_no_float_artefacts(page: str) -> None:
    text = visible(page)
    assert not re.search(r"\d\.\d{3,}", text), re.findall(r".{20}\d\.\d{3,}.{10}", text)
    assert not re.search(r"\d[eE]-\d", text)
    for amount in re.findall(r"¥[-\d,.]*", text):
        assert re.fullmatch(r"¥\d{1,3}(,\d{3})*\.\d\d", amount), amount


ALL_PAGES = (
    "/",
    "/c/demo/",
    *(f"/c/demo/funds/{fund}" for fund in FUNDS),
    "/c/demo/proposals",
    "/c/demo/statements",
    *(f"/c/demo/statements/{p}" for p in PERIODS),
    f"/c/demo/units/{UNIT}",
    "/c/demo/objections",
)


@pytest.mark.parametrize("lang", [None, "zh", "en"])
def test_every_page_renders_in_both_languages_without_float_artefacts(
    site: Site, lang: str | None
) -> None:
    proposals = [f"/c/demo/proposals/{p['id']}" for p in all_proposals(site.state)]
    for path in (*ALL_PAGES, *proposals):
        started = time.perf_counter()
        page = site.page(path, lang)
        print(f"{path} lang={lang}: {time.perf_counter() - started:.3f}s")  # measured, not asserted
        assert_no_float_artefacts(page)
        assert '<link rel="stylesheet" href="/static/site.css">' in page


def test_dashboard_shows_the_funds_trust_and_proposals_in_chinese(site: Site) -> None:
    page = site.page("/c/demo/")
    state = site.state
    for heading in ("四个资金账户的余额", "这些数字可信吗", "每季度的收入与支出", "方案进度"):
        assert heading in page
    for fund, name in FUND_NAMES.items():
        assert name in page
        assert money(state.balance(fund)) in page  # the fold's balance, to the fen
        assert f'href="/c/demo/funds/{fund}?lang=zh"' in page
    assert "2025年第4季度" in page  # the latest statement
    assert "业委会已批准 2/2" in page and "2 位见证人已共同签署日志" in page
    assert "本站预检：报表数据包核验通过" in page
    verify = "/verify?bundle=/c/demo/statements/2025Q4/bundle&amp;policy=/c/demo/log/policy"
    assert f'href="{verify}&amp;lang=zh"' in page
    published = published_checkpoint(site.ledger, "demo").verified
    assert f"大小 {published.size}" in page and published.root.hex()[:16] in page
    assert "1 条异议待答复" in page and "电梯更换后噪音仍大" in page
    for proposal in all_proposals(state):
        assert html.escape(proposal["title"]) in page
    assert "表决未通过" in page and "应急维修（事后公示）" in page
    assert page.count('role="img"') >= 4 + 2  # four balance lines, two flow charts
    assert "物业费收缴率" in page and "%" in page


def test_dashboard_in_english(site: Site) -> None:
    page = site.page("/c/demo/", "en")
    for words in ("Can you trust these figures?", "Income by category", "Spending by category"):
        assert words in page
    assert (
        "Verify it yourself in your browser" in page
        and "entries in the log · latest statement 2025 Q4" in page
    )
    assert "Property (trust account)" in page and "Maintenance fund" in page
    assert "四个资金账户的余额" not in page and "这些数字可信吗" not in page


def test_fund_pages_show_balance_flows_and_receipts(site: Site) -> None:
    for fund, name in FUND_NAMES.items():
        page = site.page(f"/c/demo/funds/{fund}")
        assert f"<h1>{name}</h1>" in page
        assert money(site.state.balance(fund)) in page
        assert "最近的记录" in page
    page = site.page("/c/demo/funds/property")
    assert re.search(r'href="/c/demo/receipts/[0-9a-f-]{36}"', page)
    assert "保洁" in page and "安保" in page
    site.page("/c/demo/funds/nonsense", status=404)


def test_proposal_pages_show_the_vote_by_article_278(site: Site) -> None:
    proposals = {p["title"]: p for p in all_proposals(site.state)}
    failed = next(p for p in proposals.values() if p["tally"] and not p["tally"]["passed"])
    page = site.page(f"/c/demo/proposals/{failed['id']}")
    assert "《民法典》第二百七十八条" in page
    assert failed["tally"]["participation_area"] in page and "须达三分之二以上" in page
    assert "未达到" in page and "表决未通过" in page
    assert "须达四分之三以上（特别事项）" in page  # changing the use of common parts
    elevator = next(p for p in proposals.values() if p["stage"] == "accepted" and p["tally"])
    page = site.page(f"/c/demo/proposals/{elevator['id']}")
    assert money(elevator["budget_fen"]) in page and money(elevator["spent_fen"]) in page
    for stage in ("已签约", "已开工", "已完工", "已验收"):
        assert stage in page
    assert "维修资金支取" in page  # the draw that spent it, with its receipt
    committee = next(p for p in proposals.values() if p["needs"] == "committee")
    page = site.page(f"/c/demo/proposals/{committee['id']}", "en")
    assert f"{committee['approvals']['count']} of {committee['approvals']['quorum']}" in page


def test_statement_pages_link_the_bundle_and_the_verifier(site: Site) -> None:
    listing = site.page("/c/demo/statements")
    for period in PERIODS:
        assert f'href="/c/demo/statements/{period}?lang=zh"' in listing
    page = site.page("/c/demo/statements/2025Q4")
    assert "<h1>2025年第4季度</h1>" in page
    assert 'href="/c/demo/statements/2025Q4/bundle"' in page
    assert "/verify?bundle=/c/demo/statements/2025Q4/bundle&amp;policy=/c/demo/log/policy" in page
    record = site.state.statements.published["2025Q4"]
    entry = site.ledger.entries("demo", record.index, record.index + 1)[0]
    assert b'"closing_fen":149962294' in entry  # the signed figure the page must show
    assert money(149962294) in page
    for heading in ("各基金收支", "物业费信托账户", "公共收益", "银行对账", "本期涉及的方案"):
        assert heading in page
    site.page("/c/demo/statements/2031Q1", status=404)
    site.page("/c/demo/statements/not-a-period", status=404)


def test_unit_page_lists_payments_with_receipt_links_that_resolve(site: Site) -> None:
    page = site.page(f"/c/demo/units/{UNIT}")
    assert f"房号 {UNIT}" in page and "物业费（按月）" in page and "维修资金分户账明细" in page
    links = re.findall(r'href="(/c/demo/receipts/[0-9a-f-]{36})"', page)
    assert len(links) >= 12  # a year of fees, deposits, draws
    response = site.client.get(links[0])
    assert response.status_code == 200, response.text[:300]
    page = site.page(f"/c/demo/units/{UNIT}", "en")
    assert f"Unit {UNIT}" in page and "Maintenance sub-account" in page


def test_unit_lookup_form_redirects_to_the_unit(site: Site) -> None:
    response = site.client.get(
        "/c/demo/units/", params={"unit": f" {UNIT} ", "lang": "en"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/c/demo/units/{UNIT}?lang=en"


def test_objections_page(site: Site) -> None:
    page = site.page("/c/demo/objections")
    assert "待答复" in page and "已解释" in page and "5 月增加夜班巡逻一人" in page


@pytest.mark.parametrize(
    "path",
    ["/c/nowhere/", "/c/demo/units/9-9-999", "/c/demo/proposals/not-a-proposal", "/c/x/objections"],
)
def test_unknown_things_are_a_friendly_404_page(site: Site, path: str) -> None:
    assert "找不到这个页面" in site.page(path, status=404)
    assert "Page not found" in site.page(path, "en", status=404)


def test_language_switch_is_kept_in_links_and_a_cookie(site: Site) -> None:
    client = site.client
    page = client.get("/c/demo/", params={"lang": "en"}, headers=HTML)
    assert page.cookies.get("gp_lang") == "en"
    assert 'href="/c/demo/proposals?lang=en"' in page.text
    assert 'href="/c/demo/?lang=zh"' in page.text  # the switch back
    again = client.get("/c/demo/statements", headers=HTML)  # no ?lang=: the cookie decides
    assert '<html lang="en">' in again.text
    back = client.get("/c/demo/statements", params={"lang": "zh"}, headers=HTML)
    assert '<html lang="zh-CN">' in back.text and back.cookies.get("gp_lang") == "zh"
    client.cookies.clear()


def test_api_clients_still_get_json_on_shared_paths(site: Site) -> None:
    for path in ("/c/demo/statements", "/c/demo/proposals", f"/c/demo/units/{UNIT}"):
        response = site.client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json"), path


def test_stylesheet_is_served_with_a_print_layout(site: Site) -> None:
    response = site.client.get("/static/site.css")
    assert response.status_code == 200 and "@media print" in response.text


def test_a_community_just_founded_has_pages_too(run: Any, tmp_path: Path) -> None:
    """No money, no statement, no proposal yet: every page still says so, in words."""
    db, keys = f"sqlite:///{tmp_path / 'tiny.db'}", tmp_path / "keys"
    assert (
        run("glasspocket", "key", "new", "tiny/chair", "--out", tmp_path / "chair.key").returncode
        == 0
    )
    founded = run("glasspocket", "init", "-c", "tiny", "--name", "小小区", "--key",
                  tmp_path / "chair.key", "--db", db, "--keys", keys)  # fmt: skip
    assert founded.returncode == 0, founded.stderr
    app = create_app(Settings(db, keys, "localhost:8000"))
    with TestClient(app) as client:
        site = Site(client, app.state.ledger)
        page = site.page("/c/tiny/")
        assert "小小区" in page and "尚无季度报表" in page and "暂无记录" in page
        for path in ("/c/tiny/funds/property", "/c/tiny/proposals", "/c/tiny/statements",
                     "/c/tiny/objections", "/"):  # fmt: skip
            assert_no_float_artefacts(site.page(path, "en"))
        site.page("/c/tiny/units/1-1-101", status=404)
    app.state.ledger.close()
