"""(being written) ``glasspocket notice PERIOD --out FILE.pdf|.html``."""

from __future__ import annotations

from api.cli_common import usage


def notice() -> None:
    """The paper notice (公示) of a quarter's statement: PDF or HTML (being written)."""
    raise usage("not written yet", "尚未实现")
