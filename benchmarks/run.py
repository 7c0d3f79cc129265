"""Run the benchmark suite: ``python benchmarks/run.py [--entries N] [--json FILE] [--db URL]``.

The same as ``glasspocket bench``; the code lives in ``api/bench*.py`` (an installed
package), this script only calls it. Results go to ``benchmarks/results/`` by default.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from api.cli import app


def main(argv: list[str]) -> None:
    args = list(argv)
    if "--json" not in args:
        entries = args[args.index("--entries") + 1] if "--entries" in args else "10000"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = Path(__file__).parent / "results" / f"bench-{entries}-{stamp}.json"
        args += ["--json", str(out)]
    app(["bench", *args])


if __name__ == "__main__":
    main(sys.argv[1:])
