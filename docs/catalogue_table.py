"""Print the catalogue table of docs/spec.md §3 from ``ledger.core.catalogue``.

Run from the repository root after changing the catalogue, and paste the output between
the ``<!-- catalogue:begin -->`` and ``<!-- catalogue:end -->`` markers of docs/spec.md:

    .venv/bin/python docs/catalogue_table.py

``tests/unit/test_docs.py`` fails while the two differ.
"""

from __future__ import annotations

from ledger.core.catalogue import BODIES, ROLES, SIGNER_ROLES
from ledger.core.schema import MAX_SAFE_INTEGER, Bool, Enum, Field, Int, ListOf, Obj, Str

HEADER = "| type | body fields (optional ones in brackets) | signer roles |\n|---|---|---|\n"


def _bound(value: int) -> str:
    return "2^53−1" if value == MAX_SAFE_INTEGER else str(value)


def describe(spec: Field) -> str:
    """A field's shape in a few words: enum values, integer range, list size, nested fields."""
    if isinstance(spec, Enum):
        return " (" + "/".join(f"`{v}`" for v in spec.values) + ")"
    if isinstance(spec, Int):
        return f" ({_bound(spec.minimum)}..{_bound(spec.maximum)})"
    if isinstance(spec, Bool):
        return " (true/false)"
    if isinstance(spec, ListOf):
        most = _bound(spec.max_items)
        inner = describe(spec.item).strip()
        return f": {spec.min_items}-{most} × {inner or 'string'}".rstrip()
    if isinstance(spec, Obj):
        return " {" + fields(spec) + "}"
    if isinstance(spec, Str):
        return ""
    return " (object: see the type's schema)"


def fields(spec: Obj) -> str:
    parts = []
    for name, field in spec.fields.items():
        text = f"`{name}`{describe(field)}"
        parts.append(f"[{text}]" if name in spec.optional else text)
    return ", ".join(parts)


def roles(entry_type: str) -> str:
    allowed = SIGNER_ROLES[entry_type]
    return ", ".join(role for role in ROLES if role in allowed)


def table() -> str:
    """The markdown table: one row per type, in catalogue order."""
    rows = [f"| `{name}` | {fields(spec)} | {roles(name)} |\n" for name, spec in BODIES.items()]
    return HEADER + "".join(rows)


if __name__ == "__main__":
    print(table(), end="")
