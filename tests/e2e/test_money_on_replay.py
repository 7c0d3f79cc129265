"""Money rules end to end (issue 3): the demo's real keys cannot sign their way past them.

Every violation below is signed with the demo's real actor key (the treasurer's, or the
committee's where the role requires it), on top of the lawful setup of ``replay_helpers``:
an overdraft cites a committee proposal approved by two members other than its author,
whose publicity period is over and whose budget covers it, so that what refuses it is the
fund, not a missing authorisation (which is a violation of its own, also shown).
``glasspocket submit`` refuses each with its stable code and appends nothing. Forced into
the log by the operator (appended to the honest entries, the export rebuilt and signed with
the real log key), ``glasspocket-verify log`` fails and names the entry and the reason.
Notices (a bank difference, a unit due a maintenance top-up, an open objection) are printed
and never fail a verification.

Units, balances and ids come from the demo's folded state, never from fixed numbers:
the demo grows.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import forgery
import pytest
from conftest import Run
from forgery import DemoExport
from replay_helpers import (
    PURPOSE,
    Base,
    Signer,
    Violation,
    assert_all_reported_in_json,
    assert_replay_refused,
    assert_submit_refused,
    entry_id,
    log_head,
    maintenance_proposal,
    owners_vote,
    submit,
    verify,
)

from ledger.core.money import yuan

UNKNOWN_UNIT = "9-9-909"


# --- the violations, each signed with a real key ----------------------------------------------


def _overspending(base: Base, signer: Signer) -> dict[str, Violation]:
    """One fen beyond a fund or a restricted purpose: under a lawful proposal (the fund
    refuses it) and without one (the missing authorisation refuses it first)."""
    state, proposals = base.state, base.proposals
    charter = state.gov.charter
    property_fen, maintenance_fen = state.balance("property"), state.balance("maintenance")
    purpose_fen = state.books.purposes[PURPOSE]
    buildings = sorted({unit.building for unit in state.units.values()})
    expense = {"category": "repairs", "payee": "Roof Repairs Co.", "description": "roof"}
    overdraft = {**expense, "fund": "property", "amount_fen": property_fen + 1}
    assert charter.routine_limit_fen < property_fen + 1 <= charter.committee_limit_fen
    draw = {
        "amount_fen": maintenance_fen + 1,
        "buildings": buildings,
        "payee": "Lift Co.",
        "description": "replace every lift",
    }
    purpose = {**expense, "fund": "community", "purpose": PURPOSE, "amount_fen": purpose_fen + 1}
    for name, body in (
        ("spend_property", overdraft),
        ("draw_everything", draw),
        ("spend_community", purpose),
    ):
        budget = state.gov.proposals[proposals[name]].budget_fen
        assert budget is not None and body["amount_fen"] <= budget, name

    def unauthorised(entry_type: str, body: dict[str, Any]) -> Violation:
        words = (f"{entry_type} of {yuan(body['amount_fen'])} yuan needs an authorised proposal",)
        return Violation(signer.entry(entry_type, body), "not_authorised", words)

    return {
        "overdraw_property": Violation(
            signer.entry("expense.paid", {**overdraft, "proposal_id": proposals["spend_property"]}),
            "insufficient_funds",
            ("fund property", f"holds {yuan(property_fen)} yuan", "to -0.01"),
        ),
        "overdraw_property_unauthorised": unauthorised("expense.paid", overdraft),
        "draw_beyond_maintenance_fund": Violation(
            signer.entry(
                "maintenance.drawn", {**draw, "proposal_id": proposals["draw_everything"]}
            ),
            "insufficient_funds",
            ("fund maintenance", f"holds {yuan(maintenance_fen)} yuan"),
        ),
        "draw_beyond_maintenance_fund_unauthorised": unauthorised("maintenance.drawn", draw),
        "beyond_restricted_purpose": Violation(
            signer.entry("expense.paid", {**purpose, "proposal_id": proposals["spend_community"]}),
            "insufficient_funds",
            ("restricted purpose", PURPOSE, "below zero"),
        ),
        "beyond_restricted_purpose_unauthorised": unauthorised("expense.paid", purpose),
    }


def _violations(base: Base, demo: DemoExport) -> dict[str, Violation]:
    state, signer = base.state, Signer(demo.keys, base.spend_day, hour=15)
    unit_entry = base.honest[forgery.first_index(base.honest, "unit.registered")]
    fee = {"fund": "property", "unit": sorted(state.units)[0], "month": base.month}
    return {
        **_overspending(base, signer),
        "remuneration_above_contract": Violation(
            signer.entry("trustee.remunerated", {"month": base.month, "amount_fen": 1}),
            "rule_violation",
            (f"remuneration for {base.month}", "above the contract"),
        ),
        "reversed_twice": Violation(
            signer.entry("entry.reversed", {"entry_id": base.revenue_id, "reason": "again"}),
            "rule_violation",
            (base.revenue_id, "already been reversed"),
        ),
        "reverses_a_non_money_entry": Violation(
            signer.entry(
                "entry.reversed", {"entry_id": entry_id(unit_entry), "reason": "wrong area"}
            ),
            "rule_violation",
            (entry_id(unit_entry), "not a money entry"),
        ),
        "contribution_for_unknown_unit": Violation(
            signer.entry("contribution.received", {**fee, "unit": UNKNOWN_UNIT, "amount_fen": 100}),
            "unknown_unit",
            (f"unit {UNKNOWN_UNIT} is not registered",),
        ),
        "float_amount": Violation(
            signer.unchecked("contribution.received", {**fee, "amount_fen": 250.0}),
            "malformed",
            ("floating-point number 250.0",),
        ),
        "string_amount": Violation(
            signer.unchecked("contribution.received", {**fee, "amount_fen": "25000"}),
            "malformed",
            ("amount_fen", "must be an integer"),
        ),
    }


@pytest.fixture(scope="module")
def violations(base: Base, demo: DemoExport) -> dict[str, Violation]:
    assert UNKNOWN_UNIT not in base.state.units
    return _violations(base, demo)


@pytest.fixture
def publish(tmp_path: Path, demo: DemoExport) -> Callable[[list[bytes]], Path]:
    """Write a forged export of a list of entries, signed with the real log key."""

    def write(entries: list[bytes]) -> Path:
        return forgery.write_export(
            entries, tmp_path / "forged", demo.log_key, demo.export, demo.witnesses
        )

    return write


# --- refused on write ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "draw_beyond_maintenance_fund",
        "draw_beyond_maintenance_fund_unauthorised",
        "beyond_restricted_purpose",
        "beyond_restricted_purpose_unauthorised",
        "remuneration_above_contract",
        "reversed_twice",
        "reverses_a_non_money_entry",
        "contribution_for_unknown_unit",
        "float_amount",
        "string_amount",
    ],
)
def test_submit_refuses_each_money_violation(
    run: Run,
    demo: DemoExport,
    base: Base,
    violations: dict[str, Violation],
    tmp_path: Path,
    name: str,
) -> None:
    """Given an entry signed with a real actor key that breaks a money rule, when submitted,
    then it is refused with its stable code and the log and its checkpoint stay as they were."""
    head = log_head(base.db_url)
    proc = submit(run, demo, base.db_url, violations[name].data, tmp_path)
    assert_submit_refused(proc, violations[name], base.db_url, head)


# --- forced into the log: reported on replay -----------------------------------------------------


@pytest.mark.parametrize("name", ["overdraw_property", "overdraw_property_unauthorised"])
def test_overdraft_signed_by_the_treasurer_is_refused_and_fails_verification_if_forced(
    run: Run,
    demo: DemoExport,
    base: Base,
    violations: dict[str, Violation],
    tmp_path: Path,
    publish: Callable[[list[bytes]], Path],
    name: str,
) -> None:
    """Given an expense overdrawing the property fund, signed with the real treasurer key,
    under a committee proposal that authorises it (or under none), when submitted, then it is
    refused (``insufficient_funds``; ``not_authorised``) and the log is as it was; when the
    operator forces it into the log anyway, then ``glasspocket-verify log`` fails naming it."""
    overdraft = violations[name]
    assert json.loads(overdraft.data)["signer"] == "demo/treasurer"
    head = log_head(base.db_url)

    proc = submit(run, demo, base.db_url, overdraft.data, tmp_path)
    assert_submit_refused(proc, overdraft, base.db_url, head)

    forced = publish([*base.entries, overdraft.data])
    assert_replay_refused(verify(run, forced, demo.policy), len(base.entries), overdraft)


@pytest.mark.parametrize("name", ["remuneration_above_contract", "string_amount"])
def test_forced_violation_named_on_replay(
    run: Run,
    demo: DemoExport,
    base: Base,
    violations: dict[str, Violation],
    publish: Callable[[list[bytes]], Path],
    name: str,
) -> None:
    """Given one violation forced into the log after the valid setup, then the verifier names
    its index and its reason (a malformed entry: by index, as it cannot be parsed)."""
    forced = publish([*base.entries, violations[name].data])
    assert_replay_refused(verify(run, forced, demo.policy), len(base.entries), violations[name])


def test_every_money_violation_reported_at_once_with_stable_codes(
    run: Run,
    demo: DemoExport,
    base: Base,
    violations: dict[str, Violation],
    publish: Callable[[list[bytes]], Path],
) -> None:
    """Given every violation forced into one log after the valid setup entries, then ``--json``
    lists each violation by index and code, in both languages, and nothing else: the setup
    (donations, contract, remuneration up to the formula, a reversal, proposals approved and
    voted) is lawful, and the refused entries change no balance."""
    forced = publish([*base.entries, *(v.data for v in violations.values())])

    proc = verify(run, forced, demo.policy, as_json=True)

    report = assert_all_reported_in_json(proc, len(base.entries), list(violations.values()))
    assert report["facts"]["funds_fen"]["property"] == base.state.balance("property")
    assert report["facts"]["funds_fen"]["maintenance"] == base.state.balance("maintenance")


# --- notices: shown, never a failure -------------------------------------------------------------


@dataclass(frozen=True)
class Noticed:
    export: Path
    due: str  # a unit left just below 30% of its first deposit
    owes: str  # a unit drawn below zero
    at_ratio: str  # a unit left exactly at 30%: no notice
    as_of: str  # the date of the bank statements
    bank_fen: int
    books_fen: int
    objection: str  # the demo's objection still waiting for an answer


def ceil_30_percent(fen: int) -> int:
    return -(-fen * 30 // 100)


def _draws(base: Base) -> dict[str, int]:
    """Three healthy units, drawn to just below 30% of the first deposit, below zero, and
    exactly to 30%."""
    books = base.honest_state.books
    healthy = [
        unit
        for unit in sorted(books.first_deposits)
        if books.first_deposits[unit] > 0
        and books.subaccounts.get(unit, 0) > ceil_30_percent(books.first_deposits[unit])
    ]
    due, owes, at_ratio = healthy[:3]
    balance = {unit: books.subaccounts[unit] for unit in (due, owes, at_ratio)}
    return {
        due: balance[due] - (ceil_30_percent(books.first_deposits[due]) - 1),
        owes: balance[owes] + 500,
        at_ratio: balance[at_ratio] - ceil_30_percent(books.first_deposits[at_ratio]),
    }


@pytest.fixture(scope="module")
def noticed(demo: DemoExport, base: Base, tmp_path_factory: pytest.TempPathFactory) -> Noticed:
    """A forged but valid log, all really signed: the owners of three units vote to repair
    them from the maintenance fund, three draws follow (each borne by one of the units, by
    agreed weights), then bank statements: the property fund's differs from the books, the
    maintenance fund's agrees (and so clears the demo's own maintenance difference)."""
    state = base.honest_state
    draws = _draws(base)
    units = sorted(draws)
    signer = Signer(demo.keys, base.day)
    proposal = maintenance_proposal(signer, {"units": units}, sum(draws.values()), "Pipes")
    signer.move_to(base.spend_day, 9)  # the publicity of a proposal of base.day is over
    entries = [proposal, *owners_vote(signer, state, proposal, "yes")]
    for unit, fen in draws.items():
        body = {
            "amount_fen": fen,
            "units": units,
            "weights": [{"unit": code, "weight": int(code == unit)} for code in units],
            "payee": "Pipe Co.",
            "description": f"pipes of {unit}",
            "proposal_id": entry_id(proposal),
        }
        entries.append(signer.entry("maintenance.drawn", body))
    maintenance = state.balance("maintenance") - sum(draws.values())
    books_fen = state.balance("property")
    bank_fen = books_fen + 12_345
    as_of = base.spend_day.isoformat()
    for fund, fen in (("property", bank_fen), ("maintenance", maintenance)):
        body = {"fund": fund, "balance_fen": fen, "as_of": as_of}
        entries.append(signer.entry("bank.balance_asserted", body))
    export = forgery.write_export(
        [*base.honest, *entries],
        tmp_path_factory.mktemp("noticed"),
        demo.log_key,
        demo.export,
        demo.witnesses,
    )
    (objection, _), *_ = state.gov.open_objections()  # the demo leaves one open
    due, owes, at_ratio = draws
    return Noticed(export, due, owes, at_ratio, as_of, bank_fen, books_fen, objection)


def notice_lines(proc: subprocess.CompletedProcess[str], label: str, names: str) -> list[str]:
    """The notice lines (``label: ...``) that name ``names`` (a fund or a unit code) as a word."""
    word = re.compile(rf"(?<![\w-]){re.escape(names)}(?![\w-])")
    return [
        line
        for line in proc.stdout.splitlines()
        if line.startswith(f"{label}: ") and word.search(line)
    ]


def test_notices_do_not_fail_verification(run: Run, demo: DemoExport, noticed: Noticed) -> None:
    """Given a bank statement differing from the books, units drawn below 30% of their first
    deposit and an objection still open, when a resident verifies, then each is a notice and
    the verification passes; a later statement that agrees clears a fund's difference."""
    proc = verify(run, noticed.export, demo.policy)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Verified: no violation found." in proc.stdout
    assert not forgery.violation_lines(proc)
    (bank,) = notice_lines(proc, "notice", "property")
    assert f"the bank statement of {noticed.as_of}" in bank
    assert f"says {yuan(noticed.bank_fen)} yuan, the books {yuan(noticed.books_fen)} yuan" in bank
    assert "(difference +123.45 yuan)" in bank
    (due,) = notice_lines(proc, "notice", noticed.due)
    assert "below 30% of its first deposit" in due and "top-up due" in due
    (owes,) = notice_lines(proc, "notice", noticed.owes)
    assert "maintenance sub-account -5.00 yuan" in owes and "owes the fund 5.00 yuan" in owes
    assert not notice_lines(proc, "notice", noticed.at_ratio)
    assert not [line for line in notice_lines(proc, "notice", "maintenance") if "bank" in line]
    (objection,) = notice_lines(proc, "notice", noticed.objection)
    assert "still open" in objection


def test_notices_in_chinese(run: Run, demo: DemoExport, noticed: Noticed) -> None:
    proc = verify(run, noticed.export, demo.policy, lang="zh_CN.UTF-8")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "验证通过" in proc.stdout
    assert not forgery.violation_lines(proc, "违规") and "notice" not in proc.stdout
    (bank,) = notice_lines(proc, "提示", "物业费信托账户")
    assert f"{noticed.as_of} 银行对账单余额" in bank and "差额 +123.45 元" in bank
    (due,) = notice_lines(proc, "提示", noticed.due)
    assert "低于首期缴存" in due and "30%" in due and "须续筹" in due
    (owes,) = notice_lines(proc, "提示", noticed.owes)
    assert "欠缴 5.00 元" in owes
    assert not notice_lines(proc, "提示", noticed.at_ratio)
    assert not [line for line in notice_lines(proc, "提示", "专项维修资金") if "银行" in line]
    (objection,) = notice_lines(proc, "提示", noticed.objection)
    assert "尚待答复" in objection


def test_notices_in_json(run: Run, demo: DemoExport, noticed: Noticed) -> None:
    proc = verify(run, noticed.export, demo.policy, as_json=True)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    assert report["violations"] == []
    found = {(n["code"], n["where"]) for n in report["notices"]}
    assert {
        ("bank_difference", "property"),
        ("top_up_due", noticed.due),
        ("top_up_due", noticed.owes),
        ("objection_open", noticed.objection),
    } <= found
    assert ("top_up_due", noticed.at_ratio) not in found
    assert ("bank_difference", "maintenance") not in found
    assert all(n["severity"] == "notice" and n["en"] and n["zh"] for n in report["notices"])
