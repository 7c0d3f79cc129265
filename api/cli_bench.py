"""(being written) ``glasspocket bench [--entries N] [--json FILE]``."""

from __future__ import annotations

from api.cli_common import usage


def bench() -> None:
    """Benchmarks against the machine's Ed25519 verify rate (being written)."""
    raise usage("not written yet", "尚未实现")
