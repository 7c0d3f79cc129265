"""Money rules end to end (issue 3): the demo's real keys cannot sign their way past them.

Every violation below is signed with the demo's real actor key (the treasurer's, or the
committee's where the role requires it). ``glasspocket submit`` refuses it with its
stable code and appends nothing. Forced into the log by the operator (appended to the
honest entries, the export rebuilt and signed with the real log key),
``glasspocket-verify log`` fails and names the entry and the reason. Notices (a bank
difference, a unit due a maintenance top-up) are printed and never fail a verification.

Units, balances and ids come from the demo's folded state, never from fixed numbers:
the demo grows.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import forgery
import pytest
from conftest import Run
from forgery import DemoExport

from ledger.core.entry import sign_entry
from ledger.core.keys import SigningKey
from ledger.core.money import yuan
from ledger.core.state import CommunityState
from ledger.store.service import LedgerService

PURPOSE = "playground equipment"
UNKNOWN_UNIT = "9-9-909"
BASIS_POINTS = 800  # the trustee contract this file sets when the demo has none: 8% of fees


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


def first_free_day(entries: list[bytes]) -> date:
    """A day after every entry of the demo (2025-12-20 at the earliest), and in the past."""
    last = max(datetime.fromisoformat(json.loads(e)["at"]) for e in entries)
    day = max(date(2025, 12, 20), last.date() + timedelta(days=1))
    assert day < datetime.now(UTC).date(), f"the demo reaches {last}: no past day is left"
    return day


class Signer:
    """Signs new entries with the demo's real keys, each a minute after the last."""

    def __init__(self, keys: Path, day: date, hour: int = 10) -> None:
        self.keys, self.day, self.hour, self.minute = keys, day, hour, 0

    def key(self, handle: str) -> SigningKey:
        return SigningKey.load(self.keys / f"{handle}.key")

    def at(self) -> str:
        self.minute += 1
        return f"{self.day.isoformat()}T{self.hour:02d}:{self.minute:02d}:00+08:00"

    def entry(self, entry_type: str, body: dict[str, Any], handle: str = "treasurer") -> bytes:
        signed = sign_entry(
            self.key(handle), community="demo", type=entry_type, body=body, at=self.at()
        )
        return signed.entry_bytes()

    def unchecked(self, entry_type: str, body: dict[str, Any]) -> bytes:
        return forgery.sign_unchecked(
            self.key("treasurer"), community="demo", type=entry_type, body=body, at=self.at()
        )


def entry_id(data: bytes) -> str:
    return str(json.loads(data)["id"])


# --- the base: the honest demo, then valid setup entries signed with the real keys -----------


@dataclass(frozen=True)
class Base:
    honest: list[bytes]
    honest_state: CommunityState  # the demo's, folded by the write side
    setup: list[bytes]  # valid: a donation, a trustee contract, a revenue and its reversal
    db_url: str  # a copy of the demo database holding honest + setup
    state: CommunityState  # folded after setup
    day: date
    month: str  # the month the trustee's remuneration is for
    revenue_id: str  # a money entry reversed once in setup

    @property
    def entries(self) -> list[bytes]:
        return [*self.honest, *self.setup]


def _setup_entries(state: CommunityState, signer: Signer, month: str) -> list[bytes]:
    """Valid entries the violations need, each added only when the demo lacks it."""
    setup: list[bytes] = []
    if state.books.purposes.get(PURPOSE, 0) <= 0:
        setup.append(
            signer.entry(
                "donation.received",
                {"kind": "donation", "amount_fen": 50_000, "purpose": PURPOSE},
            )
        )
    if state.books.unrestricted_community() <= 0:  # so the fund holds more than the purpose
        setup.append(signer.entry("donation.received", {"kind": "grant", "amount_fen": 100_000}))
    if state.fee_rate(month) is None:
        body = {"rate_fen_per_m2": 250, "from_month": month}
        setup.append(signer.entry("fee.schedule_set", body, "committee-chair"))
    if state.contract_for(month) is None:
        body = {"trustee": "Trust Property Co.", "from_month": month, "basis_points": BASIS_POINTS}
        setup.append(signer.entry("trustee.contract_set", body, "committee-chair"))
    revenue = signer.entry("revenue.received", {"source": "parking", "amount_fen": 88_800})
    reversal = {"entry_id": entry_id(revenue), "reason": "recorded against the wrong month"}
    return [*setup, revenue, signer.entry("entry.reversed", reversal)]


def remuneration_cap_left(state: CommunityState, month: str) -> int:
    """What the contract still allows for ``month``: its formula less what was paid."""
    contract = state.contract_for(month)
    assert contract is not None
    if "basis_points" in contract:
        cap = state.books.fee_income.get(month, 0) * contract["basis_points"] // 10_000
    else:
        cap = contract["fixed_monthly_fen"]
    return int(cap) - state.books.remuneration.get(month, 0)


@pytest.fixture(scope="module")
def base(demo: DemoExport, tmp_path_factory: pytest.TempPathFactory) -> Base:
    honest = forgery.read_entries(demo.export)
    state = read_state(demo.db_url)
    assert state.size == len(honest)
    month = max(state.books.fee_income)  # the latest month with property fees received
    signer = Signer(demo.keys, first_free_day(honest))
    setup = _setup_entries(state, signer, month)

    db_copy = tmp_path_factory.mktemp("money") / "demo.db"
    shutil.copy(demo.db_url.removeprefix("sqlite:///"), db_copy)
    db_url = f"sqlite:///{db_copy}"
    service = LedgerService(db_url, log_keys=[demo.log_key])
    try:
        for data in setup:
            service.submit("demo", data)
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
    return Base(honest, state, setup, db_url, after, signer.day, month, entry_id(revenue))


# --- the violations, each signed with a real key ----------------------------------------------


@dataclass(frozen=True)
class Violation:
    data: bytes  # as submitted, and as forced into the log
    code: str  # the stable code, from submit and from the verifier alike
    words: tuple[str, ...]  # in the English reason

    @property
    def parses(self) -> bool:
        return self.code != "malformed"


def _violations(base: Base, demo: DemoExport) -> dict[str, Violation]:
    state, signer = base.state, Signer(demo.keys, base.day, hour=11)
    property_fen, maintenance_fen = state.balance("property"), state.balance("maintenance")
    purpose_fen = state.books.purposes[PURPOSE]
    buildings = sorted({unit.building for unit in state.units.values()})
    unit_entry = base.honest[forgery.first_index(base.honest, "unit.registered")]
    expense = {"category": "repairs", "payee": "Roof Repairs Co.", "description": "roof"}
    fee = {"fund": "property", "unit": sorted(state.units)[0], "month": base.month}
    return {
        "overdraw_property": Violation(
            signer.entry(
                "expense.paid", {**expense, "fund": "property", "amount_fen": property_fen + 1}
            ),
            "insufficient_funds",
            ("fund property", f"holds {yuan(property_fen)} yuan", "to -0.01"),
        ),
        "draw_beyond_maintenance_fund": Violation(
            signer.entry(
                "maintenance.drawn",
                {
                    "amount_fen": maintenance_fen + 1,
                    "buildings": buildings,
                    "payee": "Lift Co.",
                    "description": "replace every lift",
                },
            ),
            "insufficient_funds",
            ("fund maintenance", f"holds {yuan(maintenance_fen)} yuan"),
        ),
        "beyond_restricted_purpose": Violation(
            signer.entry(
                "expense.paid",
                {**expense, "fund": "community", "purpose": PURPOSE, "amount_fen": purpose_fen + 1},
            ),
            "insufficient_funds",
            ("restricted purpose", PURPOSE, "below zero"),
        ),
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
        return forgery.write_export(entries, tmp_path / "forged", demo.log_key, demo.export)

    return write


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


def assert_replay_refused(
    proc: subprocess.CompletedProcess[str], index: int, violation: Violation
) -> str:
    """Exit 1 and one VIOLATION line for entry #index naming the entry and the reason."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    words = (*violation.words, entry_id(violation.data)) if violation.parses else violation.words
    lines = [
        line
        for line in forgery.violation_lines(proc)
        if line.startswith(f"VIOLATION: #{index}: ") and all(w in line for w in words)
    ]
    assert len(lines) == 1, f"no violation line for #{index} with {words}:\n{proc.stdout}"
    assert len(forgery.violation_lines(proc)) == 1, proc.stdout
    assert "Verification FAILED: 1 violation(s)." in proc.stdout
    return lines[0]


# --- refused on write ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "draw_beyond_maintenance_fund",
        "beyond_restricted_purpose",
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


def test_overdraft_signed_by_the_treasurer_is_refused_and_fails_verification_if_forced(
    run: Run,
    demo: DemoExport,
    base: Base,
    violations: dict[str, Violation],
    tmp_path: Path,
    publish: Callable[[list[bytes]], Path],
) -> None:
    """Given an expense overdrawing the property fund, signed with the real treasurer key,
    when submitted, then it is refused and the log is as it was; when the operator forces it
    into the log anyway, then ``glasspocket-verify log`` fails naming that entry."""
    overdraft = violations["overdraw_property"]
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
    (donations, contract, remuneration up to the formula, a reversal) is lawful, and the
    refused entries change no balance."""
    first = len(base.entries)
    forced = publish([*base.entries, *(v.data for v in violations.values())])

    proc = verify(run, forced, demo.policy, as_json=True)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is False
    found = {(v["where"], v["code"]) for v in report["violations"]}
    expected = {(f"#{first + k}", v.code) for k, v in enumerate(violations.values())}
    assert found == expected
    for k, violation in enumerate(violations.values()):
        (finding,) = [f for f in report["violations"] if f["where"] == f"#{first + k}"]
        assert all(word in finding["en"] for word in violation.words), finding
        assert finding["zh"] and finding["zh"] != finding["en"], finding
        if violation.parses:
            assert entry_id(violation.data) in finding["en"], finding
    assert report["facts"]["funds_fen"]["property"] == base.state.balance("property")
    assert report["facts"]["funds_fen"]["maintenance"] == base.state.balance("maintenance")


# --- notices: shown, never a failure -------------------------------------------------------------


@dataclass(frozen=True)
class Noticed:
    export: Path
    due: str  # a unit left just below 30% of its first deposit
    owes: str  # a unit drawn below zero
    at_ratio: str  # a unit left exactly at 30%: no notice
    bank_fen: int
    books_fen: int


def ceil_30_percent(fen: int) -> int:
    return -(-fen * 30 // 100)


@pytest.fixture(scope="module")
def noticed(demo: DemoExport, base: Base, tmp_path_factory: pytest.TempPathFactory) -> Noticed:
    """A forged but valid log: three maintenance draws, then bank statements, all really signed."""
    state = base.honest_state
    books = state.books
    healthy = [
        unit
        for unit in sorted(books.first_deposits)
        if books.first_deposits[unit] > 0
        and books.subaccounts.get(unit, 0) > ceil_30_percent(books.first_deposits[unit])
    ]
    due, owes, at_ratio = healthy[:3]
    balance = {unit: books.subaccounts[unit] for unit in (due, owes, at_ratio)}
    draws = {
        due: balance[due] - (ceil_30_percent(books.first_deposits[due]) - 1),
        owes: balance[owes] + 500,
        at_ratio: balance[at_ratio] - ceil_30_percent(books.first_deposits[at_ratio]),
    }
    signer = Signer(demo.keys, base.day)
    entries = [
        signer.entry(
            "maintenance.drawn",
            {"amount_fen": fen, "units": [unit], "payee": "Pipe Co.", "description": "pipes"},
        )
        for unit, fen in draws.items()
    ]
    maintenance = state.balance("maintenance") - sum(draws.values())
    books_fen = state.balance("property")
    bank_fen = books_fen + 12_345
    for fund, fen in (("property", bank_fen), ("maintenance", maintenance)):
        body = {"fund": fund, "balance_fen": fen, "as_of": "2025-12-19"}
        entries.append(signer.entry("bank.balance_asserted", body))
    export = forgery.write_export(
        [*base.honest, *entries], tmp_path_factory.mktemp("noticed"), demo.log_key, demo.export
    )
    return Noticed(export, due, owes, at_ratio, bank_fen, books_fen)


def notice_lines(proc: subprocess.CompletedProcess[str], label: str, names: str) -> list[str]:
    """The notice lines (``label: ...``) that name ``names`` (a fund or a unit code) as a word."""
    word = re.compile(rf"(?<![\w-]){re.escape(names)}(?![\w-])")
    return [
        line
        for line in proc.stdout.splitlines()
        if line.startswith(f"{label}: ") and word.search(line)
    ]


def test_notices_do_not_fail_verification(run: Run, demo: DemoExport, noticed: Noticed) -> None:
    """Given a bank statement differing from the books and units drawn below 30% of their first
    deposit, when a resident verifies, then each is a notice and the verification passes."""
    proc = verify(run, noticed.export, demo.policy)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Verified: no violation found." in proc.stdout
    assert not forgery.violation_lines(proc)
    (bank,) = notice_lines(proc, "notice", "property")
    assert "the bank statement of 2025-12-19" in bank
    assert f"says {yuan(noticed.bank_fen)} yuan, the books {yuan(noticed.books_fen)} yuan" in bank
    assert "(difference +123.45 yuan)" in bank
    (due,) = notice_lines(proc, "notice", noticed.due)
    assert "below 30% of its first deposit" in due and "top-up due" in due
    (owes,) = notice_lines(proc, "notice", noticed.owes)
    assert "maintenance sub-account -5.00 yuan" in owes and "owes the fund 5.00 yuan" in owes
    assert not notice_lines(proc, "notice", noticed.at_ratio)
    assert not [line for line in notice_lines(proc, "notice", "maintenance") if "bank" in line]


def test_notices_in_chinese(run: Run, demo: DemoExport, noticed: Noticed) -> None:
    proc = verify(run, noticed.export, demo.policy, lang="zh_CN.UTF-8")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "验证通过" in proc.stdout
    assert not forgery.violation_lines(proc, "违规") and "notice" not in proc.stdout
    (bank,) = notice_lines(proc, "提示", "物业费信托账户")
    assert "2025-12-19 银行对账单余额" in bank and "差额 +123.45 元" in bank
    (due,) = notice_lines(proc, "提示", noticed.due)
    assert "低于首期缴存" in due and "30%" in due and "须续筹" in due
    (owes,) = notice_lines(proc, "提示", noticed.owes)
    assert "欠缴 5.00 元" in owes
    assert not notice_lines(proc, "提示", noticed.at_ratio)
    assert not [line for line in notice_lines(proc, "提示", "专项维修资金") if "银行" in line]


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
    } <= found
    assert ("top_up_due", noticed.at_ratio) not in found
    assert ("bank_difference", "maintenance") not in found
    assert all(n["severity"] == "notice" and n["en"] and n["zh"] for n in report["notices"])
