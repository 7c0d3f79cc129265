"""Money arithmetic (ledger.core.money): every rounding rule of DOMAIN.md, by known answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.core.money import (
    apportion,
    basis_points_of,
    monthly_charge_fen,
    percentage_text,
    round_half_up_div,
    shanghai_date,
    shanghai_month,
    yuan,
)

# --- apportion ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "weights", "expected"),
    [
        # 100 over 1:1:1 -> 33 each, 1 left; remainders all equal -> first code by bytes.
        (100, {"b": 1, "a": 1, "c": 1}, {"a": 34, "b": 33, "c": 33}),
        # 101 over 1:1:1 -> two left, to "a" and "b".
        (101, {"c": 1, "b": 1, "a": 1}, {"a": 34, "b": 34, "c": 33}),
        # Largest remainder wins over code order: 10 over 1:2 -> 3.33 / 6.67 -> "z" gets the fen.
        (10, {"a": 1, "z": 2}, {"a": 3, "z": 7}),
        # Exact split: no remainder.
        (900, {"x": 1, "y": 2}, {"x": 300, "y": 600}),
        # One fen over three equal units: to the first code.
        (1, {"3-1-502": 5, "3-1-501": 5, "3-1-503": 5}, {"3-1-501": 1, "3-1-502": 0, "3-1-503": 0}),
        # Known answer with areas (cm²): 1000.00 yuan over 89.5 / 120 / 60.25 m².
        (
            100_000,
            {"1-101": 895_000, "1-102": 1_200_000, "2-101": 602_500},
            {"1-101": 33_179, "1-102": 44_486, "2-101": 22_335},
        ),
    ],
)
def test_apportion_known_answers(
    amount: int, weights: dict[str, int], expected: dict[str, int]
) -> None:
    assert apportion(amount, weights) == expected
    assert sum(expected.values()) == amount


def test_apportion_known_answer_follows_the_formula_by_hand() -> None:
    """100000 over 895000/1200000/602500 (Σ 2697500): floors 33178/44485/22335, remainders decide."""
    weights = {"1-101": 895_000, "1-102": 1_200_000, "2-101": 602_500}
    total = sum(weights.values())
    floors = {k: 100_000 * w // total for k, w in weights.items()}
    remainders = {k: 100_000 * w % total for k, w in weights.items()}
    assert floors == {"1-101": 33_178, "1-102": 44_485, "2-101": 22_335}
    assert 100_000 - sum(floors.values()) == 2
    assert sorted(remainders, key=lambda k: -remainders[k])[:2] == ["1-101", "1-102"]


def test_ties_go_to_the_code_first_by_utf8_bytes_not_by_number() -> None:
    """ "10-1" sorts before "9-1" by bytes ('1' < '9'), so it gets the tied fen."""
    assert apportion(1, {"9-1": 1, "10-1": 1}) == {"10-1": 1, "9-1": 0}
    assert apportion(1, {"10-1": 1, "9-1": 1}) == {"10-1": 1, "9-1": 0}
    assert apportion(3, {"9-1": 1, "10-1": 1, "10-2": 1, "9-2": 1}) == {
        "10-1": 1,
        "10-2": 1,
        "9-1": 1,
        "9-2": 0,
    }


def test_ties_with_non_ascii_codes_follow_utf8_bytes() -> None:
    """Upper case (0x41..) < lower case (0x61..) < 'é' (0xC3 0xA9) < '栋' (0xE6 0xA0 0x8B)."""
    weights = {"栋1": 1, "é1": 1, "a1": 1, "A1": 1}
    assert sorted(weights, key=lambda k: k.encode()) == ["A1", "a1", "é1", "栋1"]
    assert apportion(1, weights) == {"A1": 1, "a1": 0, "é1": 0, "栋1": 0}
    assert apportion(2, weights) == {"A1": 1, "a1": 1, "é1": 0, "栋1": 0}
    assert apportion(3, weights) == {"A1": 1, "a1": 1, "é1": 1, "栋1": 0}
    # Astral characters: UTF-8 bytes order them by code point, above every BMP character.
    assert apportion(1, {"😀": 1, "\uffee": 1}) == {"\uffee": 1, "😀": 0}


def test_zero_weights_get_nothing_even_with_fen_left_over() -> None:
    assert apportion(5, {"a": 0, "b": 1, "c": 1}) == {"a": 0, "b": 3, "c": 2}
    assert apportion(7, {"a": 0, "b": 3}) == {"a": 0, "b": 7}


def test_zero_amount_and_zero_total_weight() -> None:
    assert apportion(0, {"a": 0, "b": 0}) == {"a": 0, "b": 0}
    assert apportion(0, {"a": 1}) == {"a": 0}
    assert apportion(0, {}) == {}
    with pytest.raises(ValueError):
        apportion(1, {"a": 0})
    with pytest.raises(ValueError):
        apportion(1, {})


def test_negative_weights_are_refused() -> None:
    with pytest.raises(ValueError):
        apportion(10, {"a": 2, "b": -1})


@pytest.mark.parametrize(
    ("amount", "weights"),
    [
        (100, {"b": 1, "a": 1, "c": 1}),
        (10, {"a": 1, "z": 2}),
        (100_000, {"1-101": 895_000, "1-102": 1_200_000, "2-101": 602_500}),
        (3, {"9-1": 1, "10-1": 1, "10-2": 1, "9-2": 1}),
    ],
)
def test_a_negative_amount_mirrors_the_positive_split(amount: int, weights: dict[str, int]) -> None:
    """A draw or a reversal (negative) is the exact negation of the positive split, not floor(-x)."""
    positive = apportion(amount, weights)
    assert apportion(-amount, weights) == {k: -v for k, v in positive.items()}


def test_apportion_does_not_change_its_input_and_keeps_every_key() -> None:
    weights = {"b": 2, "a": 1}
    shares = apportion(5, weights)
    assert weights == {"b": 2, "a": 1}
    assert set(shares) == set(weights)


# --- fee charges, percentages, basis points -----------------------------------------------


@pytest.mark.parametrize(
    ("rate", "area_cm2", "expected"),
    [
        (300, 895_000, 26_850),  # 3.00 yuan/m² × 89.5 m² = 268.50 yuan exactly
        (250, 10_000, 250),  # one m²
        (1, 5_000, 1),  # exactly 0.5 fen -> rounds up
        (1, 4_999, 0),  # just below .5 -> down
        (1, 15_000, 2),  # exactly 1.5 -> 2
        (1, 25_000, 3),  # exactly 2.5 -> 3 (half up, not half even)
        (3, 5_000, 2),  # 1.5 -> 2
        (199, 12_345, 246),  # 245.6655 -> 246
        (150, 1_010_001, 15_150),  # 15150.015 -> 15150
    ],
)
def test_monthly_charge_rounds_half_up_to_the_fen(rate: int, area_cm2: int, expected: int) -> None:
    assert monthly_charge_fen(rate, area_cm2) == expected


def test_round_half_up_div() -> None:
    assert round_half_up_div(5, 2) == 3
    assert round_half_up_div(7, 2) == 4
    assert round_half_up_div(4, 3) == 1
    assert round_half_up_div(5, 3) == 2
    assert round_half_up_div(0, 7) == 0
    assert round_half_up_div(-1, 2) == 0  # half up means towards +infinity
    with pytest.raises(ValueError):
        round_half_up_div(1, 0)


@pytest.mark.parametrize(
    ("numerator", "denominator", "text"),
    [
        (2, 3, "66.67%"),
        (1, 3, "33.33%"),
        (1, 8, "12.50%"),
        (1, 1, "100.00%"),
        (0, 5, "0.00%"),
        (1, 16, "6.25%"),
        (1, 32, "3.13%"),  # 3.125 exactly -> 3.13 (half up)
        (3, 32, "9.38%"),  # 9.375 -> 9.38
        (5, 32, "15.63%"),  # 15.625 -> 15.63
        (1, 400, "0.25%"),
        (1, 80_000, "0.00%"),  # 0.00125 -> 0.00
        (1, 40_000, "0.00%"),  # 0.0025 -> 0.00
        (1, 20_000, "0.01%"),  # 0.005 exactly -> 0.01
        (8735, 10_000, "87.35%"),
        (3, 2, "150.00%"),
    ],
)
def test_percentage_text_is_two_decimals_half_up(
    numerator: int, denominator: int, text: str
) -> None:
    assert percentage_text(numerator, denominator) == text


def test_percentage_of_nothing_due_is_a_dash() -> None:
    assert percentage_text(0, 0) == "—"


@pytest.mark.parametrize(
    ("amount", "bp", "expected"),
    [
        (100_000, 800, 8_000),  # 8% of 1000.00 yuan
        (99_999, 800, 7_999),  # 7999.92 -> 7999 (down)
        (12_345, 1, 1),  # 1.2345 -> 1
        (9_999, 1, 0),  # 0.9999 -> 0
        (26_850, 1_250, 3_356),  # 3356.25 -> 3356
        (26_851, 10_000, 26_851),
        (0, 800, 0),
    ],
)
def test_basis_points_round_down_to_the_fen(amount: int, bp: int, expected: int) -> None:
    assert basis_points_of(amount, bp) == expected


# --- Shanghai calendar ------------------------------------------------------------------


def test_shanghai_month_across_midnight_utc() -> None:
    """2025-01-31T16:30Z is 2025-02-01 00:30 in Shanghai: February."""
    assert shanghai_month(datetime(2025, 1, 31, 16, 30, tzinfo=UTC)) == "2025-02"
    assert shanghai_month(datetime(2025, 1, 31, 15, 59, 59, tzinfo=UTC)) == "2025-01"
    assert shanghai_month(datetime(2025, 1, 31, 16, 0, tzinfo=UTC)) == "2025-02"
    assert shanghai_date(datetime(2025, 1, 31, 16, 30, tzinfo=UTC)) == "2025-02-01"
    assert shanghai_month(datetime(2024, 12, 31, 16, 0, tzinfo=UTC)) == "2025-01"


def test_shanghai_month_of_an_instant_in_another_zone() -> None:
    at = datetime.fromisoformat("2025-03-01T00:30:00+09:00")  # 2025-02-28T23:30 in Shanghai
    assert shanghai_month(at) == "2025-02"


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "0.00"), (5, "0.05"), (26_850, "268.50"), (123_456_789, "1,234,567.89"), (-1, "-0.01")],
)
def test_yuan_text(fen: int, text: str) -> None:
    assert yuan(fen) == text
