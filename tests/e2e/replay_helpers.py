"""The lawful ground the replay tests break rules on: the honest demo, then valid entries.

Issues 3 and 4 say what the demo's real keys cannot sign their way past. To show that a
refusal is the one claimed (an overdraft is ``insufficient_funds``, not a missing
authorisation), everything else the entry needs must exist lawfully first. ``build_base``
appends, signed with the demo's real keys and submitted through the write path:

- money: a donation for a restricted purpose, a grant, a fee schedule and a trustee
  contract if the demo lacks them, a revenue and its reversal, and the trustee paid up to
  the contract's formula;
- governance: committee proposals approved by two members other than their author (the
  chair), owners' votes on maintenance_use proposals (one passed by every owner in scope,
  one refused by them), all submitted on the first free day, and the votes held on the
  first day their publicity period allows, as the folded state says (``spend_day``);
  plus two proposals submitted that day, still inside their publicity period.

Units, balances, charter numbers and ids come from the folded state, never fixed numbers:
the demo grows.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import forgery
from forgery import DemoExport

from ledger.core.entry import sign_entry
from ledger.core.keys import SigningKey
from ledger.core.state import CommunityState
from ledger.store.service import LedgerService

Run = Callable[..., subprocess.CompletedProcess[str]]
SHANGHAI = timezone(timedelta(hours=8))
STEP = timedelta(seconds=10)
CHAIR = "committee-chair"  # the author of every proposal made here
APPROVERS = ("committee-wang", "committee-li")  # neither the author nor the spender
CLERK = "committee-li"  # transcribes the paper ballots
PURPOSE = "playground equipment"
BASIS_POINTS = 800  # the trustee contract set when the demo has none: 8% of fees


def read_state(db_url: str) -> CommunityState:
    service = LedgerService(db_url)
    try:
        return service.state("demo")
    finally:
        service.close()


def log_head(db_url: str) -> tuple[int, tuple[int, str] | None]:
    """The log's size and its latest signed checkpoint."""
    service = LedgerService(db_url)
    try:
        return service.size("demo"), service.latest_checkpoint("demo")
    finally:
        service.close()


def entry_id(data: bytes) -> str:
    return str(json.loads(data)["id"])


def first_free_day(entries: list[bytes]) -> date:
    """The day after every entry of the demo (2025-12-20 at the earliest)."""
    last = max(datetime.fromisoformat(json.loads(e)["at"]) for e in entries)
    return max(date(2025, 12, 20), last.date() + timedelta(days=1))


class Signer:
    """Signs new entries with the demo's real keys, ten seconds apart, never going back."""

    def __init__(self, keys: Path, day: date, hour: int = 10) -> None:
        self.keys = keys
        self.cursor = datetime.combine(day, time(hour), SHANGHAI)

    def move_to(self, day: date, hour: int) -> None:
        self.cursor = max(self.cursor, datetime.combine(day, time(hour), SHANGHAI))

    def key(self, handle: str) -> SigningKey:
        return SigningKey.load(self.keys / f"{handle}.key")

    def at(self) -> str:
        self.cursor += STEP
        return self.cursor.isoformat()

    def entry(self, entry_type: str, body: dict[str, Any], handle: str = "treasurer") -> bytes:
        signed = sign_entry(
            self.key(handle), community="demo", type=entry_type, body=body, at=self.at()
        )
        return signed.entry_bytes()

    def unchecked(self, entry_type: str, body: dict[str, Any]) -> bytes:
        return forgery.sign_unchecked(
            self.key("treasurer"), community="demo", type=entry_type, body=body, at=self.at()
        )


# --- governance entries, signed with the real committee keys --------------------------------------


def committee_proposal(signer: Signer, fund: str, budget_fen: int, title: str) -> list[bytes]:
    """A spending proposal by the chair and the approvals of the two other members."""
    body = {
        "title": title,
        "matter": "spending",
        "needs": "committee",
        "fund": fund,
        "budget_fen": budget_fen,
        "description": title,
    }
    proposal = signer.entry("proposal.submitted", body, CHAIR)
    approve = {"subject_id": entry_id(proposal)}
    return [proposal, *(signer.entry("approval.signed", approve, m) for m in APPROVERS)]


def maintenance_proposal(
    signer: Signer, scope: dict[str, list[str]], budget_fen: int, title: str
) -> bytes:
    """A proposal to use the maintenance fund for ``scope`` (units or buildings), for a vote."""
    body = {
        "title": title,
        "matter": "maintenance_use",
        "needs": "owners",
        "fund": "maintenance",
        "budget_fen": budget_fen,
        **scope,
        "description": title,
    }
    return signer.entry("proposal.submitted", body, CHAIR)


def scope_units(state: CommunityState, body: dict[str, Any]) -> list[str]:
    if "units" in body:
        return sorted(body["units"])
    return sorted(code for code, unit in state.units.items() if unit.building in body["buildings"])


def owners_vote(signer: Signer, state: CommunityState, proposal: bytes, choice: str) -> list[bytes]:
    """Every owner in the proposal's scope votes ``choice`` on paper; then the chair closes."""
    proposal_id = entry_id(proposal)
    units = scope_units(state, json.loads(proposal)["body"])
    ballots = [
        signer.entry(
            "ballot.recorded",
            {
                "proposal_id": proposal_id,
                "owner": owner,
                "choice": choice,
                "scan_sha256": hashlib.sha256(f"{proposal_id}/{owner}".encode()).hexdigest(),
            },
            CLERK,
        )
        for owner in sorted({state.units[code].owner for code in units})
    ]
    return [*ballots, signer.entry("vote.closed", {"proposal_id": proposal_id}, CHAIR)]


# --- the base ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    honest: list[bytes]
    honest_state: CommunityState  # the demo's, folded by the write side
    setup: list[bytes]  # valid entries, signed with the real keys (see the module docstring)
    db_url: str  # a copy of the demo database holding honest + setup
    state: CommunityState  # folded after setup
    day: date  # the first day after every entry of the demo: proposals are submitted then
    spend_day: date  # the first day after the publicity of the proposals made in setup
    month: str  # the month the trustee's remuneration is for
    revenue_id: str  # a money entry reversed once in setup
    proposals: dict[str, str]  # what each proposal of the setup is for -> its id

    @property
    def entries(self) -> list[bytes]:
        return [*self.honest, *self.setup]


def _money_setup(state: CommunityState, signer: Signer, month: str) -> list[bytes]:
    """Valid money entries the violations need, each added only when the demo lacks it."""
    setup: list[bytes] = []
    if state.books.purposes.get(PURPOSE, 0) <= 0:
        body = {"kind": "donation", "amount_fen": 50_000, "purpose": PURPOSE}
        setup.append(signer.entry("donation.received", body))
    if state.books.unrestricted_community() <= 0:  # so the fund holds more than the purpose
        setup.append(signer.entry("donation.received", {"kind": "grant", "amount_fen": 100_000}))
    if state.fee_rate(month) is None:
        body = {"rate_fen_per_m2": 250, "from_month": month}
        setup.append(signer.entry("fee.schedule_set", body, CHAIR))
    if state.contract_for(month) is None:
        body = {"trustee": "Trust Property Co.", "from_month": month, "basis_points": BASIS_POINTS}
        setup.append(signer.entry("trustee.contract_set", body, CHAIR))
    revenue = signer.entry("revenue.received", {"source": "parking", "amount_fen": 88_800})
    reversal = {"entry_id": entry_id(revenue), "reason": "recorded against the wrong month"}
    return [*setup, revenue, signer.entry("entry.reversed", reversal)]


def _proposals(state: CommunityState, signer: Signer) -> dict[str, list[bytes]]:
    """Proposals to spend (with their approvals, for the committee's) and to draw (for a vote)."""
    assert state.committee_quorum() <= len(APPROVERS), "two approvals no longer make a quorum"
    generous = {f: 2 * state.balance(f) + 1_000_000 for f in ("property", "community")}
    buildings = sorted({unit.building for unit in state.units.values()})
    everything = {"buildings": buildings}
    draw_budget = 2 * state.balance("maintenance") + 1_000_000
    return {
        "spend_property": committee_proposal(
            signer, "property", generous["property"], "Spend the property fund"
        ),
        "spend_community": committee_proposal(
            signer, "community", generous["community"], "Playground equipment"
        ),
        "draw_everything": [
            maintenance_proposal(signer, everything, draw_budget, "Replace every lift")
        ],
        "refused_draw": [
            maintenance_proposal(signer, {"units": [min(state.units)]}, 100_000, "New windows")
        ],
    }


def _on_spend_day(
    state: CommunityState, signer: Signer, made: dict[str, list[bytes]]
) -> list[bytes]:
    """The votes (every owner in scope: yes to one draw, no to the other), then two
    proposals whose publicity has only begun."""
    buildings = sorted({unit.building for unit in state.units.values()})
    votes = [
        *owners_vote(signer, state, made["draw_everything"][0], "yes"),
        *owners_vote(signer, state, made["refused_draw"][0], "no"),
    ]
    made["inside_draw"] = [
        maintenance_proposal(signer, {"buildings": buildings[:1]}, 100_000, "Repaint stairs")
    ]
    made["inside_spend"] = committee_proposal(signer, "community", 100_000, "Benches")
    return [*votes, *made["inside_draw"], *made["inside_spend"]]


def first_spending_day(state: CommunityState, proposal_ids: list[str]) -> date:
    """The first day every one of the proposals is past its publicity, as the rules count it."""
    return max(date.fromisoformat(state.gov.proposals[p].publicity_ends) for p in proposal_ids)


def remuneration_cap_left(state: CommunityState, month: str) -> int:
    """What the contract still allows for ``month``: its formula less what was paid."""
    contract = state.contract_for(month)
    assert contract is not None
    if "basis_points" in contract:
        cap = state.books.fee_income.get(month, 0) * contract["basis_points"] // 10_000
    else:
        cap = contract["fixed_monthly_fen"]
    return int(cap) - state.books.remuneration.get(month, 0)


def build_base(demo: DemoExport, folder: Path) -> Base:
    """The honest demo copied to ``folder`` and the lawful setup submitted to the copy."""
    honest = forgery.read_entries(demo.export)
    state = read_state(demo.db_url)
    assert state.size == len(honest)
    month = max(state.books.fee_income)  # the latest month with property fees received
    day = first_free_day(honest)
    signer = Signer(demo.keys, day)
    setup = _money_setup(state, signer, month)
    made = _proposals(state, signer)
    setup += [data for entries in made.values() for data in entries]

    shutil.copy(demo.db_url.removeprefix("sqlite:///"), folder / "demo.db")
    db_url = f"sqlite:///{folder / 'demo.db'}"
    service = LedgerService(db_url, log_keys=[demo.log_key])
    try:
        service.submit_batch("demo", setup)
        ids = [entry_id(entries[0]) for entries in made.values()]
        spend_day = first_spending_day(service.state("demo"), ids)
        assert spend_day < datetime.now(UTC).date(), f"no past day is left to spend ({spend_day})"
        signer.move_to(spend_day, 9)
        later = _on_spend_day(state, signer, made)
        service.submit_batch("demo", later)
        setup += later
        cap_left = remuneration_cap_left(service.state("demo"), month)
        if cap_left > 0:  # pay the trustee up to the formula: one more fen is then too much
            paid = signer.entry("trustee.remunerated", {"month": month, "amount_fen": cap_left})
            service.submit("demo", paid)
            setup.append(paid)
        after = service.state("demo")
    finally:
        service.close()
    assert remuneration_cap_left(after, month) == 0
    (revenue,) = [e for e in setup if json.loads(e)["type"] == "revenue.received"]
    proposals = {name: entry_id(entries[0]) for name, entries in made.items()}
    return Base(
        honest, state, setup, db_url, after, day, spend_day, month, entry_id(revenue), proposals
    )


# --- violations: submitted, and forced into the log ------------------------------------------------


@dataclass(frozen=True)
class Violation:
    data: bytes  # as submitted, and as forced into the log
    code: str  # the stable code, from submit and from the verifier alike
    words: tuple[str, ...]  # in the English reason

    @property
    def parses(self) -> bool:
        return self.code != "malformed"


def submit(run: Run, demo: DemoExport, db_url: str, data: bytes, folder: Path) -> Any:
    path = folder / "entry.json"
    path.write_bytes(data)
    return run("glasspocket", "submit", path, "--db", db_url, "--keys", demo.keys)


def verify(
    run: Run, export: Path, policy: Path, lang: str = "en", as_json: bool = False
) -> subprocess.CompletedProcess[str]:
    flags = ("--json",) if as_json else ()
    return run("glasspocket-verify", *flags, "log", export, "--policy", policy, lang=lang)


def assert_submit_refused(
    proc: subprocess.CompletedProcess[str], violation: Violation, db_url: str, head: Any
) -> None:
    """Exit 1, ``error [code]`` and the reason printed, and neither log nor checkpoint moved."""
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert f"error [{violation.code}] " in output, output
    for word in violation.words:
        assert word in output, output
    assert "recorded" not in output
    assert log_head(db_url) == head, "a refused entry must append nothing and sign nothing"


def replay_words(violation: Violation) -> tuple[str, ...]:
    """What the verifier's line names: the reason, and the entry's id when it parses."""
    return (*violation.words, entry_id(violation.data)) if violation.parses else violation.words


def assert_replay_refused(
    proc: subprocess.CompletedProcess[str], index: int, violation: Violation
) -> str:
    """Exit 1 and one VIOLATION line for entry #index naming the entry and the reason."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    words = replay_words(violation)
    lines = [
        line
        for line in forgery.violation_lines(proc)
        if line.startswith(f"VIOLATION: #{index}: ") and all(w in line for w in words)
    ]
    assert len(lines) == 1, f"no violation line for #{index} with {words}:\n{proc.stdout}"
    assert len(forgery.violation_lines(proc)) == 1, proc.stdout
    assert "Verification FAILED: 1 violation(s)." in proc.stdout
    return lines[0]


def assert_all_reported_in_json(
    proc: subprocess.CompletedProcess[str], first: int, violations: list[Violation]
) -> dict[str, Any]:
    """``--json``: exactly these violations, entry #first onwards, by index and code, each
    with its reason in English (naming the entry) and in Chinese."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    assert report["ok"] is False
    found = {(v["where"], v["code"]) for v in report["violations"]}
    assert found == {(f"#{first + k}", v.code) for k, v in enumerate(violations)}
    for k, violation in enumerate(violations):
        (finding,) = [f for f in report["violations"] if f["where"] == f"#{first + k}"]
        assert all(word in finding["en"] for word in replay_words(violation)), finding
        assert finding["zh"] and finding["zh"] != finding["en"], finding
    return report
