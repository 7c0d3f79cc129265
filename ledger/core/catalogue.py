"""The event catalogue: every entry type's body schema and the roles that may sign it.

Wire names (``contribution.received``) are stable and never derive from Python
names. ``docs/schema/<type>.json`` is generated from ``BODIES`` by
``json_schemas()``; a test keeps the published files equal to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.core.errors import MalformedError
from ledger.core.schema import Enum, Fen, Int, ListOf, Obj, Str

ROLES = ("committee", "treasurer", "trustee", "authority", "owner")
FUNDS = ("property", "maintenance", "public_revenue", "community")

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
        },
        description="Index 0 of every log: the community, its log origin and its founding keys.",
    ),
    "key.registered": Obj(
        {"vkey": _vkey, "role": _role, "owner": _owner},
        optional=("owner",),
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
    "contribution.received": Obj(
        {
            "fund": Enum(("property", "maintenance"), "property fees or the maintenance fund"),
            "unit": _unit,
            "amount_fen": Fen(),
            "month": Str(MONTH_PATTERN, 7, "property fees: the month they pay for (YYYY-MM)"),
            "deposit": Enum(("initial", "top_up"), "maintenance: first deposit or top-up"),
            "method": Enum(("bank", "cash", "wechat", "alipay", "other")),
            "reference": Str(max_length=100, description="bank or receipt reference"),
        },
        optional=("month", "deposit", "method", "reference"),
        description="Money received from a unit: property fees (by month) or a maintenance deposit.",
    ),
}

SIGNER_ROLES: Mapping[str, frozenset[str]] = {
    "community.founded": frozenset({"committee"}),
    "key.registered": frozenset({"committee", "treasurer", "authority"}),
    "key.revoked": frozenset(ROLES),
    "unit.registered": frozenset({"committee", "treasurer"}),
    "contribution.received": frozenset({"treasurer", "trustee"}),
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
