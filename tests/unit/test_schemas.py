"""The published JSON Schemas (docs/schema/) equal the catalogue, and golden bodies validate."""

from __future__ import annotations

import base64
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ledger.core.catalogue import SIGNER_ROLES, TYPES, json_schemas, validate_body
from ledger.core.entry import parse_logged_entry
from ledger.core.errors import MalformedError

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "docs" / "schema"
GOLDEN_ENTRIES = ROOT / "tests" / "vectors" / "golden" / "entries"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("schema_generate", SCHEMA_DIR / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _validator() -> Callable[[dict[str, Any]], Callable[[Any], bool]]:
    """A JSON Schema 2020-12 validator factory: ``jsonschema`` if present, else ``jsonschema_rs``."""
    try:
        import jsonschema

        def with_jsonschema(schema: dict[str, Any]) -> Callable[[Any], bool]:
            return jsonschema.Draft202012Validator(schema).is_valid  # type: ignore[no-any-return]

        return with_jsonschema
    except ImportError:
        pass
    try:
        import jsonschema_rs
    except ImportError:
        pytest.skip("neither jsonschema nor jsonschema_rs is installed (dev extra: schemathesis)")

    def with_rs(schema: dict[str, Any]) -> Callable[[Any], bool]:
        return jsonschema_rs.Draft202012Validator(schema).is_valid  # type: ignore[no-any-return]

    return with_rs


def test_every_type_has_a_published_schema_equal_to_the_catalogue() -> None:
    published = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    assert published == _generator().schema_files(), "run: python docs/schema/generate.py"
    assert {name.removesuffix(".json") for name in published} == TYPES


def test_schema_files_are_indent_2_sorted_keys_with_a_trailing_newline() -> None:
    for name, schema in json_schemas().items():
        text = (SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8")
        assert text == json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        assert json.loads(text)["x-signer-roles"] == sorted(SIGNER_ROLES[name])


def _golden_bodies() -> list[tuple[str, str, Any]]:
    out = []
    for path in sorted(GOLDEN_ENTRIES.glob("valid-*.json")):
        vector = json.loads(path.read_text(encoding="utf-8"))
        if "entry_bytes_b64" in vector:
            entry = parse_logged_entry(base64.b64decode(vector["entry_bytes_b64"]))
            out.append((path.stem, entry.type, dict(entry.body)))
    return out


GOLDEN_BODIES = _golden_bodies()


def test_golden_vectors_cover_every_type() -> None:
    assert {entry_type for _, entry_type, _ in GOLDEN_BODIES} == TYPES


@pytest.mark.parametrize(("name", "entry_type", "body"), GOLDEN_BODIES, ids=lambda v: str(v)[:40])
def test_valid_golden_bodies_validate_against_their_schema(
    name: str, entry_type: str, body: Any
) -> None:
    is_valid = _validator()(json_schemas()[entry_type])
    assert is_valid(body), name


INVALID_BODIES = [
    ("contribution.received", {"fund": "property", "unit": "3-1-502", "amount_fen": 0}),
    ("contribution.received", {"fund": "property", "unit": "3-1-502", "amount_fen": "1"}),
    ("contribution.received", {"fund": "bank", "unit": "3-1-502", "amount_fen": 1}),
    ("contribution.received", {"fund": "property", "unit": "3-1-502", "amount_fen": 1, "x": 1}),
    ("contribution.received", {"fund": "property", "unit": "3-1-502"}),
    (
        "contribution.received",
        {"fund": "property", "unit": "3-1-502", "amount_fen": 1, "month": "2025-13"},
    ),
    ("unit.registered", {"unit": "3 1 502", "building": "3", "area_cm2": 1, "owner": "abc"}),
    ("unit.registered", {"unit": "3-1-502", "building": "3", "area_cm2": 1, "owner": "Mr Wang"}),
    ("key.revoked", {"name": "demo/wang", "reason": ""}),
    ("key.registered", {"vkey": "demo/x+abc+AAAA", "role": "treasurer"}),
    ("community.founded", {"name": "x", "origin": "example.org/c/x/log", "keys": []}),
]


@pytest.mark.parametrize(("entry_type", "body"), INVALID_BODIES)
def test_schema_and_catalogue_refuse_the_same_bodies(entry_type: str, body: Any) -> None:
    with pytest.raises(MalformedError):
        validate_body(entry_type, body)
    assert not _validator()(json_schemas()[entry_type])(body)
