"""The treasurer's money commands as a treasurer types them: ``record …``, ``import``,
``accounts`` and ``unit``, in subprocesses on SQLite in a temporary folder.

Each subprocess costs most of a second of imports, so each test drives one story and
checks everything at the end against the log itself: the entry bodies as recorded,
and the figures against the fold (``LedgerService(db).state(c).books``).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import Run

from ledger.core.entry import Entry, parse_logged_entry, sign_entry
from ledger.core.keys import SigningKey
from ledger.core.money_bodies import FUNDS
from ledger.core.notices import notices
from ledger.core.policy import build_policy
from ledger.core.state import CommunityState
from ledger.store.service import LedgerService

C = "acme"
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "bank-2025Q2.csv"
UNITS = (("1-1-101", "1", 890_000), ("1-1-102", "1", 1_080_000), ("2-1-501", "2", 1_210_000))
VOTED = "2025-01-10T09:00:00+08:00"  # publicity of the proposals of 2025-01-02: 3-9 January


class Estate:
    """A community founded in-process (committee, treasurer, trustee, three units with
    first deposits, and the owners' votes that authorise its money out: ``proposals``),
    then driven by the ``glasspocket`` command line."""

    def __init__(self, root: Path, run: Run) -> None:
        self.root, self.run_program = root, run
        self.db = f"sqlite:///{root / 'acme.db'}"
        self.keys = root / "keys"
        self.keys.mkdir()
        self.key_files: dict[str, Path] = {}
        chair, treasurer, trustee = (self.actor(h) for h in ("chair", "treasurer", "trustee"))
        log_key = SigningKey.generate(f"localhost/c/{C}/log")
        log_key.save(self.keys / "acme-log.key")
        service = LedgerService(self.db, [log_key])
        try:
            founding = [{"vkey": str(chair.verifier()), "role": "committee"}]
            body = {"name": "测试小区", "origin": log_key.name, "keys": founding}
            service.found(
                self.sign(chair, "community.founded", body),
                str(build_policy(log_key.verifier(), [], "none")),
            )
            setup = [
                self.sign(chair, "key.registered", {"vkey": str(k.verifier()), "role": role})
                for k, role in ((treasurer, "treasurer"), (trustee, "trustee"))
            ]
            for code, building, area in UNITS:
                unit = {"unit": code, "building": building, "area_cm2": area, "owner": f"o-{code}"}
                deposit = {"fund": "maintenance", "unit": code, "amount_fen": area // 2}
                setup.append(self.sign(treasurer, "unit.registered", unit))
                setup.append(
                    self.sign(treasurer, "contribution.received", {**deposit, "deposit": "initial"})
                )
            service.submit_batch(C, setup)
            self.proposals: dict[str, str] = {}
            for fund, units in (
                ("community", None),
                ("public_revenue", None),
                ("property", None),
                ("maintenance", ["1-1-101", "1-1-102"]),
                ("maintenance", ["2-1-501"]),
            ):
                label = ",".join(units) if units else fund
                self.proposals[label] = self.owners_vote(service, chair, fund, units)
        finally:
            service.close()

    def owners_vote(
        self, service: LedgerService, chair: SigningKey, fund: str, units: list[str] | None
    ) -> str:
        """The owners (of ``units``, else all) vote yes on spending from ``fund`` (paper
        ballots the chair transcribes); submitted 2025-01-02, closed on 2025-01-10, the day
        after the seven days of publicity (3-9 January)."""
        matter = "maintenance_use" if units else "spending"
        body = {"title": f"{fund} {units}", "matter": matter, "needs": "owners", "fund": fund}
        body |= {"budget_fen": 1_000_000, "description": "测试"} | (
            {"units": units} if units else {}
        )
        proposal = self.sign(chair, "proposal.submitted", body)
        votes = [proposal]
        for code in units or [u for u, _b, _a in UNITS]:
            scan = hashlib.sha256(f"{proposal.id} {code}".encode()).hexdigest()
            ballot = {"proposal_id": proposal.id, "owner": f"o-{code}", "choice": "yes"}
            votes.append(self.sign(chair, "ballot.recorded", ballot | {"scan_sha256": scan}, VOTED))
        votes.append(self.sign(chair, "vote.closed", {"proposal_id": proposal.id}, VOTED))
        service.submit_batch(C, votes)
        return proposal.id

    def actor(self, handle: str) -> SigningKey:
        key = SigningKey.generate(f"{C}/{handle}")
        self.key_files[handle] = self.root / f"{handle}.key"
        key.save(self.key_files[handle])
        return key

    @staticmethod
    def sign(
        key: SigningKey, entry_type: str, body: dict[str, Any], at: str = "2025-01-02T09:00:00Z"
    ) -> Entry:
        return sign_entry(key, community=C, type=entry_type, body=body, at=at)

    def gp(self, *args: str, lang: str = "en_US.UTF-8") -> subprocess.CompletedProcess[str]:
        return self.run_program(
            "glasspocket", *args, "--db", self.db, "--keys", str(self.keys), lang=lang
        )

    def record(self, kind: str, signer: str, *args: str, **kw: Any) -> dict[str, Any]:
        proc = self.gp("record", kind, "-c", C, "--key", str(self.key_files[signer]), *args,
                       "--json", **kw)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        result: dict[str, Any] = json.loads(proc.stdout)
        return result

    def json(self, *args: str) -> Any:
        proc = self.gp(*args, "--json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)


def logged(db: str, community: str) -> tuple[list[Entry], CommunityState]:
    service = LedgerService(db)
    try:
        size = service.size(community)
        entries = [parse_logged_entry(b) for b in service.entries(community, 0, size)]
        return entries, service.state(community)
    finally:
        service.close()


def assert_figures_match_fold(accounts: dict[str, Any], state: CommunityState) -> None:
    """The projections' figures, as ``accounts --json`` prints them, equal the fold's books."""
    books = state.books
    assert accounts["size"] == accounts["to"] == state.size
    assert {f: v["closing_fen"] for f, v in accounts["funds"].items()} == {
        f: books.funds.get(f, 0) for f in FUNDS
    }
    restricted = {p["purpose"]: p["balance_fen"] for p in accounts["donations"] if p["purpose"]}
    assert {p: v for p, v in restricted.items() if v} == books.purposes
    trust = accounts["trust_account"]
    paid = {m["month"]: m["paid_fen"] for m in trust["remuneration"]}  # months paid in range
    assert paid == {month: books.remuneration[month] for month in paid}
    assert accounts["from"] or paid.keys() == books.remuneration.keys()
    assert trust["closing_fen"] == books.funds.get("property", 0)
    assert accounts["notices"] == [
        {"code": n.code, "en": n.en, "zh": n.zh, "where": n.where} for n in notices(state)
    ]


def assert_unit_matches_fold(unit: dict[str, Any], state: CommunityState) -> None:
    books, code = state.books, unit["unit"]
    assert unit["maintenance_fen"] == books.subaccounts.get(code, 0)
    assert unit["first_deposit_fen"] == books.first_deposits.get(code, 0)
    assert unit["received_fen"] + unit["prepaid_fen"] == books.property_paid.get(code, 0)
    assert unit["refunded_fen"] == books.refunds.get(code, 0)
    assert unit["arrears_fen"] == unit["due_fen"] - unit["received_fen"]


@pytest.fixture
def estate(tmp_path: Path, run: Run) -> Estate:
    return Estate(tmp_path, run)


def test_every_money_command_records_its_body_and_the_figures_follow(estate: Estate) -> None:
    """Given a community with three units and their first deposits,
    when the treasurer, the committee and the trustee record one entry of every money and
    setup type with ``glasspocket record …`` (amounts in yuan or fen),
    then each entry holds exactly the body its options say (money out citing its owners' vote
    with ``--proposal``), a refused one exits 1 with its stable code and appends nothing, and
    ``accounts``/``unit`` print the fold's figures."""
    at = ("--at", "2025-01-15T10:00:00+08:00")
    vote = estate.proposals
    steps: list[tuple[dict[str, Any], str, dict[str, Any]]] = []

    def step(kind: str, signer: str, args: list[str], entry_type: str, body: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
        result = estate.record(kind, signer, *args, *at)
        steps.append((result, entry_type, body))
        return result

    step("fee-schedule", "chair", ["--from", "2025-01", "--rate", "2.5"], "fee.schedule_set",
         {"rate_fen_per_m2": 250, "from_month": "2025-01"})  # fmt: skip
    step("contract", "chair", ["--trustee", "某物业公司", "--from", "2025-01", "--basis-points", "1000"],
         "trustee.contract_set", {"trustee": "某物业公司", "from_month": "2025-01", "basis_points": 1000})  # fmt: skip
    step("owner", "treasurer", ["--unit", "2-1-501", "--owner", "o-new", "--reference", "过户-7"],
         "unit.owner_changed", {"unit": "2-1-501", "owner": "o-new", "reference": "过户-7"})  # fmt: skip
    step("contribution", "treasurer", ["--unit", "1-1-101", "--fund", "property", "--month", "2025-01",
         "--amount", "222.50"], "contribution.received",
         {"fund": "property", "unit": "1-1-101", "amount_fen": 22250, "month": "2025-01"})  # fmt: skip
    step("interest", "treasurer", ["--amount", "12.34", "--period", "2025Q1"], "interest.credited",
         {"fund": "maintenance", "amount_fen": 1234, "period": "2025Q1"})  # fmt: skip
    step("revenue", "trustee", ["--source", "parking", "--amount", "1800.00",
         "--description", "1月车位租金"], "revenue.received",
         {"source": "parking", "amount_fen": 180000, "description": "1月车位租金"})  # fmt: skip
    step("donation", "chair", ["--amount", "500", "--purpose", "读书角", "--donor", "李**", "--donor-consent"],
         "donation.received", {"kind": "donation", "amount_fen": 50000, "purpose": "读书角",
                               "donor": "李**", "donor_consent": True})  # fmt: skip
    expense = step("expense", "treasurer", ["--fund", "community", "--category", "events", "--amount", "200.05",
         "--payee", "某书店", "--description", "购书", "--purpose", "读书角", "--proposal", vote["community"]],
         "expense.paid", {"fund": "community", "category": "events", "amount_fen": 20005, "payee": "某书店",
          "description": "购书", "purpose": "读书角", "proposal_id": vote["community"]})  # fmt: skip
    step("draw", "treasurer", ["--units", "1-1-101,1-1-102", "--weight", "1-1-101=1", "--weight", "1-1-102=3",
         "--amount", "400", "--payee", "某电梯公司", "--description", "电梯维修",
         "--proposal", vote["1-1-101,1-1-102"]], "maintenance.drawn",
         {"amount_fen": 40000, "payee": "某电梯公司", "description": "电梯维修", "units": ["1-1-101", "1-1-102"],
          "weights": [{"unit": "1-1-101", "weight": 1}, {"unit": "1-1-102", "weight": 3}],
          "proposal_id": vote["1-1-101,1-1-102"]})  # fmt: skip
    step("draw", "treasurer", ["--buildings", "2", "--amount-fen", "1001", "--payee", "某公司",
         "--description", "2号楼门禁", "--proposal", vote["2-1-501"]], "maintenance.drawn",
         {"amount_fen": 1001, "payee": "某公司", "description": "2号楼门禁", "buildings": ["2"],
          "proposal_id": vote["2-1-501"]})  # fmt: skip
    step("transfer", "treasurer", ["--from", "public_revenue", "--to", "maintenance", "--amount", "1000",
         "--description", "公共收益转入维修资金", "--proposal", vote["public_revenue"]], "transfer.made",
         {"from_fund": "public_revenue", "to_fund": "maintenance", "amount_fen": 100000,
          "description": "公共收益转入维修资金", "proposal_id": vote["public_revenue"]})  # fmt: skip
    step("remuneration", "trustee", ["--month", "2025-01", "--amount-fen", "2000"], "trustee.remunerated",
         {"month": "2025-01", "amount_fen": 2000})  # fmt: skip
    step("refund", "treasurer", ["--year", "2025", "--amount", "10", "--description", "年度结余退还",
         "--proposal", vote["property"]], "surplus.refunded",
         {"amount_fen": 1000, "year": 2025, "description": "年度结余退还", "proposal_id": vote["property"]})  # fmt: skip
    step("reverse", "treasurer", ["--entry", expense["id"], "--reason", "重复录入"], "entry.reversed",
         {"entry_id": expense["id"], "reason": "重复录入"})  # fmt: skip
    step("bank", "treasurer", ["--fund", "maintenance", "--balance", "100.00", "--as-of", "2025-06-30"],
         "bank.balance_asserted", {"fund": "maintenance", "balance_fen": 10000, "as_of": "2025-06-30"})  # fmt: skip

    size = steps[-1][0]["index"] + 1
    # Above the contract's 10% of January's fees (2,225 fen), 2,000 already paid: refused.
    trustee, treasurer = (str(estate.key_files[h]) for h in ("trustee", "treasurer"))
    with ThreadPoolExecutor(4) as pool:  # three refusals and a reader: none appends
        refused = pool.submit(estate.gp, "record", "remuneration", "-c", C, "--key", trustee,
                              "--month", "2025-01", "--amount", "3.00", lang="zh_CN.UTF-8")  # fmt: skip
        both = pool.submit(estate.gp, "record", "interest", "-c", C, "--key", treasurer,
                           "--amount", "1", "--amount-fen", "100")  # fmt: skip
        unvoted = pool.submit(estate.gp, "record", "draw", "-c", C, "--key", treasurer, "--units",
                              "1-1-101", "--amount", "1", "--payee", "某公司", "--description", "无表决")  # fmt: skip
        unit = pool.submit(estate.json, "unit", "1-1-102", "-c", C, "--until", "2025-03")
    assert refused.result().returncode == 1 and "[rule_violation]" in refused.result().stderr
    assert "物业酬金" in refused.result().stderr and refused.result().stdout == ""
    assert both.result().returncode == 1 and "[malformed]" in both.result().stderr
    assert unvoted.result().returncode == 1 and "[not_authorised]" in unvoted.result().stderr
    accounts = estate.json("accounts", "-c", C)
    entries, state = logged(estate.db, C)
    assert len(entries) == size  # the refusals appended nothing
    for result, entry_type, body in steps:
        entry = entries[result["index"]]
        assert (entry.id, entry.type, entry.body) == (result["id"], entry_type, body)
        assert result["created"] and result["checkpointed"]
    assert entries[steps[11][0]["index"]].signer == "acme/trustee"
    assert_figures_match_fold(accounts, state)
    assert_unit_matches_fold(unit.result(), state)
    assert [n["code"] for n in accounts["notices"]] == ["bank_difference"]
    assert state.books.purposes == {"读书角": 50000}  # the expense was reversed
    assert [m["due_fen"] for m in unit.result()["months"]] == [27000, 27000, 27000]  # 2.50 × 108 m²
    draws = [
        line["amount_fen"]
        for line in unit.result()["maintenance"]
        if line["kind"] == "maintenance_draw"
    ]
    assert draws == [-30000]  # 3/4 of 400.00 by the agreed weights


def test_import_a_bank_statement_into_the_demo(tmp_path: Path, run: Run) -> None:
    """Given the demo community and the shipped example statement (nine rows),
    when the treasurer dry-runs it, imports a copy with one bad row, a file that is no
    statement, then the statement itself, twice,
    then the dry run and the bad copy record nothing (the bad copy exits 1 naming its row),
    the unreadable file exits 2, the import records the nine rows, the second finds them
    already recorded, and ``accounts``/``unit`` print the fold's figures."""
    db, keys = f"sqlite:///{tmp_path / 'demo.db'}", tmp_path / "keys"
    store = ("--db", db, "--keys", str(keys))
    built = run("glasspocket", "demo", "--no-serve", *store)
    assert built.returncode == 0, built.stderr
    size = logged(db, "demo")[1].size
    treasurer = ("-c", "demo", "--key", str(keys / "treasurer.key"), *store)
    bad = tmp_path / "bad.csv"
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace("2000.00", "2000.005")  # row 6 as Excel numbers it
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "statement.pdf").write_bytes(b"%PDF-1.4")

    def gp(*args: str | Path, lang: str = "en_US.UTF-8") -> subprocess.CompletedProcess[str]:
        return run("glasspocket", *args, lang=lang)

    with ThreadPoolExecutor(3) as pool:  # none of these writes: they may run at once
        dry = pool.submit(gp, "import", EXAMPLE, *treasurer, "--dry-run", "--json")
        refused = pool.submit(gp, "import", bad, *treasurer, lang="zh_CN.UTF-8")
        unreadable = pool.submit(gp, "import", tmp_path / "statement.pdf", *treasurer)
    plan = json.loads(dry.result().stdout)
    assert dry.result().returncode == 0 and plan["ok"] and plan["dry_run"]
    assert [row["row"] for row in plan["to_record"]] == list(range(2, 11))
    assert refused.result().returncode == 1
    assert "第 6 行" in refused.result().stdout and "too_many_decimals" in refused.result().stdout
    assert unreadable.result().returncode == 2 and "[import_file]" in unreadable.result().stderr
    assert logged(db, "demo")[1].size == size

    first = gp("import", EXAMPLE, *treasurer, lang="zh_CN.UTF-8")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "共 9 行：已记录 9 条，此前已记录 0 条" in first.stdout
    with ThreadPoolExecutor(2) as pool:  # the second import writes nothing
        again = pool.submit(gp, "import", EXAMPLE, *treasurer)
        accounts = pool.submit(gp, "accounts", "-c", "demo", "--from", str(size), *store, "--json")
    assert again.result().returncode == 0
    assert "9 rows: recorded 0, already recorded 9" in again.result().stdout
    unit = gp("unit", "2-1-503", "-c", "demo", "--until", "2025-06", *store, "--json")
    entries, state = logged(db, "demo")
    assert [e.type for e in entries[size:]] == [row["type"] for row in plan["to_record"]]
    figures = json.loads(accounts.result().stdout)
    assert_figures_match_fold(figures, state)
    flows = {(f["direction"]): 0 for f in figures["flows"]}
    for flow in figures["flows"]:
        flows[flow["direction"]] += flow["amount_fen"]
    assert flows == {"in": 1_415_135, "out": 350_000}  # the statement's 合计 row
    assert_unit_matches_fold(json.loads(unit.stdout), state)
