"""The rules as a pure fold: ``apply(state, entry) -> state``.

The write side, the verifier's replay and the projections all use these
functions, so a rule exists once. ``apply`` checks first and changes the state
only after every check has passed: a refused entry leaves the state as it was.

Check order (it decides the HTTP status of a refusal):
1. position: index 0 is ``community.founded`` and nothing else is; one community per log (422);
2. signer: registered, live, key id matching, signature valid (401);
3. role: the signer's role may make this type (403);
4. identity: the id is new in this community (409);
5. the type's own rules (422).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from ledger.core.catalogue import SIGNER_ROLES
from ledger.core.entry import Entry, verify_entry_signature
from ledger.core.errors import (
    DuplicateIdError,
    DuplicateUnitError,
    FutureTimestampError,
    GenesisError,
    KeyConflictError,
    KeyFormatError,
    LedgerError,
    RoleNotAllowedError,
    RuleViolation,
    UnknownSignerError,
    UnknownUnitError,
    WrongCommunityError,
)
from ledger.core.keys import KEY_TYPE_ED25519, VerifierKey
from ledger.core.state import CommunityState, KeyRecord, Unit

SignatureCheck = Callable[[Entry, VerifierKey], None]
MAX_CLOCK_SKEW = timedelta(minutes=5)

# Which role may register a key of which role (DOMAIN.md "Who uses it"). Committee keys
# enter through the founding entry, or by election once governance entries exist.
REGISTRARS: dict[str, frozenset[str]] = {
    "treasurer": frozenset({"committee"}),
    "trustee": frozenset({"committee"}),
    "owner": frozenset({"committee", "treasurer"}),
    "authority": frozenset({"authority"}),
    "committee": frozenset(),
}


def apply(
    state: CommunityState, entry: Entry, verify: SignatureCheck = verify_entry_signature
) -> CommunityState:
    """Check ``entry`` against ``state`` and fold it in; raises a ``LedgerError`` on refusal.

    ``verify`` checks the signature with the key the log names; the auditor may pass one
    that checks in parallel, never one that skips.
    """
    check(state, entry, verify)
    evolve(state, entry)
    return state


def check(
    state: CommunityState, entry: Entry, verify: SignatureCheck = verify_entry_signature
) -> None:
    """Every check of ``apply``, in order, without changing ``state``."""
    check_position(state, entry)
    key = resolve_signer(state, entry)
    verify(entry, key)
    check_role(state, entry)
    check_new_id(state, entry)
    _TYPE_CHECKS[entry.type](state, entry)


def evolve(state: CommunityState, entry: Entry) -> None:
    """Fold an entry that has passed ``check`` into ``state``."""
    _EVOLVERS[entry.type](state, entry)
    state.entry_index[uuid.UUID(entry.id).int] = state.size
    state.size += 1


def check_not_future(entry: Entry, now: datetime) -> None:
    """The write side's clock check: ``at`` at most five minutes ahead of ``now``."""
    if entry.at_datetime() > now + MAX_CLOCK_SKEW:
        raise FutureTimestampError(
            f"entry {entry.id}: 'at' {entry.at} is more than five minutes in the future",
            f"条目 {entry.id}：时间 {entry.at} 超前服务器时钟五分钟以上",
            entry_id=entry.id,
        )


# --- 1. position ---------------------------------------------------------------------------


def check_position(state: CommunityState, entry: Entry) -> None:
    if state.size == 0 and entry.type != "community.founded":
        raise GenesisError(
            f"entry {entry.id}: index 0 must be community.founded, not {entry.type}",
            f"条目 {entry.id}：第 0 条必须是 community.founded，而不是 {entry.type}",
            entry_id=entry.id,
        )
    if state.size > 0 and entry.type == "community.founded":
        raise GenesisError(
            f"entry {entry.id}: community.founded may only stand at index 0 (found at {state.size})",
            f"条目 {entry.id}：community.founded 只能位于第 0 条（此处为第 {state.size} 条）",
            entry_id=entry.id,
        )
    if state.size > 0 and entry.community != state.community:
        raise WrongCommunityError(
            f"entry {entry.id} belongs to community {entry.community!r}, not {state.community!r}",
            f"条目 {entry.id} 属于小区 {entry.community!r}，而非 {state.community!r}",
            entry_id=entry.id,
        )


# --- 2. signer --------------------------------------------------------------------------------


def resolve_signer(state: CommunityState, entry: Entry) -> VerifierKey:
    """The key the log says ``entry.signer`` is, if that key is live at this point."""
    if entry.type == "community.founded" and state.size == 0:
        return _founding_signer(entry)
    record = state.keys.get(entry.signer)
    if record is None or not record.live or record.vkey.key_id_hex != entry.key_id:
        status = "revoked" if record is not None and not record.live else "not registered"
        status_zh = "已被吊销" if record is not None and not record.live else "未登记"
        raise UnknownSignerError(
            f"entry {entry.id}: signer {entry.signer} ({entry.key_id}) is {status} at index {state.size}",
            f"条目 {entry.id}：签名人 {entry.signer}（{entry.key_id}）在第 {state.size} 条时{status_zh}",
            entry_id=entry.id,
        )
    return record.vkey


def _founding_signer(entry: Entry) -> VerifierKey:
    for item in entry.body["keys"]:
        key = _parse_actor_key(item["vkey"], entry)
        if key.name == entry.signer and key.key_id_hex == entry.key_id:
            if item["role"] != "committee":
                break
            return key
    raise UnknownSignerError(
        f"entry {entry.id}: the founding entry must be signed by one of its committee keys",
        f"条目 {entry.id}：创始条目必须由其中列出的业委会密钥签名",
        entry_id=entry.id,
    )


def _parse_actor_key(vkey: str, entry: Entry) -> VerifierKey:
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


# --- 3. role, 4. identity ------------------------------------------------------------------------


def signer_role(state: CommunityState, entry: Entry) -> str:
    if entry.type == "community.founded" and state.size == 0:
        return "committee"
    return state.keys[entry.signer].role


def check_role(state: CommunityState, entry: Entry) -> None:
    role = signer_role(state, entry)
    if role not in SIGNER_ROLES[entry.type]:
        raise RoleNotAllowedError(
            f"entry {entry.id}: a {role} key may not make {entry.type}",
            f"条目 {entry.id}：{role} 角色的密钥无权记录 {entry.type}",
            entry_id=entry.id,
        )


def check_new_id(state: CommunityState, entry: Entry) -> None:
    index = state.index_of(entry.id)
    if index is not None:
        raise DuplicateIdError(
            f"entry id {entry.id} is already used at index {index}",
            f"条目编号 {entry.id} 已在第 {index} 条使用",
            entry_id=entry.id,
        )


# --- 5. the types -------------------------------------------------------------------------------


def _violation(
    entry: Entry, en: str, zh: str, kind: type[LedgerError] = RuleViolation
) -> LedgerError:
    return kind(f"entry {entry.id}: {en}", f"条目 {entry.id}：{zh}", entry_id=entry.id)


def _check_founded(state: CommunityState, entry: Entry) -> None:
    names: set[str] = set()
    publics: set[bytes] = set()
    for item in entry.body["keys"]:
        key = _parse_actor_key(item["vkey"], entry)
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
    for item in entry.body["keys"]:
        key = VerifierKey.parse(item["vkey"])
        state.keys[key.name] = KeyRecord(key, item["role"], registered_at=0)


def _check_key_registered(state: CommunityState, entry: Entry) -> None:
    key = _parse_actor_key(entry.body["vkey"], entry)
    role = entry.body["role"]
    registrar = signer_role(state, entry)
    if role == "committee":
        raise _violation(
            entry,
            "committee keys enter through the founding entry or an owners' election",
            "业委会密钥只能由创始条目或业主选举产生",
            RoleNotAllowedError,
        )
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


def _evolve_key_registered(state: CommunityState, entry: Entry) -> None:
    key = VerifierKey.parse(entry.body["vkey"])
    state.keys[key.name] = KeyRecord(key, entry.body["role"], state.size, entry.body.get("owner"))


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


def _check_contribution(state: CommunityState, entry: Entry) -> None:
    body = entry.body
    if body["unit"] not in state.units:
        raise _violation(
            entry,
            f"unit {body['unit']} is not registered",
            f"房号 {body['unit']} 未登记",
            UnknownUnitError,
        )
    if body["fund"] == "property" and ("month" not in body or "deposit" in body):
        raise _violation(
            entry,
            "a property fee names the month it pays for, and no deposit kind",
            "物业费须注明所缴月份，且不带维修资金缴存类型",
        )
    if body["fund"] == "maintenance" and ("deposit" not in body or "month" in body):
        raise _violation(
            entry,
            "a maintenance deposit names its kind (initial or top_up), and no month",
            "维修资金缴存须注明类型（首期或续筹），且不带月份",
        )


def _evolve_contribution(state: CommunityState, entry: Entry) -> None:
    body = entry.body
    unit, amount = body["unit"], body["amount_fen"]
    state.funds[body["fund"]] = state.balance(body["fund"]) + amount
    if body["fund"] == "maintenance":
        state.maintenance_accounts[unit] = state.maintenance_accounts.get(unit, 0) + amount
        if body["deposit"] == "initial":
            state.first_deposits[unit] = state.first_deposits.get(unit, 0) + amount
    else:
        state.property_paid[unit] = state.property_paid.get(unit, 0) + amount


_Rule = Callable[[CommunityState, Entry], None]

_TYPE_CHECKS: dict[str, _Rule] = {
    "community.founded": _check_founded,
    "key.registered": _check_key_registered,
    "key.revoked": _check_key_revoked,
    "unit.registered": _check_unit_registered,
    "contribution.received": _check_contribution,
}

_EVOLVERS: dict[str, _Rule] = {
    "community.founded": _evolve_founded,
    "key.registered": _evolve_key_registered,
    "key.revoked": _evolve_key_revoked,
    "unit.registered": _evolve_unit_registered,
    "contribution.received": _evolve_contribution,
}
