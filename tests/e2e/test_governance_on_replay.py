"""Authorisation end to end (issue 4): money leaves a fund only as the community decided.

The demo's year holds the decisions these tests cite: building 2's elevator vote (passed,
most of its budget spent) and the fitness-corner vote (failed). ``replay_helpers`` adds,
signed with the demo's real committee keys, a maintenance vote the owners refused and
proposals still inside their publicity period. Each draw or expense below is signed with
the demo treasurer's real key; ``glasspocket submit`` refuses it as ``not_authorised`` and
appends nothing; forced into the log, ``glasspocket-verify log`` names every one at once.

Proposals, budgets and scopes come from the folded state, never from fixed numbers.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import forgery
import pytest
from conftest import Run
from forgery import DemoExport
from replay_helpers import (
    Base,
    Signer,
    Violation,
    assert_all_reported_in_json,
    assert_submit_refused,
    log_head,
    replay_words,
    submit,
    verify,
)

from ledger.core.catalogue import TYPES
from ledger.core.governance_state import Proposal
from ledger.core.money import yuan
from ledger.core.state import CommunityState

DRAW = {"payee": "Lift Co.", "description": "repairs"}


def _passed_draw_vote(state: CommunityState) -> Proposal:
    """The demo's passed owners' vote on using the maintenance fund (building 2's elevator)."""
    passed = [
        p
        for p in state.gov.proposals.values()
        if p.matter == "maintenance_use" and p.tally is not None and p.tally.passed
    ]
    assert passed, "the demo holds no passed vote on using the maintenance fund"
    return passed[0]


def _failed_vote(state: CommunityState) -> Proposal:
    """The demo's failed owners' vote (the fitness corner)."""
    failed = [p for p in state.gov.proposals.values() if p.tally and not p.tally.passed]
    assert failed, "the demo holds no failed vote"
    return failed[0]


def _draw(signer: Signer, proposal: Proposal, amount_fen: int) -> bytes:
    """A maintenance draw citing ``proposal``, over exactly the units its vote covered."""
    body = {"amount_fen": amount_fen, "units": list(proposal.units), "proposal_id": proposal.id}
    return signer.entry("maintenance.drawn", {**body, **DRAW})


def _violations(base: Base, demo: DemoExport) -> dict[str, Violation]:
    state, signer = base.state, Signer(demo.keys, base.spend_day, hour=15)
    proposals = state.gov.proposals
    elevator = _passed_draw_vote(base.honest_state)  # the demo's own decisions, not setup's
    assert elevator.budget_fen is not None
    beyond = elevator.budget_fen - state.books.spent.get(elevator.id, 0) + 1
    missing = str(uuid.uuid4())
    failed, refused = _failed_vote(base.honest_state), proposals[base.proposals["refused_draw"]]
    inside_draw = proposals[base.proposals["inside_draw"]]
    inside_spend = proposals[base.proposals["inside_spend"]]
    assert state.balance("maintenance") > beyond  # the fund could pay: the rules refuse it
    everything = sorted(state.units)
    expense = {
        "fund": "community",
        "category": "other",
        "payee": "Bench Co.",
        "description": "benches",
        "amount_fen": 10_000,
        "proposal_id": inside_spend.id,
    }
    return {
        "draw_beyond_budget": Violation(
            _draw(signer, elevator, beyond),
            "not_authorised",
            (elevator.id, f"over its {yuan(elevator.budget_fen)} yuan"),
        ),
        "draw_citing_a_missing_proposal": Violation(
            signer.entry(
                "maintenance.drawn",
                {"amount_fen": 10_000, "units": everything, "proposal_id": missing, **DRAW},
            ),
            "not_authorised",
            (f"proposal {missing} does not exist",),
        ),
        "draw_citing_the_failed_vote": Violation(  # refused first for its fund, if not maintenance
            _draw(signer, failed, 10_000), "not_authorised", (f"proposal {failed.id}",)
        ),
        "draw_under_a_refused_draw_vote": Violation(
            _draw(signer, refused, 10_000),
            "not_authorised",
            (f"proposal {refused.id} is not authorised",),
        ),
        "draw_inside_publicity": Violation(  # no vote can close before publicity ends
            _draw(signer, inside_draw, 10_000), "not_authorised", (f"proposal {inside_draw.id}",)
        ),
        "expense_inside_publicity": Violation(
            signer.entry("expense.paid", expense),
            "not_authorised",
            (f"under proposal {inside_spend.id} may start on {inside_spend.publicity_ends}",),
        ),
    }


@pytest.fixture(scope="module")
def violations(base: Base, demo: DemoExport) -> dict[str, Violation]:
    return _violations(base, demo)


@pytest.fixture(scope="module")
def forced(
    base: Base,
    demo: DemoExport,
    violations: dict[str, Violation],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """Every violation forced into one log after the lawful setup, signed with the log key."""
    entries = [*base.entries, *(v.data for v in violations.values())]
    out = tmp_path_factory.mktemp("unauthorised")
    return forgery.write_export(entries, out, demo.log_key, demo.export, demo.witnesses)


# --- the demo itself -----------------------------------------------------------------------------


def test_demo_verifies_clean_and_contains_every_type(
    run: Run, demo: DemoExport, base: Base
) -> None:
    """Given the honest demo export, when a resident verifies it, then it passes, holds at
    least one entry of every type of the catalogue, and shows the demo's own notices (a bank
    difference on the maintenance fund, an objection still open) without failing."""
    proc = verify(run, demo.export, demo.policy, as_json=True)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True and report["violations"] == []
    by_type = report["facts"]["entries_by_type"]
    expected = set(TYPES)
    assert sorted(expected - set(by_type)) == []
    assert all(by_type[t] > 0 for t in expected)
    notices = {(n["code"], n["where"]) for n in report["notices"]}
    assert ("bank_difference", "maintenance") in notices
    for objection_id, _ in base.honest_state.gov.open_objections():
        assert ("objection_open", objection_id) in notices


# --- refused on write ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "draw_beyond_budget",
        "draw_citing_a_missing_proposal",
        "draw_citing_the_failed_vote",
        "draw_under_a_refused_draw_vote",
        "draw_inside_publicity",
        "expense_inside_publicity",
    ],
)
def test_submit_refuses_spending_without_authorisation(
    run: Run,
    demo: DemoExport,
    base: Base,
    violations: dict[str, Violation],
    tmp_path: Path,
    name: str,
) -> None:
    """Given a draw or an expense signed with the demo treasurer's real key, beyond its
    proposal's budget, citing a proposal that does not exist or did not pass, or inside its
    publicity period, when submitted, then it is refused as ``not_authorised`` and neither
    the log nor its checkpoint moves."""
    violation = violations[name]
    assert json.loads(violation.data)["signer"] == "demo/treasurer"
    head = log_head(base.db_url)
    proc = submit(run, demo, base.db_url, violation.data, tmp_path)
    assert_submit_refused(proc, violation, base.db_url, head)


# --- forced into the log: all reported at once ---------------------------------------------------


def test_every_unauthorised_spending_reported_at_once(
    run: Run, demo: DemoExport, base: Base, violations: dict[str, Violation], forced: Path
) -> None:
    """Given every unauthorised draw and expense forced into one log after the lawful setup,
    then ``--json`` lists each by index and ``not_authorised``, in both languages, and
    nothing else; the balances are those of the lawful log."""
    proc = verify(run, forced, demo.policy, as_json=True)

    report = assert_all_reported_in_json(proc, len(base.entries), list(violations.values()))
    assert report["facts"]["funds_fen"]["maintenance"] == base.state.balance("maintenance")
    assert report["facts"]["funds_fen"]["community"] == base.state.balance("community")


def violation_line(
    proc: subprocess.CompletedProcess[str], index: int, words: tuple[str, ...]
) -> list[str]:
    return [
        line
        for line in forgery.violation_lines(proc)
        if line.startswith(f"VIOLATION: #{index}: ") and all(w in line for w in words)
    ]


def test_every_unauthorised_spending_named_in_plain_text(
    run: Run, demo: DemoExport, base: Base, violations: dict[str, Violation], forced: Path
) -> None:
    """The same log, read by a person: one line per violation, naming the entry and why."""
    proc = verify(run, forced, demo.policy)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    first = len(base.entries)
    for k, violation in enumerate(violations.values()):
        words = replay_words(violation)
        assert len(violation_line(proc, first + k, words)) == 1, (words, proc.stdout)
    assert len(forgery.violation_lines(proc)) == len(violations), proc.stdout
    assert f"Verification FAILED: {len(violations)} violation(s)." in proc.stdout
