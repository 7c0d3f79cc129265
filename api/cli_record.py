"""``glasspocket record …``: the ``record`` command group, with the setup entries.

Setup entries (units, keys, owners, the fee schedule, the trustee contract, bank
balances) are here; the money entries are in ``api.cli_money`` and registered on the
same group. Each command signs with ``--key`` and submits with ``api.cli_common.record``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli_common import (
    AtOpt,
    CommunityOpt,
    DbOpt,
    JsonOpt,
    KeyFileOpt,
    KeysOpt,
    amount_of,
    record,
    with_optional,
)
from api.cli_money import MONEY_COMMANDS

record_app = typer.Typer(help="Record a signed entry. 记录一条签名条目。", no_args_is_help=True)

UnitOpt = Annotated[str, typer.Option("--unit", help="unit code, e.g. 3-1-502")]
FromMonthOpt = Annotated[str, typer.Option("--from", help="the first month it applies to, YYYY-MM")]
ProposalOpt = Annotated[
    str | None, typer.Option("--proposal", help="the owners' decision (entry id)")
]


@record_app.command("unit")
def record_unit(
    community: CommunityOpt,
    unit: UnitOpt,
    building: Annotated[str, typer.Option("--building")],
    area_cm2: Annotated[int, typer.Option("--area-cm2", help="floor area in square centimetres")],
    owner: Annotated[str, typer.Option("--owner", help="opaque owner reference (never a name)")],
    key: KeyFileOpt,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a unit (unit.registered). 登记房屋。"""
    body = {"unit": unit, "building": building, "area_cm2": area_cm2, "owner": owner}
    record(key, community, "unit.registered", at, body, db, keys, as_json)


@record_app.command("owner")
def record_owner(
    community: CommunityOpt,
    unit: UnitOpt,
    owner: Annotated[str, typer.Option("--owner", help="the new opaque owner reference")],
    key: KeyFileOpt,
    reference: Annotated[
        str | None, typer.Option("--reference", help="e.g. the transfer's registration number")
    ] = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A unit's owner changes: a sale, an inheritance (unit.owner_changed). 业主变更。"""
    body = with_optional({"unit": unit, "owner": owner}, reference=reference)
    record(key, community, "unit.owner_changed", at, body, db, keys, as_json)


@record_app.command("key")
def record_key(
    community: CommunityOpt,
    vkey: Annotated[str, typer.Option("--vkey", help="the new key's vkey")],
    role: Annotated[str, typer.Option("--role", help="treasurer, trustee, owner or authority")],
    key: KeyFileOpt,
    owner: Annotated[
        str | None, typer.Option("--owner", help="owner keys: the owner reference")
    ] = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a key with a role (key.registered). 登记密钥。"""
    body = with_optional({"vkey": vkey, "role": role}, owner=owner)
    record(key, community, "key.registered", at, body, db, keys, as_json)


@record_app.command("revoke")
def record_revoke(
    community: CommunityOpt,
    name: Annotated[str, typer.Option("--name", help="the revoked key's name")],
    key: KeyFileOpt,
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a key (key.revoked). 吊销密钥。"""
    body: dict[str, Any] = with_optional({"name": name}, reason=reason or None)
    record(key, community, "key.revoked", at, body, db, keys, as_json)


@record_app.command("fee-schedule")
def record_fee_schedule(
    community: CommunityOpt,
    from_month: FromMonthOpt,
    key: KeyFileOpt,
    rate: Annotated[
        str | None, typer.Option("--rate", help="yuan per m² per month, e.g. 2.50")
    ] = None,
    rate_fen: Annotated[
        int | None, typer.Option("--rate-fen", help="fen per m² per month, e.g. 250")
    ] = None,
    proposal: ProposalOpt = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The property fee rate from a month on (fee.schedule_set). 物业费标准。"""
    body = {"rate_fen_per_m2": amount_of(rate, rate_fen, "rate"), "from_month": from_month}
    body = with_optional(body, proposal_id=proposal)
    record(key, community, "fee.schedule_set", at, body, db, keys, as_json)


@record_app.command("contract")
def record_contract(
    community: CommunityOpt,
    trustee: Annotated[str, typer.Option("--trustee", help="the property service company")],
    from_month: FromMonthOpt,
    key: KeyFileOpt,
    basis_points: Annotated[
        int | None,
        typer.Option("--basis-points", help="remuneration: ‱ of fees received (800 = 8%)"),
    ] = None,
    fixed_monthly: Annotated[
        str | None, typer.Option("--fixed-monthly", help="or a fixed sum per month, in yuan")
    ] = None,
    fixed_monthly_fen: Annotated[
        int | None, typer.Option("--fixed-monthly-fen", help="or a fixed sum per month, in fen")
    ] = None,
    proposal: ProposalOpt = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The trust-style property contract and its remuneration (trustee.contract_set). 信托物业合同。"""
    fixed = None
    if fixed_monthly is not None or fixed_monthly_fen is not None:
        fixed = amount_of(fixed_monthly, fixed_monthly_fen, "fixed-monthly")
    body = with_optional(
        {"trustee": trustee, "from_month": from_month},
        basis_points=basis_points,
        fixed_monthly_fen=fixed,
        proposal_id=proposal,
    )
    record(key, community, "trustee.contract_set", at, body, db, keys, as_json)


@record_app.command("bank")
def record_bank(
    community: CommunityOpt,
    fund: Annotated[str, typer.Option("--fund", help="the fund whose account it is")],
    as_of: Annotated[str, typer.Option("--as-of", help="the statement's date, YYYY-MM-DD")],
    key: KeyFileOpt,
    balance: Annotated[
        str | None, typer.Option("--balance", help="the balance in yuan, e.g. 12345.67")
    ] = None,
    balance_fen: Annotated[int | None, typer.Option("--balance-fen")] = None,
    reference: Annotated[str | None, typer.Option("--reference")] = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What the bank statement says a fund holds (bank.balance_asserted). 银行对账余额。"""
    body = {
        "fund": fund,
        "balance_fen": amount_of(balance, balance_fen, "balance"),
        "as_of": as_of,
    }
    body = with_optional(body, reference=reference)
    record(key, community, "bank.balance_asserted", at, body, db, keys, as_json)


for _name, _command in MONEY_COMMANDS:
    record_app.command(_name)(_command)
