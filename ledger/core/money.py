"""Money arithmetic in integer fen: apportionment, fee charges, remuneration, percentages.

Every rounding rule that could be read two ways is decided here, once, as
DOMAIN.md says, and used by the rules, the projections and the statements alike.
No floats: amounts are ``int`` fen, ratios are integer pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
CM2_PER_M2 = 10_000
BASIS_POINTS = 10_000


def apportion(amount: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``amount`` fen over ``weights`` exactly (DOMAIN.md "Apportionment is exact").

    share_i = floor(amount × w_i / Σw); the remaining fen go one each to the largest
    remainders (amount × w_i mod Σw), ties to the key that sorts first by its UTF-8
    bytes. The shares always sum to ``amount``. Zero weights get zero. ``amount`` may
    be negative (a reversal), in which case the split mirrors the positive one.
    """
    if amount < 0:
        return {key: -share for key, share in apportion(-amount, weights).items()}
    total = sum(weights.values())
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    if total == 0:
        if amount:
            raise ValueError("cannot apportion a non-zero amount over zero total weight")
        return dict.fromkeys(weights, 0)
    shares = {key: amount * w // total for key, w in weights.items()}
    left = amount - sum(shares.values())
    order = sorted(weights, key=lambda key: (-(amount * weights[key] % total), key.encode("utf-8")))
    for key in order[:left]:
        shares[key] += 1
    return shares


def round_half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up (towards +∞ at .5), for a positive denominator."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    return (2 * numerator + denominator) // (2 * denominator)


def monthly_charge_fen(rate_fen_per_m2: int, area_cm2: int) -> int:
    """A unit's monthly property fee: rate × area_cm2 / 10,000, rounded half up to the fen."""
    return round_half_up_div(rate_fen_per_m2 * area_cm2, CM2_PER_M2)


def percentage_text(numerator: int, denominator: int) -> str:
    """numerator/denominator as a percentage with two decimals, rounded half up ("87.35%")."""
    if denominator <= 0:
        return "—"
    hundredths = round_half_up_div(numerator * 10_000, denominator)
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def basis_points_of(amount: int, basis_points: int) -> int:
    """``basis_points`` ‱ of ``amount``, rounded down to the fen (remuneration)."""
    return amount * basis_points // BASIS_POINTS


def shanghai_month(at: datetime) -> str:
    """The calendar month (YYYY-MM) of an instant in Asia/Shanghai."""
    return at.astimezone(SHANGHAI).strftime("%Y-%m")


def shanghai_date(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d")


def yuan(fen: int) -> str:
    """Fen as yuan text with thousands separators: 123456789 → '1,234,567.89'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"
