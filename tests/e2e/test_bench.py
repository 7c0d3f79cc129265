"""``glasspocket bench``: a small run produces every figure, sane, in the table and the JSON.

No timing is asserted (the machine may be busy): only that every phase ran on a real
server and a real verifier, and that the figures are consistent with one another.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_command

KEYS = {
    "raw_verify_per_s",
    "import_per_s",
    "http_per_s",
    "audit_per_s",
    "rebuild_per_s",
    "receipt_verify_ms",
    "tile_p99_ms",
    "peak_rss_mb",
    "audit_peak_rss_mb",
    "server_peak_rss_mb",
    "import_ratio",
    "http_ratio",
    "audit_ratio",
    "rebuild_ratio",
    "targets",
    "pass",
    "all_pass",
    "machine",
    "log_size",
}


@pytest.mark.server
def test_a_small_bench_writes_every_figure(tmp_path: Path) -> None:
    """Given an empty machine state,
    when ``glasspocket bench --entries 300 --json FILE`` runs,
    then it prints the table and writes JSON with every figure, each positive and
    consistent: the log holds the imported rows, the POSTs and the two setup entries."""
    report = tmp_path / "bench.json"
    proc = run_command("glasspocket", "bench", "--entries", "300", "--json", report)

    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # 1: a target missed
    assert "raw Ed25519 verify" in proc.stdout
    assert "import: " in proc.stderr and "audit: " in proc.stderr  # progress as it runs
    results = json.loads(report.read_text(encoding="utf-8"))
    assert set(results) >= KEYS
    for key in ("raw_verify_per_s", "import_per_s", "http_per_s", "audit_per_s", "rebuild_per_s"):
        assert results[key] > 0, key
    # the best of five imports, each from the same database: the log holds the rows once
    posted = results["http_posts"] + results["http_warmup_posts"]
    assert results["log_size"] == results["import_rows"] + posted + 2
    assert len(results["import_seconds_runs"]) == 5
    assert results["import_seconds"] == min(results["import_seconds_runs"])
    # the reference is the best window of raw verify, before and after the phases
    assert len(results["raw_verify_samples"]) == 8
    assert results["raw_verify_per_s"] == max(results["raw_verify_samples"])
    assert results["all_cores_verify_per_s"] > 0 and 0 < results["core_scaling"] <= 1.5
    assert results["wakeup_round_trip_us"] > 0
    assert results["rebuild_entries"] == results["log_size"]
    # the yardstick: a bare FastAPI endpoint, loaded as the server is (not a target)
    assert results["http_bare_posts"] == results["http_posts"] and results["http_bare_per_s"] > 0
    assert results["http_vs_bare"] == pytest.approx(
        results["http_per_s"] / results["http_bare_per_s"], abs=1e-3
    )
    assert "http_vs_bare" not in results["targets"]
    assert "bare FastAPI endpoint" in proc.stdout
    # the audit and the rebuild leave the log as it is: the best of five runs each
    for phase in ("audit", "rebuild"):
        runs = results[f"{phase}_seconds_runs"]
        assert len(runs) == 5 and results[f"{phase}_seconds"] == min(runs), phase
        # (the runs are kept to the millisecond: a small log's rate from them is rougher)
        assert results[f"{phase}_per_s"] == pytest.approx(results["log_size"] / min(runs), rel=0.1)
        assert results[f"{phase}_per_s"] >= results["log_size"] / max(runs)
    assert results["tile_gets"] > 0 and results["tile_p99_ms"] > 0
    assert results["receipt_verify_ms"] > 0 and results["peak_rss_mb"] > 0
    assert results["import_ratio"] == pytest.approx(
        results["import_per_s"] / results["raw_verify_per_s"], abs=1e-3
    )
    assert set(results["pass"]) == set(results["targets"])
    assert results["all_pass"] == all(results["pass"].values())
    assert (proc.returncode == 0) == results["all_pass"]
    machine = results["machine"]
    assert machine["cores"] >= 1 and machine["python"] and "SQLite" in machine["database"]
