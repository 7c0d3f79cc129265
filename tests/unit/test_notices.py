"""Notices (ledger.core.notices): bank differences and units due a top-up, shown, never refused."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from ledger.core.effects import Books
from ledger.core.notices import Notice, notices
from ledger.core.state import BankAssertion, CommunityState


def state_with(
    subaccounts: dict[str, int] | None = None,
    first_deposits: dict[str, int] | None = None,
    bank: dict[str, BankAssertion] | None = None,
) -> CommunityState:
    subaccounts = subaccounts or {}
    books = Books(
        funds={"maintenance": sum(subaccounts.values())} if subaccounts else {},
        subaccounts=dict(subaccounts),
        first_deposits=dict(first_deposits or {}),
    )
    return CommunityState(books=books, bank=dict(bank or {}))


def test_no_books_no_notices() -> None:
    assert notices(CommunityState()) == []


def test_a_notice_is_frozen_data() -> None:
    notice = Notice("bank_difference", "en", "zh", "property")
    with pytest.raises(dataclasses.FrozenInstanceError):
        notice.code = "other"  # type: ignore[misc]


def test_a_bank_difference_is_shown_with_both_amounts_in_yuan() -> None:
    """Given the bank says 1,234.56 yuan and the books said 1,200.00, then the notice shows both
    and the difference +34.56, in English and Chinese."""
    state = state_with(bank={"property": BankAssertion(7, "2025-03-31", 123_456, 120_000)})
    [notice] = notices(state)
    assert (notice.code, notice.where) == ("bank_difference", "property")
    for text in (notice.en, notice.zh):
        assert "1,234.56" in text and "1,200.00" in text and "+34.56" in text
        assert "2025-03-31" in text
    assert "物业费信托账户" in notice.zh


def test_a_bank_balance_below_the_books_shows_a_negative_difference() -> None:
    state = state_with(bank={"maintenance": BankAssertion(3, "2025-01-31", 0, 5)})
    [notice] = notices(state)
    assert "-0.05" in notice.en and "-0.05" in notice.zh


def test_an_agreeing_assertion_shows_nothing_and_funds_come_in_catalogue_order() -> None:
    state = state_with(
        bank={
            "community": BankAssertion(9, "2025-01-31", 2, 1),
            "property": BankAssertion(8, "2025-01-31", 5, 5),
            "maintenance": BankAssertion(7, "2025-01-31", 1, 2),
        }
    )
    assert [n.where for n in notices(state)] == ["maintenance", "community"]


@pytest.mark.parametrize(
    ("balance", "first", "flagged"),
    [
        (30_000, 100_000, False),  # exactly 30% is not below
        (29_999, 100_000, True),
        (100_000, 100_000, False),
        (0, 100_000, True),
        (1, 3, False),  # 33.3%
        (0, 1, True),
    ],
)
def test_a_unit_below_the_ratio_of_its_first_deposit_is_flagged(
    balance: int, first: int, flagged: bool
) -> None:
    state = state_with({"1-101": balance} if balance else {}, {"1-101": first})
    found = notices(state)
    assert [(n.code, n.where) for n in found] == ([("top_up_due", "1-101")] if flagged else [])


def test_the_ratio_is_a_charter_setting() -> None:
    state = state_with({"1-101": 49_999}, {"1-101": 100_000})
    assert notices(state, top_up_ratio_percent=30) == []
    assert [n.where for n in notices(state, top_up_ratio_percent=50)] == ["1-101"]
    assert notices(state, top_up_ratio_percent=0) == []


def test_units_without_a_first_deposit_are_not_flagged() -> None:
    state = state_with({"1-101": 5, "1-102": -500, "1-103": 100}, {"1-103": 100})
    assert notices(state) == []


def test_a_negative_sub_account_says_the_unit_owes_the_fund() -> None:
    state = state_with({"1-101": -2_550, "2-101": 100_000}, {"1-101": 10_000, "2-101": 100_000})
    [notice] = notices(state)
    assert notice.where == "1-101"
    assert "owes" in notice.en and "25.50" in notice.en and "-25.50" in notice.en
    assert "补足" in notice.zh and "25.50" in notice.zh


def test_a_positive_shortfall_names_the_ratio_and_the_first_deposit() -> None:
    state = state_with({"1-101": 100}, {"1-101": 10_000})
    [notice] = notices(state)
    assert "30%" in notice.en and "100.00" in notice.en and "1.00" in notice.en
    assert "续筹" in notice.zh and "30%" in notice.zh
    assert "owes" not in notice.en and "补足" not in notice.zh


def test_units_come_in_utf8_code_order_after_bank_notices() -> None:
    state = state_with(
        {"9-1": 1, "10-1": 1, "2-1": 1},
        {"9-1": 100, "10-1": 100, "2-1": 100},
        {"property": BankAssertion(1, "2025-01-31", 1, 0)},
    )
    assert [n.where for n in notices(state)] == ["property", "10-1", "2-1", "9-1"]


def test_notices_do_not_change_the_state() -> None:
    state = state_with({"1-101": -1}, {"1-101": 100}, {"property": BankAssertion(1, "x", 1, 0)})
    before = copy.deepcopy(state)
    notices(state)
    assert state == before
