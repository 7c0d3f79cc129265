"""The event catalogue: every entry type's body schema and the roles that may sign it.

Wire names (``contribution.received``) are stable and never derive from Python
names. ``docs/schema/<type>.json`` is generated from ``BODIES`` by
``json_schemas()``; a test keeps the published files equal to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.core.errors import MalformedError
from ledger.core.governance_bodies import GOVERNANCE_BODIES, GOVERNANCE_SIGNERS
from ledger.core.money_bodies import MONEY_BODIES, MONEY_SIGNERS, UUID_PATTERN
from ledger.core.schema import Enum, Int, ListOf, Obj, Str
from ledger.core.statement_bodies import STATEMENT_BODIES, STATEMENT_SIGNERS

ROLES = ("committee", "treasurer", "trustee", "authority", "owner")

UNIT_PATTERN = r"[0-9A-Za-z][0-9A-Za-z-]{0,31}"
OWNER_PATTERN = r"[a-z0-9][a-z0-9-]{2,63}"
KEY_NAME_PATTERN = r"[^\s+]{1,200}"
VKEY_PATTERN = r"[^\s+]{1,200}\+[0-9a-f]{8}\+[A-Za-z0-9+/]{43,}={0,2}"
MONTH_PATTERN = r"\d{4}-(0[1-9]|1[0-2])"
ORIGIN_PATTERN = r"[a-zA-Z0-9.:-]+(/[a-zA-Z0-9._~-]+)+"

_role = Enum(ROLES, "the key's role in the community")
_vkey = Str(VKEY_PATTERN, 300, "a signed-note verifier key: <name>+<hex key id>+<base64>")
_unit = Str(UNIT_PATTERN, 32, "a unit code, e.g. 3-1-502")
_owner = Str(OWNER_PATTERN, 64, "an opaque owner reference; never a name or phone number")

BODIES: Mapping[str, Obj] = {
    "community.founded": Obj(
        {
            "name": Str(max_length=200, description="the community's name"),
            "origin": Str(ORIGIN_PATTERN, 300, "the log's origin; the log key's name"),
            "keys": ListOf(Obj({"vkey": _vkey, "role": _role}), min_items=1, max_items=100),
            "charter": Obj(
                {
                    k: v
                    for k, v in GOVERNANCE_BODIES["charter.amended"].fields.items()
                    if k not in ("proposal_id",)
                },
                optional=tuple(
                    k for k in GOVERNANCE_BODIES["charter.amended"].fields if k != "proposal_id"
                ),
                description="The charter's numbers as founded (defaults where absent).",
            ),
        },
        optional=("charter",),
        description="Index 0 of every log: the community, its log origin and its founding keys.",
    ),
    "key.registered": Obj(
        {
            "vkey": _vkey,
            "role": _role,
            "owner": _owner,
            "election_id": Str(
                UUID_PATTERN, 36, "committee keys: the owners' election that passed"
            ),
        },
        optional=("owner", "election_id"),
        description="A key joins the community with a role (owner keys name their owner reference).",
    ),
    "key.revoked": Obj(
        {
            "name": Str(KEY_NAME_PATTERN, 200, "the revoked key's name"),
            "reason": Str(max_length=500),
        },
        optional=("reason",),
        description="A key stops being valid from the next entry on.",
    ),
    "unit.registered": Obj(
        {
            "unit": _unit,
            "building": Str(r"[0-9A-Za-z-]{1,16}", 16, "building number"),
            "area_cm2": Int(1, 10**9, "floor area in square centimetres"),
            "owner": _owner,
        },
        description="A unit (房号) with its floor area and opaque owner reference.",
    ),
    "unit.owner_changed": Obj(
        {"unit": _unit, "owner": _owner, "reference": Str(max_length=100)},
        optional=("reference",),
        description="A unit's owner reference changes (a sale, an inheritance).",
    ),
    "fee.schedule_set": Obj(
        {
            "rate_fen_per_m2": Int(
                1, 100_000, "property fee in fen per m² of floor area per month"
            ),
            "from_month": Str(MONTH_PATTERN, 7, "the first month the rate applies to"),
            "proposal_id": Str(UUID_PATTERN, 36, "the owners' decision that set it"),
        },
        optional=("proposal_id",),
        description="The property fee rate from a month on (dues = rate × area, per month).",
    ),
    "trustee.contract_set": Obj(
        {
            "trustee": Str(max_length=200, description="the property service company (trustee)"),
            "from_month": Str(MONTH_PATTERN, 7, "the first month the contract covers"),
            "basis_points": Int(
                0, 10_000, "remuneration: ‱ of the property fees received in a month"
            ),
            "fixed_monthly_fen": Int(0, 2**53 - 1, "or remuneration: a fixed sum per month"),
            "proposal_id": Str(UUID_PATTERN, 36, "the owners' vote that chose the trustee"),
        },
        optional=("basis_points", "fixed_monthly_fen", "proposal_id"),
        description="The trust-style property contract (信托制物业): who, from when, and its remuneration.",
    ),
    **MONEY_BODIES,
    **GOVERNANCE_BODIES,
    **STATEMENT_BODIES,
}

SIGNER_ROLES: Mapping[str, frozenset[str]] = {
    "community.founded": frozenset({"committee"}),
    "key.registered": frozenset({"committee", "treasurer", "authority"}),
    "key.revoked": frozenset(ROLES),
    "unit.registered": frozenset({"committee", "treasurer"}),
    "unit.owner_changed": frozenset({"committee", "treasurer"}),
    "fee.schedule_set": frozenset({"committee"}),
    "trustee.contract_set": frozenset({"committee"}),
    **MONEY_SIGNERS,
    **GOVERNANCE_SIGNERS,
    **STATEMENT_SIGNERS,
}

TYPES = frozenset(BODIES)


def validate_body(entry_type: Any, body: Any) -> None:
    """Check ``body`` against its type's schema; unknown fields are refused."""
    spec = BODIES.get(entry_type) if isinstance(entry_type, str) else None
    if spec is None:
        raise MalformedError(f"unknown entry type {entry_type!r}", f"未知条目类型 {entry_type!r}")
    spec.check(body, "")


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema (2020-12) of every type's body, keyed by wire name."""
    out: dict[str, dict[str, Any]] = {}
    for name, spec in sorted(BODIES.items()):
        schema = spec.json_schema()
        roles = sorted(SIGNER_ROLES[name])
        out[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://glasspocket.example/schema/v1/{name}.json",
            "title": name,
            "x-signer-roles": roles,
            **schema,
        }
    return out
