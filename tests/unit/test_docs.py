"""docs/spec.md §3 lists exactly the catalogue: the table between its markers is generated."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "spec.md"
BEGIN = "<!-- catalogue:begin -->\n"
END = "<!-- catalogue:end -->"


def _table_script() -> ModuleType:
    path = ROOT / "docs" / "catalogue_table.py"
    spec = importlib.util.spec_from_file_location("docs_catalogue_table", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_spec_catalogue_table_is_the_generated_one() -> None:
    """Given docs/spec.md, when the text between the catalogue markers is read,
    then it equals what docs/catalogue_table.py prints from ledger.core.catalogue."""
    text = SPEC.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1, "one pair of catalogue markers"
    between = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert between == _table_script().table(), (
        "docs/spec.md §3 differs from the catalogue: run "
        ".venv/bin/python docs/catalogue_table.py and paste its output between the markers"
    )


def test_table_names_every_type_once() -> None:
    """Given the catalogue, when the table is generated, then each type has exactly one row."""
    from ledger.core.catalogue import TYPES

    rows = [line for line in _table_script().table().splitlines() if line.startswith("| `")]
    assert sorted(row.split("`")[1] for row in rows) == sorted(TYPES)
