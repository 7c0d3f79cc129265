"""Write ``docs/schema/<type>.json`` from ``ledger.core.catalogue.json_schemas()``.

Run from the repository root after changing the catalogue:

    .venv/bin/python docs/schema/generate.py

``tests/unit/test_schemas.py`` fails while the files and the catalogue differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ledger.core.catalogue import json_schemas

SCHEMA_DIR = Path(__file__).resolve().parent


def render(schema: dict[str, Any]) -> str:
    """A schema file's text: JSON, indent 2, sorted keys, UTF-8, one trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_files() -> dict[str, str]:
    """File name -> text for every entry type of the catalogue."""
    return {f"{name}.json": render(schema) for name, schema in json_schemas().items()}


def main(out: Path = SCHEMA_DIR) -> None:
    for name, text in schema_files().items():
        (out / name).write_text(text, encoding="utf-8")
        print(out / name, file=sys.stderr)


if __name__ == "__main__":
    main()
