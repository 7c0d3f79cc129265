"""The browser verifier's JavaScript modules, run by node, against the Python verifier's vectors.

``tests/js/run_vectors.mjs`` imports ``api/static/verify/*.js`` and checks: every RFC 6962
vector of shared/vectors/rfc6962 (wantErr ones must fail), the golden entries, checkpoints
and receipts of tests/vectors/golden (the same verdict code as the Python verifier), the
golden statement-bundle cases, and demo bundles (honest, and with one figure changed) on
which the Python verifier is run too, so both verifiers must agree.
Node 20 has WebCrypto Ed25519; without node the tests skip, unless CI=true.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import run_command
from forgery import DemoExport

from ledger.core.policy import Policy
from verify.statement import verify_statement

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "js" / "run_vectors.mjs"
GOLDEN = ROOT / "tests" / "vectors" / "golden"
CASES = GOLDEN / "statements" / "cases.json"


def _rfc6962() -> Path:
    shared = os.environ.get("GLASSPOCKET_SHARED")
    base = Path(shared) if shared else ROOT.parent / "shared"
    return base / "vectors" / "rfc6962"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but node is not installed: the browser verifier cannot be tested")
        pytest.skip("node is not installed (needed to run the browser verifier's modules)")
    return node


def _run(*args: str | Path) -> dict[str, Any]:
    proc = subprocess.run(
        [_node(), str(RUNNER), *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.stdout.strip(), f"runner printed nothing: {proc.stderr}"
    summary: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert proc.returncode == 0, "\n".join(summary.get("failures", [])) or proc.stderr
    return summary


def _passed(summary: dict[str, Any], kind: str) -> int:
    result = summary["results"][kind]
    assert result["failed"] == 0, summary["failures"]
    return int(result["passed"])


def test_schemas_js_is_generated_from_the_catalogue() -> None:
    spec = importlib.util.spec_from_file_location("make_schemas", ROOT / "tests/js/make_schemas.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "api/static/verify/schemas.js").read_text(encoding="utf-8")
    assert committed == module.build(), "schemas.js drifted: run tests/js/make_schemas.py"


def test_js_passes_every_rfc6962_vector() -> None:
    summary = _run("--rfc6962", _rfc6962())
    assert _passed(summary, "rfc6962_inclusion") >= 90
    assert _passed(summary, "rfc6962_consistency") >= 90


def test_js_gives_the_golden_verdicts() -> None:
    summary = _run("--golden", GOLDEN)
    for kind in ("entries", "checkpoints", "receipts"):
        files = len(list((GOLDEN / kind).glob("*.json")))
        assert _passed(summary, f"golden_{kind}") == files, kind
    assert _passed(summary, "golden_log") == 1


def test_js_gives_the_golden_statement_verdicts() -> None:
    summary = _run("--statements", CASES)
    assert _passed(summary, "statements") == len(json.loads(CASES.read_text(encoding="utf-8")))


def _bundle(demo: DemoExport, period: str, out: Path) -> str:
    proc = run_command(
        "glasspocket", "statement", "bundle", period, "--community", "demo",
        "--db", demo.db_url, "--keys", demo.keys, "--out", out,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out.read_text(encoding="utf-8")


def change_one_figure(bundle_text: str, fen: int = 100) -> str:
    """The bundle with the property fund's closing balance raised by ``fen`` in the entry."""
    bundle = json.loads(bundle_text)
    old = bundle["entry"]
    entry = json.loads(base64.b64decode(old))
    entry["body"]["figures"]["funds"]["property"]["closing_fen"] += fen
    data = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    new = base64.b64encode(data.encode()).decode()
    bundle["entry"] = new
    bundle["proof"] = bundle["proof"].replace(f"extra {old}\n", f"extra {new}\n")
    return json.dumps(bundle)


def test_js_and_python_agree_on_demo_bundles(demo: DemoExport, tmp_path: Path) -> None:
    """Given honest demo bundles and one with a figure changed, both verifiers give one verdict."""
    policy = demo.policy.read_text(encoding="utf-8")
    q1 = _bundle(demo, "2025Q1", tmp_path / "q1.json")
    q3 = _bundle(demo, "2025Q3", tmp_path / "q3.json")
    cases = [
        {"name": "demo-2025Q1", "bundle": q1, "want": "ok", "reason": ""},
        {"name": "demo-2025Q3", "bundle": q3, "want": "ok", "reason": ""},
        {"name": "demo-2025Q3-figure", "bundle": change_one_figure(q3), "want": "fail",
         "reason": "bad_proof"},
    ]  # fmt: skip
    broken = json.loads(q3)
    for name, change in (
        ("no-keychain", {"keychain": None}),
        ("consistency-not-a-list", {"covered_consistency": "x"}),
        ("previous-a-number", {"previous": 5}),
        ("entry-not-base64", {"entry": "!!"}),
        ("not-a-bundle", {"format": "something/else"}),
    ):
        text = json.dumps({**broken, **change})
        cases.append({"name": name, "bundle": text, "want": "fail", "reason": ""})
    for case in cases:
        report = verify_statement(case["bundle"], Policy.parse(policy))
        assert ("ok" if report.ok else "fail") == case["want"], case["name"]
        case["policy"] = policy
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases), encoding="utf-8")
    assert _passed(_run("--statements", path), "statements") == len(cases)


JCS_INPUTS = [
    '{"b":1,"a":[true,false,null],"c":{"z":"","y":-0}}',
    '{"\\u20ac":1,"\\ud83d\\ude00":2,"\\ufb33":3,"a":4,"A":5,"":6}',
    '{"s":"\\u0000\\u001f\\b\\f\\n\\r\\t\\"\\\\/\\u007f\\u2028\\u00e9中文😀"}',
    '{"n":[0,-1,9007199254740991,-9007199254740991,10,100000000000000000000]}',
    '{"f":1.5}',
    '{"e":1e3}',
    '{"d":1,"d":2}',
    "[1, 2 ,\\n 3]",
    '{"n":NaN}',
]


def _python_jcs(text: str) -> str | None:
    from ledger.core.entry import jcs, loads_strict
    from ledger.core.errors import LedgerError

    try:
        return base64.b64encode(jcs(loads_strict(text))).decode()
    except LedgerError:
        return None


def test_js_canonicalizes_like_python_rfc8785(tmp_path: Path) -> None:
    """Given tricky JSON (key order by UTF-16, escapes, integers, floats, duplicates), same bytes."""
    cases = [{"input": text, "want": _python_jcs(text)} for text in JCS_INPUTS]
    assert cases[0]["want"] is not None and cases[4]["want"] is None
    path = tmp_path / "jcs.json"
    path.write_text(json.dumps(cases), encoding="utf-8")
    assert _passed(_run("--jcs", path), "jcs") == len(cases)
