"""``gc_paused``: the cyclic collector off during bulk work, and as it was after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ledger.core.gcpause import gc_paused


@pytest.fixture
def collector() -> Iterator[None]:
    """Whatever a test does to the collector, the next test finds it as it was."""
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_off_inside_and_as_it_was_after(collector: None, enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()

    with gc_paused():
        assert not gc.isenabled()

    assert gc.isenabled() is enabled
    assert gc.get_freeze_count() == 0  # what was allocated meanwhile is back among the rest


def test_an_error_inside_leaves_the_collector_as_it_was(collector: None) -> None:
    gc.enable()

    with pytest.raises(ValueError, match="inside"), gc_paused():
        raise ValueError("inside")

    assert gc.isenabled()


def test_cyclic_garbage_made_meanwhile_is_still_collected(collector: None) -> None:
    """Objects made while paused are not lost to the collector (frozen, then unfrozen)."""
    gc.enable()

    class Node:
        other: object = None

    with gc_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        count = len([o for o in gc.get_objects() if isinstance(o, Node)])
        del a, b

    assert count == 2
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, Node)]
