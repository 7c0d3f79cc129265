"""Body schemas and signer roles of the governance entries (DOMAIN.md "Spending and who authorises it").

Entries cite proposals, votes, objections and other entries by their ``id``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ledger.core.money_bodies import FUNDS, SHA256_PATTERN, UNIT_PATTERN, UUID_PATTERN
from ledger.core.schema import Enum, Int, ListOf, Obj, Str

MATTERS = (
    "maintenance_use",  # using the maintenance fund (may be scoped to the units that bear it)
    "particular_costs",  # other costs borne by particular owners (may be scoped)
    "maintenance_raise",  # raising the maintenance fund (special: 3/4)
    "alteration",  # altering or rebuilding buildings and facilities (special: 3/4)
    "common_use_change",  # changing the use of common parts / business on them (special: 3/4)
    "property_company",  # hiring or dismissing the property company (trustee)
    "charter",  # the charter (管理规约)
    "committee_election",  # electing committee members
    "spending",  # other spending decided by the committee or the owners
    "other",
)
SCOPED_MATTERS = frozenset({"maintenance_use", "particular_costs"})
NEEDS = ("committee", "owners", "emergency")

_id = Str(UUID_PATTERN, 36, "an entry id")
_text = Str(max_length=2000, description="free text shown on disclosures")
_documents = ListOf(Str(SHA256_PATTERN, 64, "SHA-256 of a document (hex)"), max_items=50)
_units = ListOf(Str(UNIT_PATTERN, 32), min_items=1, max_items=5000)
_buildings = ListOf(Str(r"[0-9A-Za-z-]{1,16}", 16), min_items=1, max_items=100)
_choice = Enum(("yes", "no", "abstain"), "the owner's choice; abstentions participate")
_owner = Str(r"[a-z0-9][a-z0-9-]{2,63}", 64, "an opaque owner reference")

GOVERNANCE_BODIES: Mapping[str, Obj] = {
    "charter.amended": Obj(
        {
            "committee_quorum": Int(1, 100, "k of the committee's approvals (default: a majority)"),
            "publicity_days": Int(0, 90, "calendar days of publicity before a vote or spending"),
            "routine_limit_fen": Int(0, 2**53 - 1, "spending up to this needs no proposal"),
            "committee_limit_fen": Int(0, 2**53 - 1, "above routine and up to this: committee"),
            "top_up_ratio_percent": Int(0, 100, "sub-accounts below this % of the first deposit"),
            "reserve_fen": Int(0, 2**53 - 1, "the property fund's year-end reserve"),
            "proposal_id": _id,
            "text_sha256": Str(SHA256_PATTERN, 64, "SHA-256 of the charter's full text"),
        },
        optional=(
            "committee_quorum",
            "publicity_days",
            "routine_limit_fen",
            "committee_limit_fen",
            "top_up_ratio_percent",
            "reserve_fen",
            "text_sha256",
        ),
        description="The charter's numbers change, citing the owners' vote that adopted them.",
    ),
    "proposal.submitted": Obj(
        {
            "title": Str(max_length=200),
            "matter": Enum(MATTERS, "the class of matter: decides scope and thresholds"),
            "needs": Enum(NEEDS, "who authorises it: the committee, the owners, or an emergency"),
            "fund": Enum(FUNDS),
            "budget_fen": Int(1, 2**53 - 1, "the most that may be spent under it"),
            "units": _units,
            "buildings": _buildings,
            "description": _text,
            "documents": _documents,
            "publicity_days": Int(0, 90, "longer publicity than the charter's, if wanted"),
        },
        optional=("fund", "budget_fen", "units", "buildings", "documents", "publicity_days"),
        description="A proposal (方案公开): fund, purpose, budget, matter, scope and documents.",
    ),
    "approval.signed": Obj(
        {"subject_id": _id, "note": _text},
        optional=("note",),
        description="A committee member approves a proposal, a key registration or a statement.",
    ),
    "ballot.cast": Obj(
        {"proposal_id": _id, "choice": _choice},
        description="An owner's ballot, signed with the owner's own key.",
    ),
    "ballot.recorded": Obj(
        {
            "proposal_id": _id,
            "owner": _owner,
            "choice": _choice,
            "scan_sha256": Str(SHA256_PATTERN, 64, "SHA-256 of the paper ballot's scan"),
        },
        description="A paper ballot transcribed by a committee member, with its scan's hash.",
    ),
    "vote.closed": Obj(
        {"proposal_id": _id},
        description="Closes a vote; the outcome is computed from the ballots, never asserted.",
    ),
    "emergency.declared": Obj(
        {
            "proposal_id": _id,
            "cap_fen": Int(1, 2**53 - 1),
            "units": _units,
            "buildings": _buildings,
            "reason": _text,
        },
        optional=("units", "buildings"),
        description="An authority confirms an emergency repair (art. 281 ¶2): scope and cap.",
    ),
    "project.progressed": Obj(
        {
            "proposal_id": _id,
            "stage": Enum(("contracted", "started", "completed", "accepted")),
            "note": _text,
            "documents": _documents,
        },
        optional=("note", "documents"),
        description="Progress public (进度公开): contracted, started, completed, accepted.",
    ),
    "project.reviewed": Obj(
        {
            "proposal_id": _id,
            "rating": Int(1, 5, "owners' rating, 1 (poor) to 5 (good)"),
            "summary": _text,
        },
        description="The owners' outcome review (问效) after completion.",
    ),
    "objection.raised": Obj(
        {"target_id": _id, "text": _text},
        description="An owner objects to an entry or a statement (居民评议).",
    ),
    "objection.answered": Obj(
        {
            "objection_id": _id,
            "outcome": Enum(("accepted", "explained", "corrected")),
            "text": _text,
            "correction_id": _id,
        },
        optional=("correction_id",),
        description="The answer to an objection; a correction cites the correcting entry.",
    ),
}

GOVERNANCE_SIGNERS: Mapping[str, frozenset[str]] = {
    "charter.amended": frozenset({"committee"}),
    "proposal.submitted": frozenset({"committee"}),
    "approval.signed": frozenset({"committee"}),
    "ballot.cast": frozenset({"owner"}),
    "ballot.recorded": frozenset({"committee"}),
    "vote.closed": frozenset({"committee"}),
    "emergency.declared": frozenset({"authority"}),
    "project.progressed": frozenset({"committee", "treasurer", "trustee"}),
    "project.reviewed": frozenset({"committee"}),
    "objection.raised": frozenset({"owner", "committee", "treasurer", "trustee", "authority"}),
    "objection.answered": frozenset({"committee", "treasurer", "trustee"}),
}
