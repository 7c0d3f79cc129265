"""The governance commands as a committee, owners, a treasurer and the sub-district office
type them: ``propose``, ``approve``, ``vote``, ``close-vote``, ``emergency``, ``progress``,
``review``, ``object``, ``answer`` and ``proposals``, in subprocesses on SQLite.

The community is founded with ``glasspocket key new`` and ``glasspocket init`` (three
committee keys and an authority key); owners, units, the treasurer and deposits are set up
in-process (the money commands have their own tests). One story, checked at the end against
``proposals --json`` and the log itself.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from conftest import Run

from ledger.core.entry import parse_logged_entry, sign_entry
from ledger.core.keys import SigningKey
from ledger.store.service import LedgerService

C = "gov"
BUILDING_1 = {"1-101": ("own-a", 900_000), "1-102": ("own-b", 1_100_000)}
BUILDING_2 = {"2-101": ("own-c", 1_000_000)}
SETUP_AT = "2025-02-20T09:00:00+08:00"


class Community:
    def __init__(self, root: Path, run: Run) -> None:
        self.root, self.run_program = root, run
        self.db = f"sqlite:///{root / 'gov.db'}"
        self.keys = root / "keys"
        self.files: dict[str, Path] = {}

    def gp(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return self.run_program("glasspocket", *args, "--db", self.db, "--keys", self.keys)

    def ok(self, command: str, who: str, *args: str | Path, at: str) -> dict[str, Any]:
        proc = self.gp(command, "-c", C, "--key", self.files[who], "--at", at, *args, "--json")
        assert proc.returncode == 0, f"{command} {args}: {proc.stderr}"
        result: dict[str, Any] = json.loads(proc.stdout)
        return result

    def refused(self, command: str, who: str, *args: str | Path, at: str) -> str:
        proc = self.gp(command, "-c", C, "--key", self.files[who], "--at", at, *args)
        assert proc.returncode == 1, proc.stdout
        return proc.stderr

    def found(self) -> None:
        """``key new`` for the committee and the authority, then ``init``."""
        handles = ("chair", "wang", "li", "jiedao")
        for handle in handles:
            self.files[handle] = self.root / f"{handle}.key"
        with ThreadPoolExecutor(4) as pool:
            made = list(
                pool.map(
                    lambda h: self.run_program(
                        "glasspocket", "key", "new", f"{C}/{h}", "--out", self.files[h]
                    ),
                    handles,
                )
            )
        assert all(p.returncode == 0 for p in made), [p.stderr for p in made]
        vkeys = {h: p.stdout.strip() for h, p in zip(handles, made, strict=True)}
        members = [
            "--member",
            f"committee={vkeys['wang']}",
            "--member",
            f"committee={vkeys['li']}",
            "--member",
            f"authority={vkeys['jiedao']}",
        ]
        proc = self.gp(
            "init", "-c", C, "--name", "治理小区", "--key", self.files["chair"], *members
        )
        assert proc.returncode == 0, proc.stderr

    def set_up(self) -> None:
        """The treasurer (registered by the chair, approved by Wang), owners with keys, units,
        maintenance deposits and a donation, in one batch through the service."""
        for handle in ("treasurer", "own-a", "own-b", "own-c"):
            key = SigningKey.generate(f"{C}/{handle}")
            self.files[handle] = self.root / f"{handle}.key"
            key.save(self.files[handle])
        chair, wang, treasurer = (
            SigningKey.load(self.files[h]) for h in ("chair", "wang", "treasurer")
        )

        def sign(key: SigningKey, kind: str, body: dict[str, Any]) -> Any:
            return sign_entry(key, community=C, type=kind, body=body, at=SETUP_AT)

        registration = sign(
            chair, "key.registered", {"vkey": str(treasurer.verifier()), "role": "treasurer"}
        )
        batch = [registration, sign(wang, "approval.signed", {"subject_id": registration.id})]
        for code, (owner, area) in {**BUILDING_1, **BUILDING_2}.items():
            vkey = str(SigningKey.load(self.files[owner]).verifier())
            batch.append(
                sign(chair, "key.registered", {"vkey": vkey, "role": "owner", "owner": owner})
            )
            unit = {"unit": code, "building": code[0], "area_cm2": area, "owner": owner}
            batch.append(sign(treasurer, "unit.registered", unit))
            deposit = {
                "fund": "maintenance",
                "unit": code,
                "amount_fen": 500_000,
                "deposit": "initial",
            }
            batch.append(sign(treasurer, "contribution.received", deposit))
        batch.append(sign(treasurer, "donation.received", {"kind": "grant", "amount_fen": 100_000}))
        service = LedgerService(self.db)
        try:
            service.submit_batch(C, batch)
        finally:
            service.close()


def test_a_year_of_decisions_through_the_command_line(tmp_path: Path, run: Run) -> None:
    """Given a community founded by the command line, when the committee proposes, owners
    vote (signed and on paper), the treasurer draws and spends under what was authorised, an
    emergency is confirmed, progress is reported and an objection answered, then every step
    is accepted, unauthorised spending is refused with its code, and ``proposals --json``
    shows the exact figures."""
    gov = Community(tmp_path, run)
    gov.found()
    gov.set_up()
    quote, scan = tmp_path / "quote.pdf", tmp_path / "ballot-own-b.jpg"
    quote.write_bytes(b"three quotes for the roof")
    scan.write_bytes(b"a photographed paper ballot")

    # An owners' vote on using building 1's maintenance money, then the draw.
    roof = gov.ok(
        "propose", "chair", "--title", "1号楼屋面防水 Roof of building 1", "--matter",
        "maintenance_use", "--needs", "owners", "--fund", "maintenance", "--budget", "3000",
        "--buildings", "1", "--description", "lowest of three quotes", "--document", quote,
        at="2025-03-01T09:00:00+08:00",
    )["id"]  # fmt: skip
    early = gov.refused(
        "vote", "own-a", "--proposal", roof, "--choice", "yes", at="2025-03-08T23:00:00+08:00"
    )  # the last of the seven days of publicity (2-8 March; the day of submission not counted)
    assert "[rule_violation]" in early and "2025-03-09" in early  # voting opens then
    gov.ok("vote", "own-a", "--proposal", roof, "--choice", "yes", at="2025-03-09T09:00:00+08:00")
    gov.ok(
        "vote", "wang", "--proposal", roof, "--choice", "yes", "--owner", "own-b", "--scan", scan,
        at="2025-03-09T10:00:00+08:00",
    )  # fmt: skip
    gov.ok("close-vote", "chair", "--proposal", roof, at="2025-03-10T09:00:00+08:00")
    proc = gov.gp(
        "record", "draw", "-c", C, "--key", gov.files["treasurer"], "--proposal", roof,
        "--buildings", "1", "--amount", "2000", "--payee", "防水工程公司", "--description",
        "roof", "--at", "2025-03-11T09:00:00+08:00", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    draw_id = json.loads(proc.stdout)["id"]

    # A committee-approved expense from the community fund: the author's approval never counts.
    benches = gov.ok(
        "propose", "wang", "--title", "Benches", "--matter", "spending", "--needs", "committee",
        "--fund", "community", "--budget-fen", "50000", "--description", "two benches",
        at="2025-03-01T10:00:00+08:00",
    )["id"]  # fmt: skip
    assert "role_not_allowed" in gov.refused(
        "approve", "wang", "--subject", benches, at="2025-03-02T09:00:00+08:00"
    )
    gov.ok("approve", "chair", "--subject", benches, at="2025-03-02T09:00:00+08:00")
    gov.ok("approve", "li", "--subject", benches, at="2025-03-03T09:00:00+08:00")
    proc = gov.gp(
        "record", "expense", "-c", C, "--key", gov.files["treasurer"], "--fund", "community",
        "--category", "other", "--amount", "300", "--payee", "Acme", "--description", "benches",
        "--proposal", benches, "--at", "2025-03-09T09:00:00+08:00", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr

    # A vote that fails: one owner of three takes part.
    lawn = gov.ok(
        "propose", "li", "--title", "Fitness corner on the lawn", "--matter",
        "common_use_change", "--needs", "owners", "--fund", "community", "--budget", "500",
        "--description", "changes the use of common parts", at="2025-03-01T11:00:00+08:00",
    )["id"]  # fmt: skip
    gov.ok("vote", "own-c", "--proposal", lawn, "--choice", "yes", at="2025-03-09T11:00:00+08:00")
    gov.ok("close-vote", "li", "--proposal", lawn, at="2025-03-10T11:00:00+08:00")
    proc = gov.gp(
        "record", "expense", "-c", C, "--key", gov.files["treasurer"], "--fund", "community",
        "--category", "other", "--amount", "1", "--payee", "Acme", "--description", "lawn",
        "--proposal", lawn, "--at", "2025-03-11T11:00:00+08:00",
    )  # fmt: skip
    assert proc.returncode == 1 and "not_authorised" in proc.stderr

    # An emergency: the committee applies, the sub-district office confirms, the draw is at once.
    lift = gov.ok(
        "propose", "chair", "--title", "Lift stopped in building 2", "--matter",
        "maintenance_use", "--needs", "emergency", "--fund", "maintenance", "--budget", "1500",
        "--buildings", "2", "--description", "lift stopped", at="2025-04-01T09:00:00+08:00",
    )["id"]  # fmt: skip
    declared = gov.ok(
        "emergency", "jiedao", "--proposal", lift, "--cap", "1000", "--buildings", "2",
        "--reason", "residents trapped", at="2025-04-01T10:00:00+08:00",
    )["id"]  # fmt: skip
    proc = gov.gp(
        "record", "draw", "-c", C, "--key", gov.files["treasurer"], "--emergency", declared,
        "--buildings", "2", "--amount", "800", "--payee", "Lift Co", "--description", "lift",
        "--at", "2025-04-01T15:00:00+08:00", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr

    # Progress, review, an objection and its answer.
    for stage, who in (
        ("contracted", "treasurer"),
        ("started", "treasurer"),
        ("completed", "chair"),
    ):
        gov.ok(
            "progress", who, "--proposal", roof, "--stage", stage, at="2025-04-10T09:00:00+08:00"
        )
    gov.ok(
        "review", "chair", "--proposal", roof, "--rating", "4", "--summary", "dry since",
        at="2025-05-01T09:00:00+08:00",
    )  # fmt: skip
    objection = gov.ok(
        "object", "own-c", "--target", draw_id, "--text", "why building 1 only?",
        at="2025-05-02T09:00:00+08:00",
    )["id"]  # fmt: skip
    gov.ok(
        "answer", "treasurer", "--objection", objection, "--outcome", "explained", "--text",
        "building 1's owners bear it", at="2025-05-03T09:00:00+08:00",
    )  # fmt: skip

    # Then: the figures, from the fold.
    proc = gov.gp("proposals", "-c", C, "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {row["id"]: row for row in json.loads(proc.stdout)["proposals"]}
    assert list(rows) == [roof, benches, lawn, lift]

    assert rows[roof]["budget_fen"] == 300_000
    assert (rows[roof]["spent_fen"], rows[roof]["remaining_fen"]) == (200_000, 100_000)
    assert rows[roof]["approved"] and rows[roof]["units"] == ["1-101", "1-102"]
    assert (rows[roof]["stage"], rows[roof]["reviewed"]) == ("completed", True)
    tally = rows[roof]["tally"]
    assert tally["passed"] and (tally["total_owners"], tally["total_area_cm2"]) == (2, 2_000_000)
    assert tally["participation"]["area"] == {
        "numerator": 2_000_000, "denominator": 2_000_000, "percent": "100.00%",
    }  # fmt: skip
    assert tally["approval"]["owners"] == {"numerator": 2, "denominator": 2, "percent": "100.00%"}

    assert rows[benches]["approved"] and rows[benches]["approvals"]["count"] == 2
    assert rows[benches]["approvals"]["by"] == [f"{C}/chair", f"{C}/li"]
    assert (rows[benches]["spent_fen"], rows[benches]["remaining_fen"]) == (30_000, 20_000)

    lawn_tally = rows[lawn]["tally"]
    assert not rows[lawn]["approved"] and not lawn_tally["passed"]
    assert not lawn_tally["participation_met"]
    assert lawn_tally["participation"]["owners"] == {
        "numerator": 1, "denominator": 3, "percent": "33.33%",
    }  # fmt: skip
    assert lawn_tally["participation"]["area"]["percent"] == "33.33%"
    assert rows[lawn]["spent_fen"] == 0

    assert rows[lift]["emergency"] and rows[lift]["emergency_cap_fen"] == 100_000
    assert rows[lift]["approved"] and rows[lift]["spent_fen"] == 80_000
    assert rows[lift]["tally"] is None

    # The log holds the hashes the commands computed, and no open objection.
    service = LedgerService(gov.db)
    try:
        state = service.state(C)
        logged = [parse_logged_entry(b) for b in service.entries(C, 0, state.size)]
    finally:
        service.close()
    assert state.gov.open_objections() == []
    assert state.gov.proposals[roof].ballots == {"own-a": "yes", "own-b": "yes"}
    by_id = {e.id: e for e in logged}
    assert by_id[roof].body["documents"] == [hashlib.sha256(quote.read_bytes()).hexdigest()]
    paper = next(e for e in logged if e.type == "ballot.recorded")
    assert paper.body["scan_sha256"] == hashlib.sha256(scan.read_bytes()).hexdigest()
    proc = gov.gp("proposals", "-c", C)
    assert proc.returncode == 0 and "[emergency]" in proc.stdout
