"""The cyclic garbage collector held off during bulk work (an import, a projection catch-up).

Such work allocates many objects that reference counting frees (parsed cells, entries,
rows) while long-lived, acyclic state grows (a draft's state, the folded read models):
the collector's passes meanwhile walk that state again and again, cost a growing share of
the time and free nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic GC off meanwhile, and as it was after.

    After, what was allocated meanwhile joins the oldest generation unscanned (freeze,
    unfreeze): otherwise the next young collection would walk all of it at once. The
    next full collection frees whatever cyclic garbage is among it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
