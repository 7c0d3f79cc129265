"""Body schemas and signer roles of the money entries (DOMAIN.md "The four funds").

Money is integer fen in fields ending ``_fen``. Money-out entries carry an optional
``proposal_id``: the authorising proposal, enforced once governance entries exist.
"""

from __future__ import annotations

from collections.abc import Mapping

from ledger.core.schema import Bool, Enum, Fen, Int, ListOf, Obj, Str

FUNDS = ("property", "maintenance", "public_revenue", "community")
UNIT_PATTERN = r"[0-9A-Za-z][0-9A-Za-z-]{0,31}"
MONTH_PATTERN = r"\d{4}-(0[1-9]|1[0-2])"
DATE_PATTERN = r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SHA256_PATTERN = r"[0-9a-f]{64}"
PURPOSE_PATTERN = r"[^\s].{0,99}"

EXPENSE_CATEGORIES = (
    "cleaning", "security", "greening", "repairs", "elevator", "fire_safety", "utilities",
    "insurance", "management", "office", "events", "revenue_cost", "other",
)  # fmt: skip
REVENUE_SOURCES = ("parking", "advertising", "venue", "locker", "telecom", "other")

_unit = Str(UNIT_PATTERN, 32, "a unit code, e.g. 3-1-502")
_fund = Enum(FUNDS, "one of the four funds")
_month = Str(MONTH_PATTERN, 7, "a calendar month, YYYY-MM")
_proposal = Str(UUID_PATTERN, 36, "the authorising proposal's entry id")
_text = Str(max_length=500, description="free text shown on disclosures")
_payee = Str(max_length=200, description="who was paid (a company, never a private person's ID)")
_documents = ListOf(Str(SHA256_PATTERN, 64, "SHA-256 of a document (hex)"), max_items=50)
_reference = Str(max_length=100, description="bank or receipt reference")
_method = Enum(("bank", "cash", "wechat", "alipay", "other"))

MONEY_BODIES: Mapping[str, Obj] = {
    "contribution.received": Obj(
        {
            "fund": Enum(("property", "maintenance"), "property fees or the maintenance fund"),
            "unit": _unit,
            "amount_fen": Fen(),
            "month": Str(MONTH_PATTERN, 7, "property fees: the month they pay for (YYYY-MM)"),
            "deposit": Enum(("initial", "top_up"), "maintenance: first deposit or top-up"),
            "method": _method,
            "reference": _reference,
        },
        optional=("month", "deposit", "method", "reference"),
        description="Money received from a unit: property fees (by month) or a maintenance deposit.",
    ),
    "interest.credited": Obj(
        {"fund": _fund, "amount_fen": Fen(), "period": _text, "reference": _reference},
        optional=("period", "reference"),
        description="Bank interest; on the maintenance fund it is allocated by sub-account balance.",
    ),
    "revenue.received": Obj(
        {
            "source": Enum(REVENUE_SOURCES),
            "amount_fen": Fen(),
            "description": _text,
            "reference": _reference,
        },
        optional=("description", "reference"),
        description="Common revenue (公共收益) from common parts: parking, advertising, venues…",
    ),
    "donation.received": Obj(
        {
            "kind": Enum(
                ("donation", "sponsorship", "grant"), "a gift, a sponsorship or a government grant"
            ),
            "amount_fen": Fen(),
            "purpose": Str(
                PURPOSE_PATTERN, 100, "the donor's restricted purpose (absent: unrestricted)"
            ),
            "donor": Str(max_length=200, description="the donor's name, only with their consent"),
            "donor_consent": Bool("the donor agreed to be named"),
            "reference": _reference,
        },
        optional=("purpose", "donor", "donor_consent", "reference"),
        description="Money given to the community fund, restricted to a purpose or not.",
    ),
    "expense.paid": Obj(
        {
            "fund": Enum(("property", "public_revenue", "community")),
            "category": Enum(EXPENSE_CATEGORIES),
            "amount_fen": Fen(),
            "payee": _payee,
            "description": _text,
            "purpose": Str(
                PURPOSE_PATTERN, 100, "community fund: the restricted purpose spent from"
            ),
            "proposal_id": _proposal,
            "documents": _documents,
        },
        optional=("purpose", "proposal_id", "documents"),
        description="Spending from the property, common-revenue or community fund.",
    ),
    "maintenance.drawn": Obj(
        {
            "amount_fen": Fen(),
            "units": ListOf(_unit, min_items=1, max_items=5000),
            "buildings": ListOf(Str(r"[0-9A-Za-z-]{1,16}", 16), min_items=1, max_items=100),
            "weights": ListOf(
                Obj({"unit": _unit, "weight": Int(0, 10**12)}), min_items=1, max_items=5000
            ),
            "payee": _payee,
            "description": _text,
            "proposal_id": _proposal,
            "emergency_id": Str(UUID_PATTERN, 36, "the emergency.declared entry it draws under"),
            "documents": _documents,
        },
        optional=("units", "buildings", "weights", "proposal_id", "emergency_id", "documents"),
        description="A repair paid from the maintenance fund, apportioned to the units in scope.",
    ),
    "transfer.made": Obj(
        {
            "from_fund": _fund,
            "to_fund": _fund,
            "amount_fen": Fen(),
            "purpose": Str(PURPOSE_PATTERN, 100, "into the community fund: a restricted purpose"),
            "description": _text,
            "proposal_id": _proposal,
        },
        optional=("purpose", "proposal_id"),
        description="Money moved between funds, e.g. net common revenue into the maintenance fund.",
    ),
    "trustee.remunerated": Obj(
        {"month": _month, "amount_fen": Fen(), "reference": _reference},
        optional=("reference",),
        description="The trustee's remuneration (酬金) for a month, within the contract's formula.",
    ),
    "surplus.refunded": Obj(
        {
            "amount_fen": Fen(),
            "year": Int(2000, 2200),
            "description": _text,
            "proposal_id": _proposal,
        },
        optional=("proposal_id",),
        description="Property-fund surplus refunded to the owners by floor area.",
    ),
    "entry.reversed": Obj(
        {"entry_id": Str(UUID_PATTERN, 36, "the money entry reversed"), "reason": _text},
        description="Undoes exactly the effect of an earlier money entry, once.",
    ),
    "bank.balance_asserted": Obj(
        {
            "fund": _fund,
            "balance_fen": Int(0, 2**53 - 1),
            "as_of": Str(DATE_PATTERN, 10),
            "reference": _reference,
        },
        optional=("reference",),
        description="What the bank statement says a fund's account holds; a difference is shown.",
    ),
}

MONEY_SIGNERS: Mapping[str, frozenset[str]] = {
    "contribution.received": frozenset({"treasurer", "trustee"}),
    "interest.credited": frozenset({"treasurer"}),
    "revenue.received": frozenset({"treasurer", "trustee"}),
    "donation.received": frozenset({"treasurer", "committee"}),
    "expense.paid": frozenset({"treasurer", "trustee"}),
    "maintenance.drawn": frozenset({"treasurer"}),
    "transfer.made": frozenset({"treasurer"}),
    "trustee.remunerated": frozenset({"treasurer", "trustee"}),
    "surplus.refunded": frozenset({"treasurer"}),
    "entry.reversed": frozenset({"treasurer", "trustee"}),
    "bank.balance_asserted": frozenset({"treasurer"}),
}
