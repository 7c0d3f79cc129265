"""The rules of setup entries: the founding entry, keys, units, owners, fees, the trustee contract.

Each type has a check (raises a ``LedgerError``, changes nothing) and an evolver
(changes the state of an entry that passed every check). ``ledger.core.rules``
dispatches to them; the money types live in ``ledger.core.money_rules``.
"""

from __future__ import annotations

from collections.abc import Callable

from ledger.core.entry import Entry
from ledger.core.errors import (
    DuplicateUnitError,
    KeyConflictError,
    KeyFormatError,
    LedgerError,
    RoleNotAllowedError,
    RuleViolation,
    UnknownUnitError,
)
from ledger.core.keys import KEY_TYPE_ED25519, VerifierKey
from ledger.core.state import BankAssertion, CommunityState, KeyRecord, Unit

# Which role may register a key of which role (DOMAIN.md "Who uses it"). Committee keys
# enter through the founding entry, or by election once governance entries exist.
REGISTRARS: dict[str, frozenset[str]] = {
    "treasurer": frozenset({"committee"}),
    "trustee": frozenset({"committee"}),
    "owner": frozenset({"committee", "treasurer"}),
    "authority": frozenset({"authority"}),
    "committee": frozenset({"committee"}),
}


def parse_actor_key(vkey: str, entry: Entry) -> VerifierKey:
    try:
        key = VerifierKey.parse(vkey)
    except KeyFormatError as exc:
        raise RuleViolation(
            f"entry {entry.id}: bad key {vkey!r}: {exc.en}",
            f"条目 {entry.id}：密钥 {vkey!r} 无效：{exc.zh}",
            entry_id=entry.id,
        ) from None
    if key.key_type != KEY_TYPE_ED25519 or not key.name.startswith(f"{entry.community}/"):
        raise RuleViolation(
            f"entry {entry.id}: actor key {key.name} must be Ed25519 (type 1) named "
            f"'{entry.community}/<handle>'",
            f"条目 {entry.id}：成员密钥 {key.name} 须为 Ed25519（类型 1），名称形如 "
            f"'{entry.community}/<代号>'",
            entry_id=entry.id,
        )
    return key


def signer_role(state: CommunityState, entry: Entry) -> str:
    if entry.type == "community.founded" and state.size == 0:
        return "committee"
    return state.keys[entry.signer].role


def _violation(
    entry: Entry, en: str, zh: str, kind: type[LedgerError] = RuleViolation
) -> LedgerError:
    return kind(f"entry {entry.id}: {en}", f"条目 {entry.id}：{zh}", entry_id=entry.id)


def _check_founded(state: CommunityState, entry: Entry) -> None:
    names: set[str] = set()
    publics: set[bytes] = set()
    for item in entry.body["keys"]:
        key = parse_actor_key(item["vkey"], entry)
        if key.name in names or key.public_key in publics:
            raise _violation(
                entry, f"key {key.name} listed twice", f"密钥 {key.name} 重复列出", KeyConflictError
            )
        names.add(key.name)
        publics.add(key.public_key)


def _evolve_founded(state: CommunityState, entry: Entry) -> None:
    state.community = entry.community
    state.name = entry.body["name"]
    state.origin = entry.body["origin"]
    state.gov.charter = state.gov.charter.amended(dict(entry.body.get("charter", {})))
    for item in entry.body["keys"]:
        key = VerifierKey.parse(item["vkey"])
        state.keys[key.name] = KeyRecord(key, item["role"], registered_at=0)
    state.key_history.append(0)


def _check_key_registered(state: CommunityState, entry: Entry) -> None:
    if entry.body["role"] == "committee":
        _check_election(state, entry)
    check_registration_without_election(state, entry)


def check_registration_without_election(state: CommunityState, entry: Entry) -> None:
    """Every rule of ``key.registered`` but a committee key's election (a key chain, which
    holds no votes, checks the rest; the full audit checks the election)."""
    key = parse_actor_key(entry.body["vkey"], entry)
    role = entry.body["role"]
    registrar = signer_role(state, entry)
    if role != "committee" and "election_id" in entry.body:
        raise _violation(entry, "only committee keys cite an election", "只有业委会密钥须引用选举")
    if registrar not in REGISTRARS[role]:
        raise _violation(
            entry,
            f"a {registrar} key may not register a {role} key",
            f"{registrar} 角色无权登记 {role} 角色的密钥",
            RoleNotAllowedError,
        )
    if (role == "owner") != ("owner" in entry.body):
        raise _violation(
            entry,
            "owner keys, and only they, name an owner reference",
            "只有业主密钥须注明业主编号",
        )
    if key.name in state.keys or any(
        k.vkey.public_key == key.public_key for k in state.keys.values()
    ):
        raise _violation(
            entry,
            f"key {key.name} is already registered",
            f"密钥 {key.name} 已登记",
            KeyConflictError,
        )


def _check_election(state: CommunityState, entry: Entry) -> None:
    """Committee members are elected by the owners (art. 278 (三)): cite the election that passed."""
    election = state.gov.proposals.get(entry.body.get("election_id", ""))
    if (
        election is None
        or election.matter != "committee_election"
        or not (election.tally is not None and election.tally.passed)
    ):
        raise _violation(
            entry,
            "committee keys enter through the founding entry or an owners' election that passed",
            "业委会密钥只能由创始条目或业主选举（已通过）产生",
            RoleNotAllowedError,
        )


def _evolve_key_registered(state: CommunityState, entry: Entry) -> None:
    """Treasurer and trustee keys take effect once the committee quorum approves them; the
    registering member's signature is the first approval. Other keys take effect at once."""
    key = VerifierKey.parse(entry.body["vkey"])
    role = entry.body["role"]
    record = KeyRecord(key, role, state.size, entry.body.get("owner"), effective_at=state.size)
    state.keys[key.name] = record
    state.key_history.append(state.size)
    if role in ("treasurer", "trustee"):
        approvers = {entry.signer}
        state.gov.key_approvals[key.name] = approvers
        live = {k.vkey.name for k in state.live_keys("committee")}
        if len(approvers & live) < state.committee_quorum():
            record.effective_at = None
            state.gov.pending_keys[entry.id] = key.name


def _check_key_revoked(state: CommunityState, entry: Entry) -> None:
    name = entry.body["name"]
    record = state.keys.get(name)
    if record is None or not record.live:
        raise _violation(
            entry, f"key {name} is not a live key", f"密钥 {name} 不是有效密钥", KeyConflictError
        )
    registrar = signer_role(state, entry)
    allowed = name == entry.signer or (
        registrar == "authority" if record.role == "authority" else registrar == "committee"
    )
    if not allowed:
        raise _violation(
            entry,
            f"a {registrar} key may not revoke {name}",
            f"{registrar} 角色无权吊销 {name}",
            RoleNotAllowedError,
        )
    if record.role == "committee" and len(state.live_keys("committee")) == 1:
        raise _violation(
            entry, "the last committee key cannot be revoked", "不能吊销最后一把业委会密钥"
        )


def _evolve_key_revoked(state: CommunityState, entry: Entry) -> None:
    state.keys[entry.body["name"]].revoked_at = state.size
    state.key_history.append(state.size)


def _check_unit_registered(state: CommunityState, entry: Entry) -> None:
    if entry.body["unit"] in state.units:
        unit = entry.body["unit"]
        raise _violation(
            entry, f"unit {unit} is already registered", f"房号 {unit} 已登记", DuplicateUnitError
        )


def _evolve_unit_registered(state: CommunityState, entry: Entry) -> None:
    body = entry.body
    state.units[body["unit"]] = Unit(
        body["unit"], body["building"], body["area_cm2"], body["owner"]
    )


def _check_owner_changed(state: CommunityState, entry: Entry) -> None:
    unit = entry.body["unit"]
    if unit not in state.units:
        raise _violation(
            entry, f"unit {unit} is not registered", f"房号 {unit} 未登记", UnknownUnitError
        )
    if state.units[unit].owner == entry.body["owner"]:
        raise _violation(entry, f"unit {unit} already has this owner", f"房号 {unit} 的业主未变化")


def _evolve_owner_changed(state: CommunityState, entry: Entry) -> None:
    old = state.units[entry.body["unit"]]
    state.units[old.code] = Unit(old.code, old.building, old.area_cm2, entry.body["owner"])


def _check_fee_schedule(state: CommunityState, entry: Entry) -> None:
    """Any month may be set; the latest entry for a month wins."""


def _evolve_fee_schedule(state: CommunityState, entry: Entry) -> None:
    item = (entry.body["from_month"], entry.body["rate_fen_per_m2"])
    state.fee_schedules = sorted([*state.fee_schedules, item], key=lambda pair: pair[0])


def _check_trustee_contract(state: CommunityState, entry: Entry) -> None:
    if ("basis_points" in entry.body) == ("fixed_monthly_fen" in entry.body):
        raise _violation(
            entry,
            "a trustee contract fixes its remuneration as basis_points or fixed_monthly_fen, not both",
            "信托物业合同须约定酬金：按比例（basis_points）或固定金额（fixed_monthly_fen），二者择一",
        )


def _evolve_trustee_contract(state: CommunityState, entry: Entry) -> None:
    state.trustee_contract = dict(entry.body)
    # Kept by from_month (stable: a later entry for the same month wins), so a month is
    # judged by the contract that covered it even after a new contract is set.
    state.trustee_contracts = sorted(
        [*state.trustee_contracts, dict(entry.body)], key=lambda c: str(c["from_month"])
    )


def _check_bank_assertion(state: CommunityState, entry: Entry) -> None:
    """A bank assertion records what the bank says; a difference is a notice, never a refusal."""


def _evolve_bank_assertion(state: CommunityState, entry: Entry) -> None:
    fund = entry.body["fund"]
    state.bank[fund] = BankAssertion(
        state.size, entry.body["as_of"], entry.body["balance_fen"], state.balance(fund)
    )


Rule = Callable[[CommunityState, Entry], None]

SETUP_CHECKS: dict[str, Rule] = {
    "community.founded": _check_founded,
    "key.registered": _check_key_registered,
    "key.revoked": _check_key_revoked,
    "unit.registered": _check_unit_registered,
    "unit.owner_changed": _check_owner_changed,
    "fee.schedule_set": _check_fee_schedule,
    "trustee.contract_set": _check_trustee_contract,
    "bank.balance_asserted": _check_bank_assertion,
}

SETUP_EVOLVERS: dict[str, Rule] = {
    "community.founded": _evolve_founded,
    "key.registered": _evolve_key_registered,
    "key.revoked": _evolve_key_revoked,
    "unit.registered": _evolve_unit_registered,
    "unit.owner_changed": _evolve_owner_changed,
    "fee.schedule_set": _evolve_fee_schedule,
    "trustee.contract_set": _evolve_trustee_contract,
    "bank.balance_asserted": _evolve_bank_assertion,
}
