"""``glasspocket demo`` again on the same database: idempotent for its host, refused for another."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import run_command
from forgery import DemoExport


def test_demo_again_for_its_own_host_records_nothing_new(demo: DemoExport, tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    shutil.copy(demo.db_url.removeprefix("sqlite:///"), db)
    common = ("--no-serve", "--db", f"sqlite:///{db}", "--keys", demo.keys)
    proc = run_command("glasspocket", "demo", *common)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3318 entries" in proc.stdout


def test_demo_for_another_port_is_refused_with_the_port_to_use(
    demo: DemoExport, tmp_path: Path
) -> None:
    db = tmp_path / "demo.db"
    shutil.copy(demo.db_url.removeprefix("sqlite:///"), db)
    common = ("--no-serve", "--db", f"sqlite:///{db}", "--keys", tmp_path / "keys")
    proc = run_command("glasspocket", "demo", "--port", "9123", *common)
    assert proc.returncode == 1
    assert "[demo_other_host]" in proc.stdout + proc.stderr
    assert "--port 8000" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    zh = run_command("glasspocket", "demo", "--port", "9123", *common, lang="zh_CN.UTF-8")
    assert "请使用 --port 8000" in zh.stdout + zh.stderr
