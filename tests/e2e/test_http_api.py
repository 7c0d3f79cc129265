"""The HTTP API's reads on the demo community, as a client sees them (issue 6 item 3).

The demo is built by the real command line (the session fixture ``demo``); each module
serves a copy of its database with ``create_app``. Figures are compared with what the
ledger itself signed (the published statements) and proofs with the verifier, so these
tests check meaning, not only shapes. Writes (item 2) are in ``test_http.py``.
"""

from __future__ import annotations

import itertools
import shutil
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
from api.settings import Settings
from ledger.core.policy import Policy
from verify.memory import CheckpointMemory
from verify.receipt import verify_receipt
from verify.statement import verify_statement

SHORT = "public, max-age=5"
PERIODS = ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
UNIT = "1-1-102"
Response = Any


@dataclass
class Api:
    client: TestClient
    policy: Policy

    def get(self, path: str, **kw: Any) -> Response:
        return self.client.get(path, **kw)

    def json(self, path: str) -> Any:
        response = self.get(path)
        assert response.status_code == 200, (path, response.text)
        return response.json()


@pytest.fixture(scope="module")
def api(demo: DemoExport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The demo's database (a copy) served by ``create_app``."""
    folder = tmp_path_factory.mktemp("http-api")
    source = Path(demo.db_url.removeprefix("sqlite:///"))
    shutil.copy(source, folder / "demo.db")
    settings = Settings(f"sqlite:///{folder / 'demo.db'}", demo.keys, "localhost:8000")
    app = create_app(settings)
    with TestClient(app) as client:
        yield Api(client, Policy.parse(demo.policy.read_text()))
    app.state.ledger.close()


def assert_error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert body["message_zh"] and body["message_en"]


READS = [
    "/",
    "/api/communities",
    "/c/demo/info",
    "/c/demo/funds",
    "/c/demo/funds?period=2025Q3",
    "/c/demo/flows?period=current",
    f"/c/demo/units/{UNIT}?until=2025-12",
    f"/c/demo/units/{UNIT}/receipts",
    "/c/demo/proposals",
    "/c/demo/statements",
    "/c/demo/statements/2025Q3",
    "/c/demo/statements/2025Q3/bundle",
    "/c/demo/notices",
    "/c/demo/objections",
    "/c/demo/log/keychain",
]


@pytest.mark.parametrize("path", READS)
def test_every_read_is_json_with_a_short_cache(api: Api, path: str) -> None:
    """Given the demo served over HTTP,
    when a client reads any JSON endpoint,
    then it gets 200, JSON, and a short public cache lifetime."""
    response = api.get(path)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == SHORT
    assert response.json()


def test_communities_and_info_name_the_log_and_its_checkpoint(api: Api) -> None:
    """Given the demo,
    when a client lists communities and reads the demo's info,
    then the info names its origin and policy, and its checkpoint meets that policy."""
    listed = api.json("/api/communities")["communities"]
    assert [c["community"] for c in listed] == ["demo"]
    assert listed[0]["name"] and listed[0]["info"] == "/c/demo/info"

    info = api.json("/c/demo/info")

    verified = Policy.parse(info["policy"]).check(info["checkpoint"]["text"])
    assert verified.origin == info["origin"] == "localhost:8000/c/demo/log"
    assert verified.size == info["checkpoint"]["size"] <= info["size"]
    assert info["checkpoint"]["text"] == api.get("/c/demo/log/checkpoint").text
    assert info["name"] == listed[0]["name"]


@pytest.mark.parametrize("period", PERIODS)
def test_funds_and_flows_of_a_period_equal_its_signed_statement(api: Api, period: str) -> None:
    """Given a published quarterly statement,
    when a client reads the funds and flows of that period,
    then opening and closing balances and the net movement equal the statement's figures."""
    figures = api.json(f"/c/demo/statements/{period}")["body"]["figures"]["funds"]

    funds = api.json(f"/c/demo/funds?period={period}")
    flows = api.json(f"/c/demo/flows?period={period}")

    for fund, stated in figures.items():
        assert funds["opening_fen"][fund] == stated["opening_fen"], fund
        assert funds["closing_fen"][fund] == stated["closing_fen"], fund
        lines = [line for line in flows["flows"] if line["fund"] == fund]
        net = sum(x["amount_fen"] * (1 if x["direction"] == "in" else -1) for x in lines)
        # The statement shows a reversal as its own outflow; the projections net it
        # against the reversed line's category: the fund's net movement is the same.
        assert net == stated["in_fen"] - stated["out_fen"], fund
    assert (funds["start"], funds["end"]) == (flows["start"], flows["end"])


def test_periods_follow_each_other_and_current_runs_to_the_end(api: Api) -> None:
    """Given four statements,
    when a client reads each period's funds and the current period's,
    then each period opens where the one before closed and the current one ends at the log's
    size with the whole log's balances."""
    ranges = [api.json(f"/c/demo/funds?period={p}") for p in [*PERIODS, "current"]]
    whole = api.json("/c/demo/funds")

    for before, after in itertools.pairwise(ranges):
        assert before["end"] == after["start"]
        assert before["closing_fen"] == after["opening_fen"]
    assert ranges[-1]["end"] == whole["end"] == api.json("/c/demo/info")["size"]
    assert ranges[-1]["closing_fen"] == whole["closing_fen"]
    assert whole["start"] == 0 and set(whole["opening_fen"].values()) == {0}


def test_a_units_account_and_its_receipts(api: Api, tmp_path: Path) -> None:
    """Given unit 1-1-102 of the demo,
    when a client reads its account for 2025 and its receipts,
    then dues, receipts and arrears add up, and every receipt verifies under the policy
    (the same text as the single-receipt endpoint, open to other origins)."""
    account = api.json(f"/c/demo/units/{UNIT}?until=2025-12")
    assert account["unit"] == UNIT and account["until"] == "2025-12"
    assert len(account["months"]) == 12
    assert account["due_fen"] == sum(m["due_fen"] for m in account["months"])
    assert account["arrears_fen"] == account["due_fen"] - account["received_fen"]

    receipts = api.json(account["receipts"])
    keychain = api.get("/c/demo/log/keychain").text
    memory = CheckpointMemory(tmp_path / "memory")
    assert receipts["receipts"]
    for item in receipts["receipts"]:
        report = verify_receipt(item["receipt"], api.policy, keychain, memory)
        assert report.ok, report.as_dict()
        single = api.get(item["url"])
        assert single.status_code == 200
        assert single.headers["content-type"].startswith("text/plain")
        assert single.headers["access-control-allow-origin"] == "*"
        assert single.text == item["receipt"]
    paid = {line["entry_id"] for line in account["maintenance"]}
    assert paid <= {item["entry_id"] for item in receipts["receipts"]}


def test_proposals_have_tallies_and_progress(api: Api) -> None:
    """Given the demo's proposals,
    when a client lists them and opens each,
    then each has its budget, stage and spending, the closed votes a tally, and the single
    proposal equals its line in the list."""
    proposals = api.json("/c/demo/proposals")["proposals"]

    assert len(proposals) >= 5
    assert any(p["tally"] for p in proposals) and any(p["stage"] for p in proposals)
    for p in proposals:
        assert api.json(f"/c/demo/proposals/{p['id']}")["proposal"] == p
        if p["budget_fen"] is not None:
            assert p["remaining_fen"] == p["budget_fen"] - p["spent_fen"]


def test_statements_list_and_bundles_verify(api: Api, tmp_path: Path) -> None:
    """Given four published statements,
    when a client lists them and fetches each bundle,
    then the list links each period's figures and bundle, and every bundle is JSON open to
    other origins that the verifier accepts under the policy."""
    listed = api.json("/c/demo/statements")["statements"]
    assert [s["period"] for s in listed] == PERIODS
    memory = CheckpointMemory(tmp_path / "memory")
    for item in listed:
        statement = api.json(item["figures"])
        assert statement["id"] == item["id"] and statement["body"]["period"] == item["period"]
        assert statement["approved"] == item["approved"]
        bundle = api.get(item["bundle"])
        assert bundle.headers["content-type"].startswith("application/json")
        assert bundle.headers["access-control-allow-origin"] == "*"
        report = verify_statement(bundle.text, api.policy, memory=memory)
        assert report.ok, report.as_dict()


def test_notices_and_objections(api: Api) -> None:
    """Given the demo's unbooked bank fee and its two objections (one answered),
    when a client reads notices and objections,
    then the notices hold the bank difference and the open objection, and the objections
    list shows the answered one with its answer."""
    notices = api.json("/c/demo/notices")["notices"]
    objections = api.json("/c/demo/objections")["objections"]

    assert {"bank_difference", "objection_open"} <= {n["code"] for n in notices}
    assert all(n["message_zh"] and n["message_en"] for n in notices)
    assert [o["open"] for o in objections].count(True) == 1
    answered = [o for o in objections if not o["open"]]
    assert answered and answered[0]["answer"]["outcome"] and answered[0]["answer"]["text"]
    open_ids = {n["where"] for n in notices if n["code"] == "objection_open"}
    assert open_ids == {o["id"] for o in objections if o["open"]}


@pytest.mark.parametrize(
    "path",
    [
        "/c/demo/log/checkpoint",
        "/c/demo/log/policy",
        "/c/demo/log/keychain",
        "/c/demo/log/tile/0/000",
        "/c/demo/statements/2025Q1/bundle",
    ],
)
def test_published_files_are_open_to_other_origins(api: Api, path: str) -> None:
    """Given a browser verifier served from another host,
    when it fetches the log, the policy or a bundle,
    then the answer allows any origin."""
    response = api.get(path, headers={"Origin": "https://verifier.example"})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


def test_cache_lifetimes(api: Api) -> None:
    """Tiles never change; the checkpoint changes with every append: a few seconds."""
    assert api.get("/c/demo/log/tile/0/000").headers["cache-control"].endswith("immutable")
    assert api.get("/c/demo/log/checkpoint").headers["cache-control"] == SHORT


NOT_FOUND = [
    "/c/nowhere/info",
    "/c/nowhere/funds",
    "/c/nowhere/flows?period=2025Q1",
    "/c/nowhere/units/1-1-102",
    "/c/nowhere/proposals",
    "/c/nowhere/statements",
    "/c/nowhere/statements/2025Q1",
    "/c/nowhere/statements/2025Q1/bundle",
    "/c/nowhere/notices",
    "/c/nowhere/objections",
    "/c/nowhere/receipts/0b6f7a4e-9c1d-4e2f-8a3b-4c5d6e7f8091",
    "/c/nowhere/units/1-1-102/receipts",
    "/c/demo/funds?period=2024Q4",
    "/c/demo/flows?period=2026Q1",
    "/c/demo/statements/2024Q4",
    "/c/demo/statements/2024Q4/bundle",
    "/c/demo/units/9-9-999",
    "/c/demo/units/9-9-999/receipts",
    "/c/demo/proposals/no-such-proposal",
    "/c/demo/receipts/0b6f7a4e-9c1d-4e2f-8a3b-4c5d6e7f8091",
    "/c/demo/receipts/not-a-uuid",
    "/no/such/route",
]


@pytest.mark.parametrize("path", NOT_FOUND)
def test_unknown_things_are_not_found_with_a_json_body(api: Api, path: str) -> None:
    """Given the demo,
    when a client asks for an unknown community, period, unit, proposal, entry or route,
    then the answer is 404 with the JSON error body."""
    assert_error(api.get(path), 404, "not_found")


@pytest.mark.parametrize(
    "path", ["/c/demo/funds?period=Q3-2025", "/c/demo/units/1-1-102?until=2025-13"]
)
def test_a_malformed_parameter_is_a_bad_request(api: Api, path: str) -> None:
    """FastAPI's own validation errors get the same JSON body (400, invalid_request)."""
    assert_error(api.get(path), 400, "invalid_request")


def test_a_wrong_method_is_refused_with_a_json_body(api: Api) -> None:
    assert_error(api.client.post("/c/demo/log/checkpoint"), 405, "method_not_allowed")
    assert_error(api.client.delete("/c/demo/entries"), 405, "method_not_allowed")


def test_openapi_documents_examples_and_error_bodies(api: Api) -> None:
    """Given the service,
    when a client reads /openapi.json and /docs,
    then it is OpenAPI 3.1, the entry POST has a request example and every status of
    issue 6 item 2, every JSON model has an example, and every operation documents the
    error body."""
    spec = api.json("/openapi.json")
    assert spec["openapi"].startswith("3.1")
    post = spec["paths"]["/c/{community}/entries"]["post"]
    assert post["requestBody"]["content"]["application/json"]["example"]["type"]
    assert {"200", "201", "400", "401", "403", "409", "413", "422"} <= set(post["responses"])
    schemas = spec["components"]["schemas"]
    for name in ("ErrorBody", "SubmitResult", "CommunityInfo", "Funds", "Flows", "Statement"):
        assert schemas[name].get("examples"), name
    for path, operations in spec["paths"].items():
        if path.startswith(("/c/", "/api/")):
            for method, operation in operations.items():
                assert "4XX" in operation["responses"], (method, path)
    docs = api.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_an_unexpected_failure_is_a_500_without_details(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a bug that raises inside a route,
    when a client calls it,
    then the answer is 500 with the JSON error body and nothing of the exception."""

    def broken(*_: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("api.http_reads.notices", broken)
    client = TestClient(api.client.app, raise_server_exceptions=False)

    response = client.get("/c/demo/notices")

    assert_error(response, 500, "internal")
    assert "secret" not in response.text and "Traceback" not in response.text
