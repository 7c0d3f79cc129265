"""The entry parser's fast canonical form is byte for byte RFC 8785 (``rfc8785``) on checked data."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.entry import MalformedError, canonical_bytes

KEYS = st.text(alphabet=st.characters(codec="utf-8"), max_size=6) | st.sampled_from(
    ["\U0001f600", "\ufb01", "\ue000", "a\U00010000", "é", "\x7f", "\u2028"]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(alphabet=st.characters(codec="utf-8"))
    | st.sampled_from(["\ud800", "a\udfffb", '"\\\b\f\n\r\t\x00\x1f'])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)


def reference(value: dict[str, Any]) -> bytes | None:
    try:
        return bytes(rfc8785.dumps(value))
    except (TypeError, ValueError):
        return None


def fast(value: dict[str, Any]) -> bytes | None:
    try:
        return canonical_bytes(value)
    except MalformedError:
        return None


@settings(max_examples=800)
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_fast_canonical_form_is_rfc8785(value: dict[str, Any]) -> None:
    assert fast(value) == reference(value)
