"""The benchmark's child processes: each runs a real command and times only the command.

``python -m api.bench_child import ARGS… RESULT.json`` runs ``glasspocket import``
exactly as a user would, in a fresh process; the clock starts after the interpreter
has loaded the modules (the store's persistence modules too, which eventsourcing would
load when the ledger opens) and typer has built the command, so a short run is not
dominated by start-up. The result file
gets the seconds, the exit status and the process's peak resident memory.
``serve`` runs ``glasspocket serve``. (The audit's child, ``glasspocket-verify log``
alone, is ``api.bench.AUDIT_CHILD``: it must not import this package's server stack.)
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss keeps the parent's across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _write(result_file: str, seconds: float, status: int, output: str) -> None:
    Path(result_file).write_text(
        json.dumps(
            {
                "seconds": seconds,
                "status": status,
                "peak_rss_mb": _peak_rss_mb(),
                "output": output[-4000:],
            }
        ),
        encoding="utf-8",
    )


def run_import(db_url: str, keys: str, bank: str, key_file: str, result: str) -> None:
    import eventsourcing_sqlalchemy.factory  # noqa: F401 (the store's modules, loaded on open)
    import typer.main

    from api.cli import app

    args = ["import", bank, "--community", "bench", "--key", key_file, "--db", db_url]
    args += ["--keys", keys]
    sink = io.StringIO()
    command = typer.main.get_command(app)  # the CLI's start-up, like loading its modules
    start = time.perf_counter()
    status = 0
    with contextlib.redirect_stdout(sink):
        try:
            command(args, standalone_mode=False)
        except SystemExit as exc:  # typer.Exit is turned into SystemExit by click
            status = int(exc.code or 0)
        except Exception as exc:  # reported, not raised: the parent prints it
            status, sink = 1, io.StringIO(f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - start
    _write(result, seconds, status, sink.getvalue())


def run_serve(db_url: str, keys: str, port: str) -> None:
    from api.cli import app

    app(["serve", "--db", db_url, "--keys", keys, "--port", port], standalone_mode=False)


def main(argv: list[str]) -> None:
    command, args = argv[0], argv[1:]
    if command == "import":
        run_import(*args)
    elif command == "serve":
        run_serve(*args)
    else:
        raise SystemExit(f"unknown child command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
