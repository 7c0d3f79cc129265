"""``glasspocket record <money type>``: one command per money entry of the catalogue.

Each command builds the entry's body from its options (amounts in yuan with ``--amount``
or in fen with ``--amount-fen``), signs it with ``--key`` and submits it with
``api.cli_common.record``. Values are checked by the ledger's own schema and rules, so
a refusal carries the same stable code as over HTTP. ``MONEY_COMMANDS`` lists them for
``api.cli_record`` to register on the ``record`` group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from api.cli_common import (
    AmountFenOpt,
    AmountOpt,
    AtOpt,
    CommunityOpt,
    DbOpt,
    JsonOpt,
    KeyFileOpt,
    KeysOpt,
    amount_of,
    record,
    usage,
    with_optional,
)

Text = Annotated[str | None, typer.Option()]
ReferenceOpt = Annotated[str | None, typer.Option("--reference", help="bank or voucher reference")]
ProposalOpt = Annotated[
    str | None, typer.Option("--proposal", help="the authorising proposal's entry id")
]
DocumentOpt = Annotated[
    list[str] | None, typer.Option("--document", help="SHA-256 of a document (repeatable)")
]
PayeeOpt = Annotated[str, typer.Option("--payee", help="who was paid (a company)")]
DescriptionOpt = Annotated[str, typer.Option("--description", help="shown on disclosures")]


def record_contribution(
    community: CommunityOpt,
    unit: Annotated[str, typer.Option("--unit", help="unit code, e.g. 3-1-502")],
    fund: Annotated[str, typer.Option("--fund", help="property or maintenance")],
    key: KeyFileOpt,
    amount: AmountOpt = None,
    amount_fen: AmountFenOpt = None,
    month: Annotated[
        str | None, typer.Option("--month", help="property fees: month paid for, YYYY-MM")
    ] = None,
    deposit: Annotated[
        str | None, typer.Option("--deposit", help="maintenance: initial or top_up")
    ] = None,
    method: Annotated[
        str | None, typer.Option("--method", help="bank, cash, wechat, alipay, other")
    ] = None,
    reference: ReferenceOpt = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Money received from a unit (contribution.received). 住户缴款。"""
    body = {"fund": fund, "unit": unit, "amount_fen": amount_of(amount, amount_fen)}
    body = with_optional(body, month=month, deposit=deposit, method=method, reference=reference)
    record(key, community, "contribution.received", at, body, db, keys, as_json)


def record_interest(
    community: CommunityOpt,
    key: KeyFileOpt,
    fund: Annotated[str, typer.Option("--fund", help="the fund credited")] = "maintenance",
    amount: AmountOpt = None,
    amount_fen: AmountFenOpt = None,
    period: Annotated[str | None, typer.Option("--period", help="e.g. 2025-06 or 2025Q2")] = None,
    reference: ReferenceOpt = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Bank interest (interest.credited); on maintenance, allocated by balance. 利息。"""
    body = {"fund": fund, "amount_fen": amount_of(amount, amount_fen)}
    body = with_optional(body, period=period, reference=reference)
    record(key, community, "interest.credited", at, body, db, keys, as_json)


def record_revenue(
    community: CommunityOpt,
    key: KeyFileOpt,
    source: Annotated[
        str, typer.Option("--source", help="parking, advertising, venue, locker, telecom, other")
    ],
    amount: AmountOpt = None,
    amount_fen: AmountFenOpt = None,
    description: Text = None,
    reference: ReferenceOpt = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Common revenue from common parts (revenue.received). 公共收益。"""
    body = {"source": source, "amount_fen": amount_of(amount, amount_fen)}
    body = with_optional(body, description=description, reference=reference)
    record(key, community, "revenue.received", at, body, db, keys, as_json)


def record_donation(
    community: CommunityOpt,
    key: KeyFileOpt,
    amount: AmountOpt = None,
    amount_fen: AmountFenOpt = None,
    kind: Annotated[
        str, typer.Option("--kind", help="donation, sponsorship or grant")
    ] = "donation",
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="the donor's restricted purpose")
    ] = None,
    donor: Annotated[
        str | None, typer.Option("--donor", help="the donor's name (needs --donor-consent)")
    ] = None,
    donor_consent: Annotated[
        bool, typer.Option("--donor-consent", help="the donor agreed to be named")
    ] = False,
    reference: ReferenceOpt = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A gift, sponsorship or grant to the community fund (donation.received). 捐赠。"""
    body = {"kind": kind, "amount_fen": amount_of(amount, amount_fen)}
    consent = True if donor_consent else None
    body = with_optional(
        body, purpose=purpose, donor=donor, donor_consent=consent, reference=reference
    )
    record(key, community, "donation.received", at, body, db, keys, as_json)


def record_expense(
    community: CommunityOpt,
    key: KeyFileOpt,
    fund: Annotated[str, typer.Option("--fund", help="property, public_revenue or community")],
    category: Annotated[
        str, typer.Option("--category", help="cleaning, security, repairs, elevator, … other")
    ],
    payee: PayeeOpt,
    description: DescriptionOpt,
    amount: AmountOpt = None,
    amount_fen: AmountFenOpt = None,
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="community fund: the purpose spent from")
    ] = None,
    proposal: ProposalOpt = None,
    document: DocumentOpt = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Spending from the property, common-revenue or community fund (expense.paid). 支出。"""
    body: dict[str, Any] = {
        "fund": fund,
        "category": category,
        "amount_fen": amount_of(amount, amount_fen),
        "payee": payee,
        "description": description,
    }
    body = with_optional(body, purpose=purpose, proposal_id=proposal, documents=document or None)
    record(key, community, "expense.paid", at, body, db, keys, as_json)


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def _weights(items: list[str] | None) -> list[dict[str, Any]] | None:
    if not items:
        return None
    weights = []
    for item in items:
        unit, _, weight = item.partition("=")
        if not weight.strip().isdigit():
            raise usage(
                f"--weight {item!r}: write UNIT=N, e.g. 1-1-101=3",
                f"--weight {item!r}：应写作 房号=整数，例如 1-1-101=3",
            )
        weights.append({"unit": unit.strip(), "weight": int(weight)})
    return weights


def record_draw(
    community: CommunityOpt,
    key: KeyFileOpt,
    payee: PayeeOpt,
    description: DescriptionOpt,
    amount: AmountOpt = None,
    amount_fen: AmountFenOpt = None,
    units: Annotated[
        str | None, typer.Option("--units", help="scope: units, e.g. 1-1-101,1-1-102")
    ] = None,
    buildings: Annotated[
        str | None, typer.Option("--buildings", help="scope: whole buildings, e.g. 2,3")
    ] = None,
    weight: Annotated[
        list[str] | None,
        typer.Option("--weight", help="agreed split: UNIT=N for each unit in scope (repeatable)"),
    ] = None,
    proposal: ProposalOpt = None,
    emergency: Annotated[
        str | None, typer.Option("--emergency", help="the emergency.declared entry id")
    ] = None,
    document: DocumentOpt = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A repair paid from the maintenance fund, apportioned to the units in scope (maintenance.drawn): by floor area, or by --weight. 维修资金支取。"""
    body: dict[str, Any] = {
        "amount_fen": amount_of(amount, amount_fen),
        "payee": payee,
        "description": description,
    }
    body = with_optional(
        body,
        units=_split(units),
        buildings=_split(buildings),
        weights=_weights(weight),
        proposal_id=proposal,
        emergency_id=emergency,
        documents=document or None,
    )
    record(key, community, "maintenance.drawn", at, body, db, keys, as_json)


def record_transfer(
    community: CommunityOpt,
    key: KeyFileOpt,
    from_fund: Annotated[str, typer.Option("--from", help="the fund money leaves")],
    to_fund: Annotated[str, typer.Option("--to", help="the fund money enters")],
    description: DescriptionOpt,
    amount: AmountOpt = None,
    amount_fen: AmountFenOpt = None,
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="into the community fund: a restricted purpose")
    ] = None,
    proposal: ProposalOpt = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Money moved between funds (transfer.made); into maintenance it is apportioned by area. 转账。"""
    body: dict[str, Any] = {
        "from_fund": from_fund,
        "to_fund": to_fund,
        "amount_fen": amount_of(amount, amount_fen),
        "description": description,
    }
    body = with_optional(body, purpose=purpose, proposal_id=proposal)
    record(key, community, "transfer.made", at, body, db, keys, as_json)


def record_remuneration(
    community: CommunityOpt,
    key: KeyFileOpt,
    month: Annotated[str, typer.Option("--month", help="the month it pays for, YYYY-MM")],
    amount: AmountOpt = None,
    amount_fen: AmountFenOpt = None,
    reference: ReferenceOpt = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The trustee's remuneration for a month, within the contract (trustee.remunerated). 酬金。"""
    body = {"month": month, "amount_fen": amount_of(amount, amount_fen)}
    body = with_optional(body, reference=reference)
    record(key, community, "trustee.remunerated", at, body, db, keys, as_json)


def record_refund(
    community: CommunityOpt,
    key: KeyFileOpt,
    year: Annotated[int, typer.Option("--year", help="the year whose surplus is refunded")],
    description: DescriptionOpt,
    amount: AmountOpt = None,
    amount_fen: AmountFenOpt = None,
    proposal: ProposalOpt = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Property-fund surplus refunded to the owners by area (surplus.refunded). 结余退还。"""
    body: dict[str, Any] = {
        "amount_fen": amount_of(amount, amount_fen),
        "year": year,
        "description": description,
    }
    body = with_optional(body, proposal_id=proposal)
    record(key, community, "surplus.refunded", at, body, db, keys, as_json)


def record_reverse(
    community: CommunityOpt,
    key: KeyFileOpt,
    entry: Annotated[str, typer.Option("--entry", help="the id of the money entry to reverse")],
    reason: Annotated[str, typer.Option("--reason", help="why, shown on disclosures")],
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Undo an earlier money entry exactly, once (entry.reversed). 冲正。"""
    body = {"entry_id": entry, "reason": reason}
    record(key, community, "entry.reversed", at, body, db, keys, as_json)


MONEY_COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("contribution", record_contribution),
    ("interest", record_interest),
    ("revenue", record_revenue),
    ("donation", record_donation),
    ("expense", record_expense),
    ("draw", record_draw),
    ("transfer", record_transfer),
    ("remuneration", record_remuneration),
    ("refund", record_refund),
    ("reverse", record_reverse),
)
