"""End-to-end fixtures: the demo community built and exported by the real command line.

``demo`` runs, once per session, exactly what a user types:

    glasspocket demo --no-serve --db sqlite:///<tmp>/demo.db --keys <tmp>/keys
    glasspocket log export --community demo --db ... --keys ... <tmp>/export

Every test gets its own ``$XDG_STATE_HOME`` (``state_home``), so the verifier's
checkpoint memory and fork evidence never leak between tests or into the user's home.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import replay_helpers
from forgery import DemoExport

from api.demo_witnesses import WITNESSES
from ledger.core.keys import SigningKey

BIN = Path(sys.executable).parent
Run = Callable[..., subprocess.CompletedProcess[str]]


def run_command(
    program: str, *args: str | Path, lang: str = "en", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a console script of this venv as a user would, in language ``lang`` (LANG)."""
    environment = dict(os.environ if env is None else env)
    for variable in ("LC_ALL", "LC_MESSAGES"):  # they would override LANG
        environment.pop(variable, None)
    environment["LANG"] = lang
    environment.setdefault("COLUMNS", "200")  # keep rich from wrapping error lines
    return subprocess.run(
        [str(BIN / program), *(str(a) for a in args)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _must(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"{proc.args} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def build_demo_export(folder: Path) -> DemoExport:
    """Build the demo and export its log with the real command line under ``folder``."""
    db_url = f"sqlite:///{folder / 'demo.db'}"
    keys, export = folder / "keys", folder / "export"
    common = ("--db", db_url, "--keys", keys)
    _must(run_command("glasspocket", "demo", "--no-serve", *common))
    _must(run_command("glasspocket", "log", "export", "--community", "demo", *common, export))
    log_key = SigningKey.load(keys / "log.key")
    witnesses = tuple(SigningKey.load(keys / f"{handle}.key") for _, handle, _ in WITNESSES)
    return DemoExport(db_url, keys, export, export / "policy", log_key, witnesses)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoExport:
    return build_demo_export(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def base(demo: DemoExport, tmp_path_factory: pytest.TempPathFactory) -> replay_helpers.Base:
    """The demo's database copied, with lawful money and governance entries appended."""
    return replay_helpers.build_base(demo, tmp_path_factory.mktemp("replay"))


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh $XDG_STATE_HOME for this test; subprocesses inherit it."""
    state = tmp_path / "xdg-state"
    state.mkdir()
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state


@pytest.fixture
def run(state_home: Path) -> Run:
    """``run(program, *args, lang="en")``: a console script with this test's state dir."""

    def go(program: str, *args: str | Path, lang: str = "en") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "XDG_STATE_HOME": str(state_home)}
        return run_command(program, *args, lang=lang, env=env)

    return go
