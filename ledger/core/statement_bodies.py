"""Body schema and signer roles of ``statement.published`` (DOMAIN.md "Statements")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.core.errors import MalformedError
from ledger.core.schema import Int, Obj, Str

PERIOD_PATTERN = r"\d{4}Q[1-4]"
MAX_INDEX = 2**53 - 1


class Figures:
    """A JSON object of figures: the rule checks every one exactly, so the schema only shapes it."""

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise MalformedError(f"{path}: must be an object", f"{path}：必须是对象")

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "description": "every figure of DOMAIN.md 'Statements' (money in fields ending _fen)",
        }


STATEMENT_BODIES: Mapping[str, Obj] = {
    "statement.published": Obj(
        {
            "period": Str(PERIOD_PATTERN, 6, "the quarter, e.g. 2025Q3"),
            "start": Int(0, MAX_INDEX, "first index covered: the previous statement's end, or 0"),
            "end": Int(0, MAX_INDEX, "end of the covered range [start, end): this entry's index"),
            "covered_root": Str(
                r"[A-Za-z0-9+/]{43}=", 44, "RFC 6962 root of the first `end` entries (base64)"
            ),
            "figures": Figures(),
        },
        description="The quarterly statement (资金公开), signed by the treasurer.",
    )
}

STATEMENT_SIGNERS: Mapping[str, frozenset[str]] = {"statement.published": frozenset({"treasurer"})}
