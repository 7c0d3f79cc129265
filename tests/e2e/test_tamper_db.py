"""Rows changed or deleted behind the application's back are found by the verifier.

The database refuses updates and deletes of stored log rows (triggers). Someone with the
database's own credentials can still drop the triggers and edit rows; these tests do
exactly that on a copy of the demo database (SQLite), then export the log with the real
command line and run ``glasspocket-verify log`` on the export: each edit is a violation
that names where it is, because the cosigned checkpoint commits to the original tree.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Run
from forgery import DemoExport

TRIGGERS = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'gp_immutable_%'"


def tampered_copy(
    demo: DemoExport, folder: Path, edit: Callable[[sqlite3.Connection], None]
) -> str:
    """A copy of the demo database without its immutability triggers, after ``edit``."""
    path = folder / "tampered.db"
    shutil.copy(demo.db_url.removeprefix("sqlite:///"), path)
    with sqlite3.connect(path) as conn:
        for (name,) in conn.execute(TRIGGERS).fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        edit(conn)
    conn.close()
    return f"sqlite:///{path}"


def alter_entry(conn: sqlite3.Connection) -> None:
    """Entry #40's amount or text, edited inside its stored event."""
    (state,) = conn.execute(
        "SELECT state FROM glasspocket_events WHERE originator_version = 41"
    ).fetchone()
    data = bytes(state)
    edited = data.replace(b'\\"at\\":\\"2025', b'\\"at\\":\\"2024', 1)
    assert edited != data
    conn.execute("UPDATE glasspocket_events SET state = ? WHERE originator_version = 41", (edited,))


def alter_leaf(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE gp_leaves SET hash = zeroblob(32) WHERE idx = 300")


def delete_leaf(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM gp_leaves WHERE idx = 1000")


def alter_tile(conn: sqlite3.Connection) -> None:
    """One byte of the stored full tile at level 0, index 2."""
    (data,) = conn.execute("SELECT data FROM gp_tiles WHERE level = 0 AND idx = 2").fetchone()
    edited = bytearray(data)
    edited[5] ^= 0xFF
    conn.execute("UPDATE gp_tiles SET data = ? WHERE level = 0 AND idx = 2", (bytes(edited),))


def delete_entry(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM glasspocket_events WHERE originator_version = 2000")


@pytest.mark.parametrize(
    "edit",
    [alter_entry, alter_leaf, delete_leaf, alter_tile, delete_entry],
    ids=["altered-entry", "altered-leaf", "deleted-leaf", "altered-tile", "deleted-entry"],
)
def test_rows_edited_behind_the_application_are_found(
    run: Run, demo: DemoExport, tmp_path: Path, edit: Callable[[sqlite3.Connection], None]
) -> None:
    """Given the demo database with one row edited behind the application's back, its
    export fails ``glasspocket-verify log`` with a violation that names the tiles or the
    entry; or the export itself refuses to publish the damaged log."""
    db = tampered_copy(demo, tmp_path, edit)
    out = tmp_path / "export"
    proc = run("glasspocket", "log", "export", "-c", "demo", "--db", db,
               "--keys", demo.keys, out)  # fmt: skip
    if proc.returncode != 0:  # the store itself noticed: nothing was published
        assert "Traceback" not in proc.stderr, proc.stderr
        assert "error [" in proc.stderr, proc.stderr
        return
    verdict = run("glasspocket-verify", "--lang", "en", "log", out, "--policy", demo.policy)
    assert verdict.returncode == 1, verdict.stdout + verdict.stderr
    assert "VIOLATION" in verdict.stdout
    assert "tiles:" in verdict.stdout or "#" in verdict.stdout.split("VIOLATION", 1)[1]
