"""``glasspocket propose | approve | vote | close-vote | emergency | progress | review | object |
answer | charter``: the governance entries, and ``glasspocket proposals``: where they stand.

Each recording command builds the entry's body from its options, signs it with ``--key`` and
submits it with ``api.cli_common.record`` (same checks, same stable codes as over HTTP).
Documents, paper-ballot scans and the charter's text are given as files: the command
computes their SHA-256, and only the hash enters the log. ``proposals`` reads the fold
(``LedgerService.state(c)``): budgets, approvals, spending, stages and tallies, exactly.
``GOVERNANCE_COMMANDS`` lists them for ``api.cli`` to register.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli_common import (
    AtOpt,
    CommunityOpt,
    DbOpt,
    JsonOpt,
    KeyFileOpt,
    KeysOpt,
    amount_of,
    guard,
    is_zh,
    out,
    print_json,
    record,
    usage,
    with_optional,
)
from api.settings import Settings
from ledger.core.errors import MalformedError
from ledger.core.money import yuan
from projections.proposals import all_proposals

ProposalIdOpt = Annotated[str, typer.Option("--proposal", help="the proposal's entry id")]
UnitsOpt = Annotated[str | None, typer.Option("--units", help="scope: units, e.g. 1-1-101,1-1-102")]
BuildingsOpt = Annotated[str | None, typer.Option("--buildings", help="scope: buildings, e.g. 2,3")]
DocumentFileOpt = Annotated[
    list[Path] | None,
    typer.Option("--document", help="a document file; its SHA-256 is recorded (repeatable)"),
]


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def sha256_file(path: Path) -> str:
    """The SHA-256 (hex) of a file's bytes; an unreadable file is a usage error."""

    def read() -> str:
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise MalformedError(
                f"cannot read {path}: {exc.strerror}", f"无法读取 {path}：{exc.strerror}"
            ) from None

    return guard(read)


def _hashes(files: list[Path] | None) -> list[str] | None:
    return [sha256_file(f) for f in files] if files else None


def propose(
    community: CommunityOpt,
    key: KeyFileOpt,
    title: Annotated[str, typer.Option("--title")],
    matter: Annotated[
        str,
        typer.Option(
            "--matter",
            help="maintenance_use, particular_costs, maintenance_raise, alteration, "
            "common_use_change, property_company, charter, committee_election, spending, other",
        ),
    ],
    needs: Annotated[str, typer.Option("--needs", help="committee, owners or emergency")],
    description: Annotated[str, typer.Option("--description", help="shown on disclosures")],
    fund: Annotated[str | None, typer.Option("--fund", help="the fund it spends from")] = None,
    budget: Annotated[
        str | None, typer.Option("--budget", help="the most it may spend, in yuan")
    ] = None,
    budget_fen: Annotated[int | None, typer.Option("--budget-fen", help="… in fen")] = None,
    units: UnitsOpt = None,
    buildings: BuildingsOpt = None,
    document: DocumentFileOpt = None,
    publicity_days: Annotated[
        int | None, typer.Option("--publicity-days", help="longer publicity than the charter's")
    ] = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Submit a proposal (proposal.submitted): fund, budget, matter, scope, documents. 方案公开。"""
    money = None
    if budget is not None or budget_fen is not None:
        money = amount_of(budget, budget_fen, "budget")
    body = with_optional(
        {"title": title, "matter": matter, "needs": needs, "description": description},
        fund=fund,
        budget_fen=money,
        units=_split(units),
        buildings=_split(buildings),
        documents=_hashes(document),
        publicity_days=publicity_days,
    )
    record(key, community, "proposal.submitted", at, body, db, keys, as_json)


def approve(
    community: CommunityOpt,
    key: KeyFileOpt,
    subject: Annotated[
        str, typer.Option("--subject", help="the proposal (or key.registered) entry id")
    ],
    note: Annotated[str | None, typer.Option("--note")] = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A committee member approves a proposal or a key (approval.signed). 业委会批准。"""
    body = with_optional({"subject_id": subject}, note=note)
    record(key, community, "approval.signed", at, body, db, keys, as_json)


def vote(
    community: CommunityOpt,
    key: KeyFileOpt,
    proposal: ProposalIdOpt,
    choice: Annotated[str, typer.Option("--choice", help="yes, no or abstain")],
    owner: Annotated[
        str | None, typer.Option("--owner", help="paper ballot: the owner reference (with --scan)")
    ] = None,
    scan: Annotated[
        Path | None, typer.Option("--scan", help="paper ballot: the scan file (its SHA-256)")
    ] = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Vote with your owner key (ballot.cast), or transcribe a paper ballot with a committee
    key: --owner REF --scan FILE (ballot.recorded). 业主表决。"""
    if (owner is None) != (scan is None):
        raise usage(
            "a paper ballot needs both --owner and --scan", "纸质选票须同时给出 --owner 和 --scan"
        )
    if owner is not None and scan is not None:
        body = {
            "proposal_id": proposal,
            "owner": owner,
            "choice": choice,
            "scan_sha256": sha256_file(scan),
        }
        record(key, community, "ballot.recorded", at, body, db, keys, as_json)
        return
    body = {"proposal_id": proposal, "choice": choice}
    record(key, community, "ballot.cast", at, body, db, keys, as_json)


def close_vote(
    community: CommunityOpt,
    key: KeyFileOpt,
    proposal: ProposalIdOpt,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Close a vote; the outcome is computed from the ballots (vote.closed). 结束表决。"""
    record(key, community, "vote.closed", at, {"proposal_id": proposal}, db, keys, as_json)


def emergency(
    community: CommunityOpt,
    key: KeyFileOpt,
    proposal: ProposalIdOpt,
    reason: Annotated[str, typer.Option("--reason", help="why it cannot wait for a vote")],
    cap: Annotated[str | None, typer.Option("--cap", help="the most it may draw, in yuan")] = None,
    cap_fen: Annotated[int | None, typer.Option("--cap-fen", help="… in fen")] = None,
    units: UnitsOpt = None,
    buildings: BuildingsOpt = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """An authority confirms an emergency repair: scope and cap (emergency.declared). 应急确认。"""
    body = with_optional(
        {"proposal_id": proposal, "cap_fen": amount_of(cap, cap_fen, "cap"), "reason": reason},
        units=_split(units),
        buildings=_split(buildings),
    )
    record(key, community, "emergency.declared", at, body, db, keys, as_json)


def progress(
    community: CommunityOpt,
    key: KeyFileOpt,
    proposal: ProposalIdOpt,
    stage: Annotated[
        str, typer.Option("--stage", help="contracted, started, completed, accepted (in order)")
    ],
    note: Annotated[str | None, typer.Option("--note")] = None,
    document: DocumentFileOpt = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A project's next stage, with documents (project.progressed). 进度公开。"""
    body = with_optional(
        {"proposal_id": proposal, "stage": stage}, note=note, documents=_hashes(document)
    )
    record(key, community, "project.progressed", at, body, db, keys, as_json)


def review(
    community: CommunityOpt,
    key: KeyFileOpt,
    proposal: ProposalIdOpt,
    rating: Annotated[int, typer.Option("--rating", help="1 (poor) to 5 (good)")],
    summary: Annotated[str, typer.Option("--summary")],
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The owners' outcome review after completion (project.reviewed). 问效。"""
    body = {"proposal_id": proposal, "rating": rating, "summary": summary}
    record(key, community, "project.reviewed", at, body, db, keys, as_json)


def object_to(
    community: CommunityOpt,
    key: KeyFileOpt,
    target: Annotated[str, typer.Option("--target", help="the entry id objected to")],
    text: Annotated[str, typer.Option("--text")],
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Object to an entry or a statement (objection.raised). 提出异议。"""
    body = {"target_id": target, "text": text}
    record(key, community, "objection.raised", at, body, db, keys, as_json)


def answer(
    community: CommunityOpt,
    key: KeyFileOpt,
    objection: Annotated[str, typer.Option("--objection", help="the objection's entry id")],
    outcome: Annotated[str, typer.Option("--outcome", help="accepted, explained or corrected")],
    text: Annotated[str, typer.Option("--text")],
    correction: Annotated[
        str | None, typer.Option("--correction", help="corrected: the correcting entry's id")
    ] = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer an objection (objection.answered). 答复异议。"""
    body = with_optional(
        {"objection_id": objection, "outcome": outcome, "text": text}, correction_id=correction
    )
    record(key, community, "objection.answered", at, body, db, keys, as_json)


def charter(
    community: CommunityOpt,
    key: KeyFileOpt,
    proposal: Annotated[str, typer.Option("--proposal", help="the charter vote that passed")],
    publicity_days: Annotated[int | None, typer.Option("--publicity-days")] = None,
    committee_quorum: Annotated[int | None, typer.Option("--committee-quorum")] = None,
    routine_limit_fen: Annotated[int | None, typer.Option("--routine-limit-fen")] = None,
    committee_limit_fen: Annotated[int | None, typer.Option("--committee-limit-fen")] = None,
    top_up_ratio_percent: Annotated[int | None, typer.Option("--top-up-ratio-percent")] = None,
    reserve_fen: Annotated[int | None, typer.Option("--reserve-fen")] = None,
    text: Annotated[
        Path | None, typer.Option("--text", help="the charter's full text (its SHA-256)")
    ] = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Amend the charter's numbers, citing the owners' vote (charter.amended). 修订管理规约。"""
    body = with_optional(
        {"proposal_id": proposal},
        publicity_days=publicity_days,
        committee_quorum=committee_quorum,
        routine_limit_fen=routine_limit_fen,
        committee_limit_fen=committee_limit_fen,
        top_up_ratio_percent=top_up_ratio_percent,
        reserve_fen=reserve_fen,
        text_sha256=sha256_file(text) if text is not None else None,
    )
    record(key, community, "charter.amended", at, body, db, keys, as_json)


# --- where the proposals stand -------------------------------------------------------------------


def proposals(
    community: CommunityOpt,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Proposals with budget, approval, spending, stage and tally. 方案与表决。"""
    settings = Settings.resolve(db, keys)

    def read() -> list[dict[str, Any]]:
        service = settings.open_service()
        try:
            state = service.state(community)
        finally:
            service.close()
        return all_proposals(state)

    rows = guard(read)
    if as_json:
        print_json({"community": community, "proposals": rows})
        return
    zh = is_zh()
    for row in rows:
        _print_row(row, zh)


def _print_row(row: dict[str, Any], zh: bool) -> None:
    budget = "—" if row["budget_fen"] is None else yuan(row["budget_fen"])
    decided = (
        ("已批准" if zh else "approved")
        if row["approved"]
        else ("未批准" if zh else "not approved")
    )
    flag = (" [应急]" if zh else " [emergency]") if row["emergency"] else ""
    count, quorum = row["approvals"]["count"], row["approvals"]["quorum"]
    approvals = f" ({count}/{quorum})" if row["needs"] == "committee" else ""
    out.print(
        f"#{row['index']} {row['id']} {row['title']}{flag}\n"
        f"  {row['matter']} / {row['needs']} / {row['fund'] or '—'}: "
        f"{'预算' if zh else 'budget'} {budget}, {'已支出' if zh else 'spent'} "
        f"{yuan(row['spent_fen'])}; {decided}{approvals}; "
        f"{'阶段' if zh else 'stage'} {row['stage'] or '—'}",
        highlight=False,
        markup=False,
    )
    tally = row["tally"]
    if tally is not None:
        passed = ("通过" if zh else "passed") if tally["passed"] else ("未通过" if zh else "failed")
        out.print(
            f"  {'参与' if zh else 'participation'} {tally['participation_area']} "
            f"{'面积' if zh else 'area'}, {tally['participation_owners']} "
            f"{'人数' if zh else 'owners'}; {'同意' if zh else 'approval'} "
            f"{tally['approval_area']} / {tally['approval_owners']}: {passed}",
            highlight=False,
            markup=False,
        )


GOVERNANCE_COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("propose", propose),
    ("approve", approve),
    ("vote", vote),
    ("close-vote", close_vote),
    ("emergency", emergency),
    ("progress", progress),
    ("review", review),
    ("object", object_to),
    ("answer", answer),
    ("charter", charter),
    ("proposals", proposals),
)
