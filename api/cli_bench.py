"""``glasspocket bench [--entries N] [--json FILE] [--db URL]``: the benchmark suite (``api.bench``).

Prints progress on stderr, then a table of every figure with its ratio to this
machine's single-core Ed25519 verify rate and pass/fail against the targets; with
``--json FILE`` writes every figure and the machine it ran on. Exit status 0 when
every target is met, 1 otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from api.cli_common import err, out

EntriesOpt = Annotated[
    int, typer.Option("--entries", min=20, help="log size to build: 10000, 100000 (1M: long run)")
]
JsonFileOpt = Annotated[
    Path | None, typer.Option("--json", help="write every figure and the machine to this file")
]
BenchDbOpt = Annotated[
    str | None,
    typer.Option("--db", help="an EMPTY database URL to use (default: a temporary SQLite file)"),
]

ROWS = (
    ("raw_verify_per_s", "raw Ed25519 verify (1 core) 单核验签", "/s", None),
    ("import_per_s", "import 导入", "/s", "import_ratio"),
    ("http_per_s", "HTTP POST, 50 clients 并发提交", "/s", "http_ratio"),
    ("audit_per_s", "audit 全量审计", "/s", "audit_ratio"),
    ("rebuild_per_s", "projection rebuild 重建投影", "/s", "rebuild_per_s"),
    ("receipt_verify_ms", "receipt verify 收据验证", "ms", "receipt_verify_ms"),
    ("tile_p99_ms", "tile GET p99 瓦片读取", "ms", "tile_p99_ms"),
    ("audit_peak_rss_mb", "audit peak memory 审计内存峰值", "MB", "audit_peak_rss_mb"),
    ("server_peak_rss_mb", "server peak memory 服务内存峰值", "MB", None),
)


def table(results: dict[str, Any]) -> Table:
    view = Table(title=f"Glass Pocket bench · {results['log_size']} entries")
    for column in ("figure", "value", "× raw verify", "target", "pass"):
        view.add_column(column, justify="left" if column == "figure" else "right")
    for key, label, unit, target in ROWS:
        value = results[key]
        ratio_key = key.replace("_per_s", "_ratio")
        shown = key.endswith("_per_s") and key != "raw_verify_per_s" and ratio_key in results
        ratio = f"{results[ratio_key]:.2f}" if shown else ""
        goal = results["targets"].get(target, "") if target else ""
        verdict = ("✓" if results["pass"][target] else "✗") if target else ""
        view.add_row(label, f"{value:,.1f} {unit}", ratio, goal, verdict)
    return view


def bench(
    entries: EntriesOpt = 10_000, json_file: JsonFileOpt = None, db: BenchDbOpt = None
) -> None:
    """Benchmarks against this machine's Ed25519 verify rate. 基准测试。"""
    from api.bench import run_bench

    results = run_bench(entries, db, lambda line: err.print(line, highlight=False))
    m = results["machine"]
    out.print(
        f"{m['cpu']} · {m['cores']} cores · {m['ram_gb']} GB · Python {m['python']} · "
        f"{m['database']} · load {m['load_average'][0]:.2f} · "
        f"all cores verify at {results['core_scaling']:.2f} of cores × one "
        f"(所有核心同时验签的效率) · process round trip {results['wakeup_round_trip_us']:.0f} µs",
        highlight=False,
    )
    out.print(table(results))
    if "http_vs_bare" in results:
        out.print(
            f"a bare FastAPI endpoint doing only JCS and one verification (裸 FastAPI 对照): "
            f"{results['http_bare_per_s']:,.0f} /s = {results['http_bare_ratio']:.2f} × raw verify; "
            f"Glass Pocket's POSTs made {results['http_vs_bare']:.2f} of it",
            highlight=False,
        )
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    if not results["all_pass"]:
        raise typer.Exit(1)
