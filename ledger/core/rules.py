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

from collections.abc import Callable
from datetime import datetime, timedelta

from ledger.core import statement_rules
from ledger.core.catalogue import SIGNER_ROLES
from ledger.core.effects import Effect
from ledger.core.entry import Entry, verify_entry_signature
from ledger.core.errors import (
    DuplicateIdError,
    FutureTimestampError,
    GenesisError,
    RoleNotAllowedError,
    UnknownSignerError,
    WrongCommunityError,
)
from ledger.core.governance_rules import (
    GOVERNANCE_CHECKS,
    GOVERNANCE_EVOLVERS,
    check_authorisation,
    spending_of,
)
from ledger.core.keys import VerifierKey
from ledger.core.money_rules import effect_of, is_money_type
from ledger.core.preverify import key_id_hex
from ledger.core.setup_rules import SETUP_CHECKS, SETUP_EVOLVERS, parse_actor_key, signer_role
from ledger.core.state import CommunityState, KeyRecord, id_key

SignatureCheck = Callable[[Entry, VerifierKey], None]
MAX_CLOCK_SKEW = timedelta(minutes=5)


def apply(
    state: CommunityState, entry: Entry, verify: SignatureCheck = verify_entry_signature
) -> CommunityState:
    """Check ``entry`` against ``state`` and fold it in; raises a ``LedgerError`` on refusal.

    ``verify`` checks the signature with the key the log names; the auditor may pass one
    that checks in parallel, never one that skips.
    """
    check_envelope(state, entry, verify)
    _evolve(state, entry, _judge_type(state, entry))  # the effect is computed once
    return state


def check(
    state: CommunityState, entry: Entry, verify: SignatureCheck = verify_entry_signature
) -> None:
    """Every check of ``apply``, in order, without changing ``state``."""
    check_envelope(state, entry, verify)
    check_type_rules(state, entry)


def judge(
    state: CommunityState, entry: Entry, verify: SignatureCheck = verify_entry_signature
) -> Effect | None:
    """``check``, giving back what ``evolve_judged`` needs to fold the entry without
    computing it again: a money entry's effect (None for other types)."""
    check_envelope(state, entry, verify)
    return _judge_type(state, entry)


def evolve_judged(state: CommunityState, entry: Entry, effect: Effect | None) -> None:
    """``evolve`` for an entry ``judge`` passed on this same state, with the effect it gave."""
    _evolve(state, entry, effect)


def check_envelope(
    state: CommunityState, entry: Entry, verify: SignatureCheck = verify_entry_signature
) -> None:
    """Checks 1-4: position, signer and signature, role, identity (not the type's rules)."""
    check_position(state, entry)
    key = resolve_signer(state, entry)
    verify(entry, key)
    check_role(state, entry)
    check_new_id(state, entry)


def evolve(state: CommunityState, entry: Entry) -> None:
    """Fold an entry that has passed ``check`` into ``state``."""
    _evolve(state, entry, _money_effect(state, entry) if is_money_type(entry.type) else None)


def _evolve(state: CommunityState, entry: Entry, effect: Effect | None) -> None:
    """``evolve`` with a money entry's effect (spending included) already computed."""
    _evolve_type(state, entry, effect)
    statement_rules.note_entry(state, entry, effect)
    state.entry_index[id_key(entry.id)] = state.size
    state.size += 1


def check_not_future(entry: Entry, now: datetime) -> None:
    """The write side's clock check: ``at`` at most five minutes ahead of ``now``."""
    if entry.at_datetime() > now + MAX_CLOCK_SKEW:
        raise FutureTimestampError(
            f"entry {entry.id}: 'at' {entry.at} is more than five minutes in the future",
            f"条目 {entry.id}：时间 {entry.at} 超前服务器时钟五分钟以上",
            entry_id=entry.id,
        )
    if entry.type == "statement.published" and entry.at_datetime() > now:
        raise FutureTimestampError(
            f"entry {entry.id}: the period ends at {entry.at}; it can be published only after that",
            f"条目 {entry.id}：该期间于 {entry.at} 结束，期满后方可发布报表",
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
    if record is None or not record.valid_at(state.size) or key_id_hex(record.vkey) != entry.key_id:
        status, status_zh = _key_status(record)
        raise UnknownSignerError(
            f"entry {entry.id}: signer {entry.signer} ({entry.key_id}) is {status} at index {state.size}",
            f"条目 {entry.id}：签名人 {entry.signer}（{entry.key_id}）在第 {state.size} 条时{status_zh}",
            entry_id=entry.id,
        )
    return record.vkey


def _key_status(record: KeyRecord | None) -> tuple[str, str]:
    if record is None:
        return "not registered", "未登记"
    if not record.live:
        return "revoked", "已被吊销"
    if record.effective_at is None:
        return "not yet in effect (awaiting the committee's approvals)", "尚未生效（待业委会批准）"
    return "not registered under that key id", "密钥编号不符"


def _founding_signer(entry: Entry) -> VerifierKey:
    for item in entry.body["keys"]:
        key = parse_actor_key(item["vkey"], entry)
        if key.name == entry.signer and key.key_id_hex == entry.key_id:
            if item["role"] != "committee":
                break
            return key
    raise UnknownSignerError(
        f"entry {entry.id}: the founding entry must be signed by one of its committee keys",
        f"条目 {entry.id}：创始条目必须由其中列出的业委会密钥签名",
        entry_id=entry.id,
    )


# --- 3. role, 4. identity ------------------------------------------------------------------------


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


# --- 5. the types --------------------------------------------------------------------------


def check_type_rules(state: CommunityState, entry: Entry) -> None:
    """The entry type's own rules; a money entry's effect must keep every balance lawful."""
    _judge_type(state, entry)


def _judge_type(state: CommunityState, entry: Entry) -> Effect | None:
    """``check_type_rules``, giving back a money entry's effect (None for other types)."""
    if is_money_type(entry.type):
        check_authorisation(state, entry)
        effect = _money_effect(state, entry)
        state.books.check(effect, entry.id)
        return effect
    if statement_rules.is_statement_entry(state, entry):
        statement_rules.check(state, entry)
    elif entry.type in GOVERNANCE_CHECKS:
        GOVERNANCE_CHECKS[entry.type](state, entry)
    else:
        SETUP_CHECKS[entry.type](state, entry)
    return None


def _money_effect(state: CommunityState, entry: Entry) -> Effect:
    return spending_of(state, entry, effect_of(state, entry))


def _evolve_type(state: CommunityState, entry: Entry, effect: Effect | None) -> None:
    if statement_rules.is_statement_entry(state, entry):
        statement_rules.evolve(state, entry)
        return
    if entry.type in GOVERNANCE_EVOLVERS:
        GOVERNANCE_EVOLVERS[entry.type](state, entry)
        return
    if effect is None:
        SETUP_EVOLVERS[entry.type](state, entry)
        return
    state.books.apply(effect)
    state.money_types[state.size] = entry.type
    if entry.type == "entry.reversed":
        cited = state.index_of(entry.body["entry_id"])
        assert cited is not None
        state.reversed.add(cited)
    else:
        state.effects[state.size] = effect
