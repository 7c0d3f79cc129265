"""(being written) ``glasspocket log restore DIR_OR_URL --db URL``."""

from __future__ import annotations

from api.cli_common import usage


def log_restore() -> None:
    """Rebuild a community from its published export (being written)."""
    raise usage("not written yet", "尚未实现")
